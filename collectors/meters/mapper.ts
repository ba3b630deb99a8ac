import { sampleId, signSample, type Sample } from '../../core/index.ts';
import { MalformedNotificationError, normaliseTimestamp, type Notification } from '../notifications/envelope.ts';
import type { MeterDefinition } from './definitions.ts';

/** The message a jsonpath reads: Ceilometer's view of a notification (payload plus envelope fields). */
function messageView(n: Notification): Record<string, unknown> {
  return { payload: n.payload, event_type: n.event_type, publisher_id: n.publisher_id, priority: n.priority, timestamp: n.timestamp, message_id: n.message_id, ctxt: n.context };
}

function read(source: MeterDefinition['volume'], view: unknown): unknown {
  if (source.kind === 'literal') return source.value;
  const values = source.extract(view);
  return values.length === 0 ? undefined : values[0];
}

/**
 * Turns one notification into the samples its matching meter definitions give, signed
 * with the metering secret. A definition whose required field is missing from the
 * payload is a malformed message for that meter: the whole message goes to dead letters
 * rather than yielding part of its samples, so it can be replayed once fixed.
 */
export class MeterMapper {
  private readonly cache = new Map<string, MeterDefinition[]>();

  constructor(
    private readonly definitions: readonly MeterDefinition[],
    private readonly secret: string,
    private readonly source = 'openstack',
  ) {}

  private definitionsFor(eventType: string): MeterDefinition[] {
    let found = this.cache.get(eventType);
    if (!found) {
      found = this.definitions.filter((d) => d.eventTypes.some((re) => re.test(eventType)));
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(eventType, found);
    }
    return found;
  }

  map(notification: Notification): Sample[] {
    const definitions = this.definitionsFor(notification.event_type);
    if (definitions.length === 0) return [];
    const timestamp = normaliseTimestamp(notification.timestamp);
    if (!timestamp) throw new MalformedNotificationError('CUMULUS_COLLECTOR_BAD_TIMESTAMP', `notification ${notification.message_id} has timestamp ${JSON.stringify(notification.timestamp)}; expected "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) or ISO 8601`);
    const view = messageView(notification);
    return definitions.map((definition) => {
      const volumeRaw = read(definition.volume, view);
      const volume = typeof volumeRaw === 'number' ? volumeRaw : typeof volumeRaw === 'string' && volumeRaw.trim() !== '' ? Number(volumeRaw) : NaN;
      if (!Number.isFinite(volume)) throw new MalformedNotificationError('CUMULUS_COLLECTOR_MISSING_FIELD', `meter ${definition.name}: volume of ${notification.event_type} ${notification.message_id} is ${JSON.stringify(volumeRaw)}; a number is required`);
      const resourceId = read(definition.resourceId, view);
      if (typeof resourceId !== 'string' || resourceId === '') throw new MalformedNotificationError('CUMULUS_COLLECTOR_MISSING_FIELD', `meter ${definition.name}: resource_id of ${notification.event_type} ${notification.message_id} is missing`);
      const projectId = definition.projectId ? read(definition.projectId, view) : undefined;
      const userId = definition.userId ? read(definition.userId, view) : undefined;
      const metadata: Record<string, unknown> = {};
      for (const [key, field] of definition.metadata) {
        const value = read(field, view);
        if (value !== undefined) metadata[key] = value;
      }
      metadata.event_type = notification.event_type;
      // Ceilometer's fallback: the publisher (e.g. compute.host1) when the definition names no host.
      if (metadata.host === undefined) metadata.host = notification.publisher_id;
      return signSample(
        {
          id: sampleId(notification.message_id, definition.name, resourceId),
          name: definition.name,
          type: definition.type,
          unit: definition.unit,
          volume,
          user_id: typeof userId === 'string' ? userId : null,
          project_id: typeof projectId === 'string' ? projectId : null,
          resource_id: resourceId,
          timestamp,
          resource_metadata: metadata,
          source: this.source,
          message_id: notification.message_id,
        },
        this.secret,
      );
    });
  }
}
