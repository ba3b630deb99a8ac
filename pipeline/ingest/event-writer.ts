import { TOPICS, type Event, type Trait, type TraitType } from '../../core/index.ts';
import { DEFAULT_RETENTION_DAYS } from '../../storage/index.ts';
import { createRecordWriter, isPlainObject, isoTimeMs, parseJson, type AfterInsert, type RecordKind, type RecordWriter, type RecordWriterConfig, type RecordWriterDeps, type Validation } from './record-writer.ts';

/** The event writer's settings (retention default: DEFAULT_RETENTION_DAYS.events). Stable. */
export type EventWriterConfig = RecordWriterConfig;

export const DEFAULT_EVENT_WRITER_GROUP = 'cumulus-pipeline-events';

const TRAIT_TYPES: readonly TraitType[] = ['string', 'int', 'float', 'datetime'];
const MALFORMED = 'CUMULUS_PIPELINE_MALFORMED_EVENT';

const refuse = (reason: string) => ({ code: MALFORMED, reason });

function checkTrait(trait: unknown, index: number): string | null {
  if (!isPlainObject(trait)) return `traits[${index}] must be an object {name, type, value}`;
  const { name, type, value } = trait;
  if (typeof name !== 'string' || name === '') return `traits[${index}].name must be a non-empty string, got ${JSON.stringify(name)}`;
  if (!TRAIT_TYPES.includes(type as TraitType)) return `trait ${name}: type must be one of ${TRAIT_TYPES.join(', ')}, got ${JSON.stringify(type)}`;
  switch (type as TraitType) {
    case 'string':
      return typeof value === 'string' ? null : `trait ${name} (string) must have a string value, got ${JSON.stringify(value)}`;
    case 'int':
      // Int64 in the store; JSON numbers beyond 2^53 have already lost precision.
      return Number.isSafeInteger(value) ? null : `trait ${name} (int) must have an integer value within ±2^53, got ${JSON.stringify(value)}`;
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? null : `trait ${name} (float) must have a finite number, got ${JSON.stringify(value)}`;
    default:
      return isoTimeMs(value) !== null ? null : `trait ${name} (datetime) must be an ISO 8601 time between 1970 and 2105, got ${JSON.stringify(value)}`;
  }
}

/** Checks one stream record is a Panko-model event the store can hold. */
export function validateEvent(value: Buffer): Validation<Event> {
  const parsed = parseJson(value);
  if (!('json' in parsed)) return parsed;
  const event = parsed.json;
  if (!isPlainObject(event)) return refuse('record must be a JSON object');
  if (typeof event.message_id !== 'string' || event.message_id === '') return refuse(`message_id must be a non-empty string, got ${JSON.stringify(event.message_id)}`);
  if (typeof event.event_type !== 'string' || event.event_type === '') return refuse(`event ${event.message_id}: event_type must be a non-empty string, got ${JSON.stringify(event.event_type)}`);
  if (isoTimeMs(event.generated) === null) return refuse(`event ${event.message_id}: generated must be an ISO 8601 time between 1970 and 2105, got ${JSON.stringify(event.generated)}`);
  if (!Array.isArray(event.traits)) return refuse(`event ${event.message_id}: traits must be a list`);
  const names = new Set<string>();
  for (const [index, trait] of event.traits.entries()) {
    const problem = checkTrait(trait, index);
    if (problem !== null) return refuse(`event ${event.message_id}: ${problem}`);
    const name = (trait as Trait).name;
    // Ceilometer makes one trait per name; two would be ambiguous to every filter.
    if (names.has(name)) return refuse(`event ${event.message_id}: trait ${name} appears twice`);
    names.add(name);
  }
  if (!isPlainObject(event.raw)) return refuse(`event ${event.message_id}: raw must be a JSON object, got ${JSON.stringify(event.raw)}`);
  return { record: event as unknown as Event };
}

/** The row of `events` (migration 4): traits in one map per type, project and resource lifted out. */
export function eventRow(event: Event, retentionDays: number): object {
  const maps: Record<TraitType, Record<string, string | number>> = { string: {}, int: {}, float: {}, datetime: {} };
  for (const trait of event.traits) maps[trait.type][trait.name] = trait.value;
  // The first of these traits with a value ('' is Ceilometer's text trait of an empty field).
  const text = (...names: string[]) => {
    for (const name of names) {
      const found = event.traits.find((t) => t.name === name);
      if (found !== undefined && found.value !== '') return String(found.value);
    }
    return '';
  };
  return {
    message_id: event.message_id,
    event_type: event.event_type,
    generated: event.generated,
    project_id: text('project_id', 'tenant_id'),
    resource_id: text('resource_id'),
    traits_string: maps.string,
    traits_int: maps.int,
    traits_float: maps.float,
    traits_datetime: maps.datetime,
    raw: JSON.stringify(event.raw),
    retention_days: retentionDays,
  };
}

export const EVENT_RECORDS: RecordKind<Event> = {
  noun: 'event',
  configKey: 'pipeline.events',
  topic: TOPICS.events,
  table: 'events',
  defaultRetentionDays: DEFAULT_RETENTION_DAYS.events,
  validate: validateEvent,
  timeOf: (event) => isoTimeMs(event.generated) as number,
  toRow: eventRow,
};

/** Consumes `cumulus.events` into `events` with exactly-once effect. Stable. */
export function createEventWriter(config: EventWriterConfig, deps: RecordWriterDeps & { afterInsert?: AfterInsert<Event> }): RecordWriter {
  return createRecordWriter(EVENT_RECORDS, config, deps);
}
