import type { Event, Trait } from '../../core/index.ts';
import { JsonPathEvaluationError } from '../meters/jsonpath/index.ts';
import { MalformedNotificationError, type Notification } from '../notifications/envelope.ts';
import { resolveEventConverterConfig, type EventConverterConfig } from './config.ts';
import { catchAllDefinition, matchesEventType, type EventDefinition } from './definitions.ts';
import { BAD_TIMESTAMP, EVENT_TRAIT_INVALID } from './errors.ts';
import { parseIsoTime } from './iso8601.ts';
import { PythonValueError } from './python-values.ts';
import { toTraitValue } from './trait-value.ts';

/** Event types seen are few (tens to hundreds); the bound only guards against a flood of made-up ones. */
const MAX_CACHED_EVENT_TYPES = 10_000;

/**
 * Turns notifications into events the way Ceilometer's NotificationEventsConverter does:
 * the last definition matching the event type gives the traits, Ceilometer's default
 * traits come with every event, and a notification no definition matches gets the
 * default traits alone unless `dropUnmatched`. A notification whose traits cannot be
 * converted throws MalformedNotificationError (CUMULUS_COLLECTOR_EVENT_TRAIT_INVALID), so
 * the listener dead-letters it where Ceilometer would log and lose it. Stable.
 */
export class EventConverter {
  private readonly config: EventConverterConfig;
  /** Searched in order: the file's definitions last to first, then the catch-all if one is needed. */
  private readonly definitions: readonly EventDefinition[];
  private readonly priorities: ReadonlySet<string>;
  private readonly rawPriorities: ReadonlySet<string> | 'all';
  private readonly cache = new Map<string, EventDefinition | null>();

  constructor(definitions: readonly EventDefinition[], config: Partial<EventConverterConfig> = {}) {
    this.config = resolveEventConverterConfig(config);
    // The last match wins so that a later entry can refine an earlier one through a YAML merge.
    const ordered = [...definitions].reverse();
    if (!this.config.dropUnmatched && !ordered.some((d) => d.isCatchAll)) ordered.push(catchAllDefinition());
    this.definitions = ordered;
    this.priorities = new Set(this.config.priorities);
    this.rawPriorities = this.config.storeRaw === 'all' ? 'all' : new Set(this.config.storeRaw);
  }

  /** The definition an event type converts with, or null when it is dropped. */
  definitionFor(eventType: string): EventDefinition | null {
    let found = this.cache.get(eventType);
    if (found === undefined) {
      found = this.definitions.find((d) => matchesEventType(d, eventType)) ?? null;
      if (this.cache.size >= MAX_CACHED_EVENT_TYPES) this.cache.clear();
      this.cache.set(eventType, found);
    }
    return found;
  }

  /** The event of one notification; null when its priority or event type is not converted. */
  convert(notification: Notification): Event | null {
    const priority = notification.priority.toLowerCase();
    if (!this.priorities.has(priority)) return null;
    const definition = this.definitionFor(notification.event_type);
    if (!definition) return null;
    const generated = parseIsoTime(notification.timestamp);
    if (!generated) {
      throw new MalformedNotificationError(BAD_TIMESTAMP, `notification ${notification.message_id} (${notification.event_type}) has timestamp ${JSON.stringify(notification.timestamp)}; expected an ISO 8601 time such as "2026-01-02 10:30:00.000000" (UTC when no zone is given)`);
    }
    // What Ceilometer's paths read: oslo.messaging's view of the message.
    const body = {
      ctxt: notification.context,
      publisher_id: notification.publisher_id,
      event_type: notification.event_type,
      payload: notification.payload,
      metadata: { message_id: notification.message_id, timestamp: notification.timestamp },
    };
    const traits: Trait[] = [];
    for (const trait of definition.traits) {
      let value: string | number | undefined;
      try {
        value = toTraitValue(trait.type, trait.read(body));
      } catch (err) {
        if (!(err instanceof PythonValueError || err instanceof JsonPathEvaluationError)) throw err;
        const where = definition.index < 0 ? 'the default traits' : `${definition.origin} definitions[${definition.index}]`;
        throw new MalformedNotificationError(
          EVENT_TRAIT_INVALID,
          `notification ${notification.message_id} (${notification.event_type}): trait ${trait.name} (${trait.type}, fields ${trait.fields}, from ${where}) cannot be made: ${err.message}`,
        );
      }
      if (value !== undefined) traits.push({ name: trait.name, type: trait.type, value });
    }
    const keepRaw = this.rawPriorities === 'all' || this.rawPriorities.has(priority);
    return { message_id: notification.message_id, event_type: notification.event_type, generated: generated.iso, traits, raw: keepRaw ? body : {} };
  }
}
