/**
 * cloud/deployment (experimental): the deployment model of the embedded cloud (three
 * controllers, compute and storage hosts, the processes on each) and fault injection on
 * it (stop, kill, start, restart, slow, fail-host, recover-host), with the log lines,
 * audit trail, CADF notifications and API effects (the fault gate) each fault has.
 */
export * from './config.ts';
export * from './errors.ts';
export * from './model.ts';
export { createDeployment, Deployment, type DeploymentDeps } from './deployment.ts';
export { DEFAULT_GATED_APIS, HAPROXY_503_BODY, registerFaultGate, type FaultGateOptions, type GatedApi } from './gate.ts';
export { registerDeploymentRoutes } from './routes.ts';
export { FAULT_EXCHANGE, FAULT_PUBLISHER_ID, faultEventType } from './notifications.ts';
export { PROCESS_SPECS, ROLE_PROCESSES, type HostRole, type ProcessSpec } from './topology.ts';
