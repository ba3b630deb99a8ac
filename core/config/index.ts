export { loadConfig } from './load.ts';
export { configSchema, type CumulusConfig, type ConfigInput } from './schema.ts';
export * from './schema.ts';
