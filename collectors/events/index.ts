/** collectors/events: notifications to events with Ceilometer's event definitions (event_definitions.yaml). */
export { EventConverter } from './converter.ts';
export * from './config.ts';
export {
  loadEventDefinitions,
  parseEventDefinitions,
  catchAllDefinition,
  matchesEventType,
  DEFAULT_EVENT_DEFINITIONS_FILE,
  DEFAULT_TRAITS,
  joinFieldPaths,
  type EventDefinition,
  type TraitDefinition,
} from './definitions.ts';
export { EventDefinitionError, EVENT_TRAIT_INVALID } from './errors.ts';
export { TRAIT_PLUGINS } from './plugins.ts';
