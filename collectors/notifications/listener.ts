import { TOPICS, errorMessage, refusedByReason, type Bus, type BusConsumerHandle, type BusDelivery, type Clock, type ComponentTelemetry, type DeadLetter, type Event, type Lifecycle, type Logger, type Sample, type Stream, type StreamRecord } from '../../core/index.ts';
import { ConfigError } from '../../core/index.ts';
import { auditStreamRecord, toAuditRecord } from '../audit/index.ts';
import { deadLetter } from '../dead-letter.ts';
import type { EventConverter } from '../events/converter.ts';
import type { DroppedSample, MeterMapper } from '../meters/mapper.ts';
import type { NotificationListenerConfig } from './config.ts';
import { MalformedNotificationError, openEnvelope } from './envelope.ts';

export interface NotificationListenerDeps {
  bus: Bus;
  stream: Stream;
  mapper: MeterMapper;
  /** The samples the mapper dropped (its onDrop), read after each notification: see createDropCollector. */
  drops?: { take(): DroppedSample[] };
  /** Turns notifications into events too (cumulus.events); none: samples and audit only. */
  events?: EventConverter;
  clock: Clock;
  logger: Logger;
  telemetry: ComponentTelemetry;
}

/**
 * Collects the samples a MeterMapper drops (Ceilometer drops a sample whose field is
 * missing and keeps the notification's others). Pass `onDrop` to the mapper and the
 * collector to the listener: the listener dead-letters such a notification with the reason,
 * so the dropped sample is never lost silently; a replay regenerates the kept samples
 * with the same ids.
 */
export function createDropCollector(): { onDrop(drop: DroppedSample): void; take(): DroppedSample[] } {
  let pending: DroppedSample[] = [];
  return {
    onDrop: (drop) => void pending.push(drop),
    take: () => {
      const taken = pending;
      pending = [];
      return taken;
    },
  };
}

function sampleRecord(sample: Sample): StreamRecord {
  return { key: sample.resource_id, value: Buffer.from(JSON.stringify(sample)) };
}

/** Keyed by the resource the event is about, so one resource's events stay in order. */
function eventRecord(event: Event): StreamRecord {
  const resource = event.traits.find((t) => t.name === 'resource_id')?.value;
  return { key: typeof resource === 'string' ? resource : event.message_id, value: Buffer.from(JSON.stringify(event)) };
}

function deadRecord(letter: DeadLetter): StreamRecord {
  return { key: null, value: Buffer.from(JSON.stringify(letter)) };
}

/**
 * Listens on the control exchanges like Ceilometer's notification agent and hands the
 * derived samples, and the audit records of CADF notifications (`audit.http.*`,
 * `identity.*`, `cloud.fault.*`), to the stream. A batch is acknowledged on the bus only
 * after the stream durably took every record of it; malformed messages (malformed CADF
 * included) go to dead letters with their reason and bytes, and never stop the listener.
 */
export function createNotificationListener(config: NotificationListenerConfig, deps: NotificationListenerDeps): Lifecycle & { consume(batch: readonly BusDelivery[]): Promise<void> } {
  if (config.exchanges.length === 0) throw new ConfigError('collectors.notifications.exchanges must name at least one control exchange (e.g. nova)');
  if (!Number.isInteger(config.batchSize) || config.batchSize < 1) throw new ConfigError(`collectors.notifications.batchSize must be a whole number >= 1, got ${config.batchSize}`);
  let handle: BusConsumerHandle | null = null;

  const consume = async (batch: readonly BusDelivery[]): Promise<void> => {
    const started = deps.clock.nowMs();
    const samples: StreamRecord[] = [];
    const audit: StreamRecord[] = [];
    const events: StreamRecord[] = [];
    const dead: DeadLetter[] = [];
    for (const delivery of batch) {
      try {
        const notification = openEnvelope(delivery.body);
        // Every derivation before any is kept: a message one of them refuses goes to dead letters whole.
        deps.drops?.take();
        const mapped = deps.mapper.map(notification);
        const dropped = deps.drops?.take() ?? [];
        if (dropped.length > 0) {
          const reason = dropped.map((d) => `meter ${d.meter}: ${d.reason}`).join('; ');
          dead.push(deadLetter(deps.clock, 'CUMULUS_COLLECTOR_MISSING_FIELD', `${notification.event_type} ${notification.message_id}: ${reason}`, { exchange: delivery.exchange, routing_key: delivery.routingKey }, delivery.body));
        }
        const audited = toAuditRecord(notification);
        const event = deps.events?.convert(notification) ?? null;
        for (const sample of mapped) samples.push(sampleRecord(sample));
        if (audited) audit.push(auditStreamRecord(audited));
        if (event) events.push(eventRecord(event));
      } catch (err) {
        if (!(err instanceof MalformedNotificationError)) throw err;
        dead.push(deadLetter(deps.clock, err.code, err.message, { exchange: delivery.exchange, routing_key: delivery.routingKey }, delivery.body));
      }
    }
    // 1. hand samples, audit records, events and dead letters to the stream (resolves once durable);
    // 2. only then does resolving let the bus acknowledge the batch. A crash between the
    //    two redelivers the batch; deterministic ids (and events' message ids) make the replay harmless.
    await deps.stream.send(TOPICS.samples, samples);
    if (audit.length > 0) await deps.stream.send(TOPICS.audit, audit);
    if (events.length > 0) await deps.stream.send(TOPICS.events, events);
    await deps.stream.send(TOPICS.dead, dead.map(deadRecord));
    deps.telemetry.accepted(batch.length - dead.length);
    refusedByReason(deps.telemetry, dead.map((d) => d.code));
    deps.telemetry.observeBatch(deps.clock.nowMs() - started);
    if (dead.length > 0) deps.logger.warn({ count: dead.length }, 'notifications sent to dead letters');
  };

  return {
    consume,
    async start() {
      if (handle) return;
      handle = await deps.bus.subscribe(
        {
          queue: config.queue,
          bindings: config.exchanges.map((exchange) => ({ exchange, routingKey: 'notifications.*' })),
          batchSize: config.batchSize,
          batchWaitMs: config.batchWaitMs,
        },
        { consume },
      );
    },
    async stop() {
      const current = handle;
      handle = null;
      await current?.close().catch((err: unknown) => deps.logger.warn({ err: errorMessage(err) }, 'closing the notification queue failed'));
    },
  };
}
