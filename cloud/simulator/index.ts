/** cloud/simulator: seeded tenants playing the control plane's APIs, with a time warp. Experimental. */
export { TenantSimulator, type SimulatorDeps, type SimulationSummary } from './simulator.ts';
export * from './config.ts';
export type { ApiClient, ApiRequest, ApiResponse } from './api-client.ts';
export { DEFAULT_LOAD_MODEL, demand, diurnal, weekly, growth, type LoadModel } from './load-model.ts';
export { SeededRandom } from './random.ts';
