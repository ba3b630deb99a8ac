export * from './types.ts';
export { InProcessBus } from './in-process.ts';
export { AmqpBus, redactUrl, DEFAULT_AMQP_PUBLISH_TIMEOUT_MS, type AmqpBusConfig } from './amqp.ts';
