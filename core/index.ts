/** core/: the contracts and plumbing every stage shares. Import from here, not from files inside. */
export * from './errors.ts';
export * from './lifecycle.ts';
export * from './clock.ts';
export * from './logger.ts';
export * from './auth.ts';
export * from './state-store.ts';
export * from './config/index.ts';
export * from './records/index.ts';
export * from './bus/index.ts';
export * from './stream/index.ts';
export * from './telemetry.ts';
export * from './compute-inspection.ts';
