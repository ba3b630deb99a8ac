/** collectors/: Ceilometer-compatible collection from the bus, published to the stream. */
export { createNotificationListener, type NotificationListenerDeps } from './notifications/listener.ts';
export * from './notifications/config.ts';
export { openEnvelope, normaliseTimestamp, MalformedNotificationError, type Notification } from './notifications/envelope.ts';
export { MeterMapper } from './meters/mapper.ts';
export { loadMeterDefinitions, parseMeterDefinitions, DEFAULT_METERS_FILE, type MeterDefinition } from './meters/definitions.ts';
export { MeterDefinitionError } from './meters/errors.ts';
export * from './offline/index.ts';
