export * from './measures.ts';
export * from './aggregates.ts';
export * from './metrics.ts';
export * from './metric-list.ts';
export * from './resources.ts';
export * from './events.ts';
export * from './audit.ts';
export * from './logs.ts';
