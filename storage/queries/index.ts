export * from './measures.ts';
export * from './metrics.ts';
