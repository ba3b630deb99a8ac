/** Rating (CloudKitty's model): the contract, exact money, rules and their stores, shared by pipeline/ and api/. */
export * from './types.ts';
export * from './money.ts';
