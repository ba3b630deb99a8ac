import { afterEach, describe, expect, it } from 'vitest';
import {
  InProcessBus,
  InProcessStream,
  ManualClock,
  TOPICS,
  TelemetryRegistry,
  sampleId,
  silentLogger,
  verifySampleSignature,
  type DeadLetter,
  type Lifecycle,
  type Sample,
  type Stream,
  type StreamConsumer,
  type StreamConsumerHandle,
  type StreamRecord,
  type StreamSubscription,
} from '../../core/index.ts';
import { DEFAULT_METERS_FILE, loadMeterDefinitions } from '../meters/definitions.ts';
import { MeterMapper } from '../meters/mapper.ts';
import type { NotificationListenerConfig } from './config.ts';
import { createDropCollector, createNotificationListener } from './listener.ts';
import { openEnvelope } from './envelope.ts';

const SECRET = 'metering-secret-for-tests-0123';
const NOW = new Date('2026-01-02T03:04:10.000Z');

async function until(condition: () => boolean, what: string, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** An oslo v2 compute.instance.create.end for one instance, as nova emits it. */
function createEnd(messageId: string, instanceId: string): Buffer {
  const message = {
    message_id: messageId,
    publisher_id: 'compute.compute-1',
    event_type: 'compute.instance.create.end',
    priority: 'INFO',
    timestamp: '2026-01-02 03:04:05.000000',
    _context_request_id: 'req-1',
    _context_user_id: 'u-1',
    _context_project_id: 'p-1',
    payload: {
      tenant_id: 'p-1',
      user_id: 'u-1',
      instance_id: instanceId,
      display_name: instanceId,
      instance_type: 'm1.small',
      instance_flavor_id: '2',
      vcpus: 1,
      memory_mb: 2048,
      root_gb: 20,
      ephemeral_gb: 0,
      disk_gb: 20,
      host: 'compute-1',
      state: 'active',
      created_at: '2026-01-02 03:03:00+00:00',
      launched_at: '2026-01-02 03:04:00+00:00',
      image_meta: { base_image_ref: 'img-1' },
    },
  };
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(message) }));
}

/** Samples the shipped meter set gives one realistic create.end (computed, so the tests follow the meter set). */
const PROBE = new MeterMapper(loadMeterDefinitions(DEFAULT_METERS_FILE), SECRET).map(openEnvelope(createEnd('probe', 'probe')));
const PER_MESSAGE = PROBE.length;
/** The meters one create.end gives: at least Ceilometer's instance, memory and vcpus. */
const METERS = PROBE.map((s) => s.name).sort();

const MALFORMED = Buffer.from('{"oslo.version": "2.0", "oslo.message": "{not json"}');

/**
 * A fault injector in front of a real stream: the sends whose call number (0-based) is
 * in `failing` reject without touching the log, as a broker refusing a produce would.
 */
class FlakyStream implements Stream {
  readonly kind = 'memory' as const;
  calls = 0;
  failures = 0;

  constructor(
    private readonly inner: Stream,
    private readonly failing: ReadonlySet<number>,
  ) {}

  async start(): Promise<void> {
    await this.inner.start();
  }

  async stop(): Promise<void> {
    await this.inner.stop();
  }

  async send(topic: string, records: readonly StreamRecord[]): Promise<void> {
    const call = this.calls++;
    if (this.failing.has(call)) {
      this.failures++;
      throw new Error(`injected failure of send #${call} to ${topic}`);
    }
    await this.inner.send(topic, records);
  }

  subscribe(subscription: StreamSubscription, consumer: StreamConsumer): Promise<StreamConsumerHandle> {
    return this.inner.subscribe(subscription, consumer);
  }
}

interface Received {
  topic: string;
  key: string | null;
  value: Record<string, unknown>;
}

