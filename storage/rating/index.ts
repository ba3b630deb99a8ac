/** Rating (CloudKitty's model): the contract, exact money, rules and their stores, shared by pipeline/ and api/. */
export * from './types.ts';
export * from './money.ts';
export * from './statement.ts';
export * from './statement-store.ts';
export * from './statement-issue.ts';
export * from './hashmap.ts';
export * from './hashmap-store.ts';
export * from './reprocess-store.ts';
