import { TOPICS, errorMessage, type Bus, type BusConsumerHandle, type BusDelivery, type Clock, type ComponentTelemetry, type DeadLetter, type Lifecycle, type Logger, type Sample, type Stream, type StreamRecord } from '../../core/index.ts';
import { ConfigError } from '../../core/index.ts';
import { deadLetter } from '../dead-letter.ts';
import type { MeterMapper } from '../meters/mapper.ts';
import type { NotificationListenerConfig } from './config.ts';
import { MalformedNotificationError, openEnvelope } from './envelope.ts';

export interface NotificationListenerDeps {
  bus: Bus;
  stream: Stream;
  mapper: MeterMapper;
  clock: Clock;
  logger: Logger;
  telemetry: ComponentTelemetry;
}

function sampleRecord(sample: Sample): StreamRecord {
  return { key: sample.resource_id, value: Buffer.from(JSON.stringify(sample)) };
}

function deadRecord(letter: DeadLetter): StreamRecord {
  return { key: null, value: Buffer.from(JSON.stringify(letter)) };
}

/**
 * Listens on the control exchanges like Ceilometer's notification agent and hands the
 * derived samples to the stream. A batch is acknowledged on the bus only after the
 * stream durably took every record of it; malformed messages go to dead letters with
 * their reason and bytes, and never stop the listener.
 */
export function createNotificationListener(config: NotificationListenerConfig, deps: NotificationListenerDeps): Lifecycle & { consume(batch: readonly BusDelivery[]): Promise<void> } {
  if (config.exchanges.length === 0) throw new ConfigError('collectors.notifications.exchanges must name at least one control exchange (e.g. nova)');
  if (!Number.isInteger(config.batchSize) || config.batchSize < 1) throw new ConfigError(`collectors.notifications.batchSize must be a whole number >= 1, got ${config.batchSize}`);
  let handle: BusConsumerHandle | null = null;

  const consume = async (batch: readonly BusDelivery[]): Promise<void> => {
    const started = deps.clock.nowMs();
    const samples: StreamRecord[] = [];
    const dead: StreamRecord[] = [];
    for (const delivery of batch) {
      try {
        const notification = openEnvelope(delivery.body);
        for (const sample of deps.mapper.map(notification)) samples.push(sampleRecord(sample));
      } catch (err) {
        if (!(err instanceof MalformedNotificationError)) throw err;
        dead.push(deadRecord(deadLetter(deps.clock, err.code, err.message, { exchange: delivery.exchange, routing_key: delivery.routingKey }, delivery.body)));
      }
    }
    // 1. hand the samples and dead letters to the stream (resolves once durable);
    // 2. only then does resolving let the bus acknowledge the batch. A crash between the
    //    two redelivers the batch; the samples' deterministic ids make the replay harmless.
    await deps.stream.send(TOPICS.samples, samples);
    await deps.stream.send(TOPICS.dead, dead);
    deps.telemetry.accepted(batch.length - dead.length);
    deps.telemetry.refused(dead.length);
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