describe('notification listener', () => {
  const config: NotificationListenerConfig = { queue: 'cumulus.notifications.test', exchanges: ['nova'], batchSize: 10, batchWaitMs: 5 };
  const running: Lifecycle[] = [];
  let reader: StreamConsumerHandle | null = null;

  afterEach(async () => {
    await reader?.close();
    reader = null;
    for (const component of running.splice(0).reverse()) await component.stop();
  });

  async function setup(failing: ReadonlySet<number> = new Set()) {
    const bus = new InProcessBus(silentLogger());
    const log = new InProcessStream(3, silentLogger());
    await bus.start();
    await log.start();
    running.push(bus, log);
    const stream = new FlakyStream(log, failing);
    const registry = new TelemetryRegistry();
    const telemetry = registry.component('collector.notifications');
    const drops = createDropCollector();
    const listener = createNotificationListener(config, {
      bus,
      stream,
      mapper: new MeterMapper(loadMeterDefinitions(DEFAULT_METERS_FILE), SECRET, { onDrop: drops.onDrop }),
      drops,
      clock: new ManualClock(NOW),
      logger: silentLogger(),
      telemetry,
    });
    running.push(listener);
    const received: Received[] = [];
    reader = await log.subscribe({ groupId: 'test-reader', topics: [TOPICS.samples, TOPICS.audit, TOPICS.dead], fromBeginning: true, maxBatchRecords: 100 }, {
      async consume(batch) {
        for (const r of batch.records) received.push({ topic: batch.topic, key: r.key, value: JSON.parse(r.value.toString()) as Record<string, unknown> });
      },
    });
    const publish = (body: Buffer) => bus.publish({ exchange: 'nova', routingKey: 'notifications.info', body });
    return { bus, stream, listener, telemetry, received, publish };
  }

  const samplesOf = (received: Received[]) => received.filter((r) => r.topic === TOPICS.samples);
  const deadOf = (received: Received[]) => received.filter((r) => r.topic === TOPICS.dead);
  const expectedIds = (messageId: string, instanceId: string) => METERS.map((name) => sampleId(messageId, name, instanceId));

  it('publishes samples keyed by resource id, dead-letters a malformed message with its code and bytes, and keeps going', async () => {
    const { bus, listener, telemetry, received, publish } = await setup();
    await listener.start();
    await publish(createEnd('msg-1', 'inst-1'));
    await publish(MALFORMED);
    await until(() => samplesOf(received).length === PER_MESSAGE && deadOf(received).length === 1, 'samples and the dead letter');

    const samples = samplesOf(received);
    for (const record of samples) {
      expect(record.key).toBe('inst-1');
      expect(record.value.resource_id).toBe('inst-1');
      expect(verifySampleSignature(record.value as unknown as Sample, SECRET)).toBe(true);
    }
    expect(samples.map((r) => r.value.name).sort()).toEqual(METERS);
    expect(new Set(samples.map((r) => r.value.id))).toEqual(new Set(expectedIds('msg-1', 'inst-1')));

    const letter = deadOf(received)[0]?.value as unknown as DeadLetter;
    expect(letter).toMatchObject({
      stage: 'collector',
      code: 'CUMULUS_COLLECTOR_MALFORMED_JSON',
      origin: { exchange: 'nova', routing_key: 'notifications.info' },
      refused_at: NOW.toISOString(),
    });
    expect(letter.reason).toMatch(/oslo\.message is not JSON/);
    expect(Buffer.from(letter.payload_base64, 'base64').equals(MALFORMED)).toBe(true);

    // The listener keeps going after a malformed message.
    await publish(createEnd('msg-2', 'inst-2'));
    await until(() => samplesOf(received).length === 2 * PER_MESSAGE, 'samples of the next message');
    expect(samplesOf(received).slice(PER_MESSAGE).every((r) => r.key === 'inst-2')).toBe(true);
    await until(() => bus.depth(config.queue) === 0, 'the queue to be acknowledged');
    expect(telemetry.snapshot()).toMatchObject({ accepted: 2, refused: 1 });
  });

  it('dead-letters a message whose payload lacks a meter field, keeping its other samples as Ceilometer does', async () => {
    const { listener, received, publish } = await setup();
    await listener.start();
    const body = JSON.parse(createEnd('msg-3', 'inst-3').toString()) as Record<string, string>;
    const inner = JSON.parse(body['oslo.message'] as string) as { payload: Record<string, unknown> };
    delete inner.payload.vcpus;
    const broken = Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }));
    await publish(broken);
    await publish(createEnd('msg-4', 'inst-4'));
    await until(() => deadOf(received).length === 1 && samplesOf(received).filter((r) => r.key === 'inst-4').length >= 3, 'the dead letter and the good samples');
    const letter = deadOf(received)[0]?.value as { code: string; reason: string; payload_base64: string };
    expect(letter.code).toBe('CUMULUS_COLLECTOR_MISSING_FIELD');
    expect(letter.reason).toContain('vcpus');
    expect(Buffer.from(letter.payload_base64, 'base64')).toEqual(broken);
    // The broken message's other meters are kept; its vcpus sample is not invented.
    const broken3 = samplesOf(received).filter((r) => r.key === 'inst-3').map((r) => (r.value as { name: string }).name);
    expect(broken3).toContain('instance');
    expect(broken3).not.toContain('vcpus');
  });

  it('sends CADF audit notifications to cumulus.audit keyed by the CADF id, and dead-letters a malformed one', async () => {
    const { listener, received, publish } = await setup();
    await listener.start();
    const cadf = {
      typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
      eventType: 'activity',
      id: 'cadf-1',
      eventTime: '2026-01-02T03:04:05.000000+0000',
      action: 'read/list',
      outcome: 'success',
      observer: { id: 'target' },
      initiator: { id: 'u-1', typeURI: 'service/security/account/user', host: { address: '203.0.113.7' }, project_id: 'p-1', request_id: 'req-1' },
      target: { id: 'nova', typeURI: 'service/compute/servers' },
      reason: { reasonType: 'HTTP', reasonCode: '200' },
    };
    const audit = (messageId: string, payload: Record<string, unknown>) =>
      Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify({ message_id: messageId, publisher_id: 'nova', event_type: 'audit.http.response', priority: 'INFO', payload, timestamp: '2026-01-02 03:04:05.000000' }) }));
    await publish(audit('a-1', cadf));
    const { eventTime: _dropped, ...noTime } = cadf;
    await publish(audit('a-2', noTime));
    await until(() => received.some((r) => r.topic === TOPICS.audit) && deadOf(received).length === 1, 'the audit record and the dead letter');
    const records = received.filter((r) => r.topic === TOPICS.audit);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ key: 'cadf-1', value: { action: 'read/list', outcome: 'success', initiator_id: 'u-1', project_id: 'p-1', reason_code: '200', event_time: '2026-01-02T03:04:05.000000+00:00' } });
    expect(deadOf(received)[0]?.value).toMatchObject({ code: 'CUMULUS_COLLECTOR_MALFORMED_CADF', reason: expect.stringContaining('eventTime') });
    expect(samplesOf(received)).toEqual([]);
  });

  it('ignores messages on other exchanges and other routing keys', async () => {
    const { bus, listener, received } = await setup();
    await listener.start();
    await bus.publish({ exchange: 'glance', routingKey: 'notifications.info', body: createEnd('msg-x', 'inst-x') });
    await bus.publish({ exchange: 'nova', routingKey: 'compute.host1', body: createEnd('msg-y', 'inst-y') });
    await bus.publish({ exchange: 'nova', routingKey: 'notifications.error', body: createEnd('msg-z', 'inst-z') });
    await until(() => samplesOf(received).length === PER_MESSAGE, 'the nova notifications.error samples');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(new Set(samplesOf(received).map((r) => r.key))).toEqual(new Set(['inst-z']));
  });

  it('does not acknowledge a batch the stream refused: it comes again, and each message gives its samples', async () => {
    // Send #0 (samples of the first attempt) fails: nothing reached the log.
    // Send #2 (dead letters of the second attempt) fails after its samples (#1) were written.
    // The third attempt (#3, #4) succeeds.
    const { bus, stream, listener, telemetry, received, publish } = await setup(new Set([0, 2]));
    // Queue the three messages first, so they form one batch.
    await listener.start();
    await listener.stop();
    await publish(createEnd('msg-a', 'inst-a'));
    await publish(MALFORMED);
    await publish(createEnd('msg-b', 'inst-b'));
    expect(bus.depth(config.queue)).toBe(3);

    await listener.start();
    await until(() => bus.depth(config.queue) === 0, 'the batch to be acknowledged');
    await until(() => deadOf(received).length >= 1, 'the dead letter');
    await new Promise((resolve) => setTimeout(resolve, 30));

    expect(stream.failures).toBe(2);
    expect(stream.calls).toBe(5);
    const ids = samplesOf(received).map((r) => r.value.id as string);
    // The replayed samples carry the same ids, so the distinct set is exactly the expected one.
    expect(new Set(ids)).toEqual(new Set([...expectedIds('msg-a', 'inst-a'), ...expectedIds('msg-b', 'inst-b')]));
    expect(ids).toHaveLength(4 * PER_MESSAGE);
    expect(deadOf(received)).toHaveLength(1);
    expect(deadOf(received)[0]?.value.code).toBe('CUMULUS_COLLECTOR_MALFORMED_JSON');
    // Telemetry counts the batch once, when it was accepted.
    expect(telemetry.snapshot()).toMatchObject({ accepted: 2, refused: 1 });
  });

  it('loses nothing while the stream refuses every send for a while', async () => {
    const { bus, stream, listener, received, publish } = await setup(new Set([0, 1, 2]));
    await listener.start();
    await publish(createEnd('msg-c', 'inst-c'));
    await until(() => bus.depth(config.queue) === 0, 'the message to be acknowledged');
    await until(() => samplesOf(received).length === PER_MESSAGE, 'its samples');
    expect(stream.failures).toBe(3);
    expect(new Set(samplesOf(received).map((r) => r.value.id))).toEqual(new Set(expectedIds('msg-c', 'inst-c')));
  });

  it('refuses bad config with CUMULUS_CONFIG_INVALID', () => {
    const deps = {
      bus: new InProcessBus(),
      stream: new InProcessStream(),
      mapper: new MeterMapper([], SECRET),
      clock: new ManualClock(NOW),
      logger: silentLogger(),
      telemetry: new TelemetryRegistry().component('x'),
    };
    expect(() => createNotificationListener({ ...config, exchanges: [] }, deps)).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID' }));
    expect(() => createNotificationListener({ ...config, batchSize: 0 }, deps)).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID' }));
    expect(() => createNotificationListener({ ...config, batchSize: 2.5 }, deps)).toThrow(/batchSize/);
  });

  it('stop() is idempotent and safe before start()', async () => {
    const { listener } = await setup();
    await listener.stop();
    await listener.start();
    await listener.start();
    await listener.stop();
    await listener.stop();
  });
});
