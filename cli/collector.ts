import { resolve } from 'node:path';
import { createDropCollector, createNotificationListener, DEFAULT_EVENT_DEFINITIONS_FILE, DEFAULT_METERS_FILE, EventConverter, loadEventDefinitions, DEFAULT_NOTIFICATION_LISTENER_CONFIG, loadMeterDefinitions, MeterMapper } from '../collectors/index.ts';
import { AmqpBus, ConfigError, DEFAULT_AMQP_PUBLISH_TIMEOUT_MS, DEFAULT_KAFKA_PARTITIONS, DEFAULT_KAFKA_REPLICATION_FACTOR, KafkaStream, TelemetryRegistry, systemClock, type CumulusConfig, type Lifecycle, type Logger } from '../core/index.ts';
import { persistentSecret } from './secrets.ts';

export interface CollectorStage extends Lifecycle {
  readonly telemetry: TelemetryRegistry;
}

/**
 * `cumulus collector`: the collection stage alone, in its own process, between a real
 * RabbitMQ and a real Kafka. It shares the metering secret with the pipeline through the
 * data folder (or CUMULUS_METERING_SECRET).
 */
export async function startCollectorStage(config: CumulusConfig, logger: Logger, options: { queue?: string; metersFile?: string } = {}): Promise<CollectorStage> {
  if (config.bus.kind !== 'amqp' || !config.bus.amqpUrl) throw new ConfigError('the collector stage runs between RabbitMQ and Kafka: set AMQP_URL');
  if (config.stream.kind !== 'kafka') throw new ConfigError('the collector stage runs between RabbitMQ and Kafka: set KAFKA_BROKERS');
  const meteringSecret = persistentSecret(resolve(config.dataDir), 'metering-secret', config.meteringSecret, 32).value;
  const telemetry = new TelemetryRegistry();
  const bus = new AmqpBus({ url: config.bus.amqpUrl, durableExchanges: false, publishTimeoutMs: DEFAULT_AMQP_PUBLISH_TIMEOUT_MS }, logger.child({ component: 'bus' }));
  const stream = new KafkaStream({ brokers: config.stream.brokers, clientId: `${config.stream.clientId}-collector`, partitions: DEFAULT_KAFKA_PARTITIONS, replicationFactor: DEFAULT_KAFKA_REPLICATION_FACTOR }, logger.child({ component: 'stream' }));
  const drops = createDropCollector();
  const listener = createNotificationListener(
    { ...DEFAULT_NOTIFICATION_LISTENER_CONFIG, queue: options.queue ?? DEFAULT_NOTIFICATION_LISTENER_CONFIG.queue },
    {
      bus,
      stream,
      mapper: new MeterMapper(loadMeterDefinitions(options.metersFile ?? DEFAULT_METERS_FILE), meteringSecret, { onDrop: drops.onDrop }),
      drops,
      events: new EventConverter(loadEventDefinitions(DEFAULT_EVENT_DEFINITIONS_FILE)),
      clock: systemClock,
      logger: logger.child({ component: 'collector' }),
      telemetry: telemetry.component('collector.notifications'),
    },
  );
  // Order: the stream first (where records go), then the bus (where they come from).
  await stream.start();
  await bus.start();
  await listener.start();
  return {
    telemetry,
    async start() {},
    async stop() {
      await listener.stop();
      await bus.stop();
      await stream.stop();
    },
  };
}
