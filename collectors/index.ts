/** collectors/: Ceilometer-compatible collection from the bus, published to the stream. */
export { createDropCollector, createNotificationListener, type NotificationListenerDeps } from './notifications/listener.ts';
export * from './notifications/config.ts';
export { openEnvelope, normaliseTimestamp, MalformedNotificationError, type Notification } from './notifications/envelope.ts';
export { MeterMapper } from './meters/mapper.ts';
export { loadMeterDefinitions, parseMeterDefinitions, DEFAULT_METERS_FILE, type MeterDefinition } from './meters/definitions.ts';
export { MeterDefinitionError } from './meters/errors.ts';
export * from './offline/index.ts';
export * from './audit/index.ts';
export * from './logs/index.ts';
export { EventConverter, loadEventDefinitions, parseEventDefinitions, DEFAULT_EVENT_DEFINITIONS_FILE, DEFAULT_EVENT_CONVERTER_CONFIG, EventDefinitionError, EVENT_TRAIT_INVALID, type EventConverterConfig, type EventDefinition } from './events/index.ts';
