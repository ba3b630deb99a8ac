/** alerts/: Aodh-compatible alarm evaluation and Alertmanager-style routing (issue 8). */
export type { AlarmTransition, TransitionSink } from './contracts.ts';
export * from './evaluator/index.ts';
export * from './routing/index.ts';
export * from './receivers/index.ts';
export * from './checks/index.ts';
export * from './status/index.ts';
