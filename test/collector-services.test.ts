import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { startCollectorStage, type CollectorStage } from '../cli/collector.ts';
import {
  DEFAULT_EVENT_DEFINITIONS_FILE,
  DEFAULT_METERS_FILE,
  EventConverter,
  MeterMapper,
  MalformedNotificationError,
  loadEventDefinitions,
  loadMeterDefinitions,
  openEnvelope,
  toAuditRecord,
} from '../collectors/index.ts';
import { KafkaStream, TOPICS, loadConfig, silentLogger, type StreamConsumerHandle } from '../core/index.ts';
import { buildEventCorpus } from './support/ceilometer-events.ts';
import { AMQP_URL, KAFKA_BROKERS, amqpHostPort, serviceGate } from './support/services.ts';

const rabbit = await serviceGate('RabbitMQ', amqpHostPort());
const kafka = await serviceGate('Kafka', KAFKA_BROKERS[0] as string);
const SECRET = 'services-test-metering-secret-0123456789';

/** The control exchange a service publishes an event type on. */
function exchangeOf(eventType: string): string {
  const prefixes: Array<[RegExp, string]> = [
    [/^(compute|scheduler|audit\.http)\./, 'nova'],
    [/^(volume|snapshot|backup|capacity)\./, 'cinder'],
    [/^image\./, 'glance'],
    [/^identity\./, 'keystone'],
    [/^orchestration\./, 'heat'],
    [/^(network|subnet|port|router|floatingip|security_group)/, 'neutron'],
  ];
  return prefixes.find(([re]) => re.test(eventType))?.[1] ?? 'openstack';
}

/**
 * Real-format notifications of every service through RabbitMQ, the collector stage and
 * Kafka: the samples, events and audit records on the topics equal, field by field, what
 * the same definitions give in-process.
 */
describe.runIf(rabbit.run && kafka.run)('collector stage between RabbitMQ and Kafka', { timeout: 120_000 }, () => {
  const runId = `svc${randomUUID().slice(0, 8)}`;
  const queue = `cumulus.notifications.${runId}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'cumulus-collector-svc-'));
  let stage: CollectorStage | null = null;
  const reader = new KafkaStream({ brokers: KAFKA_BROKERS, clientId: `reader-${runId}`, partitions: 3, replicationFactor: 1 }, silentLogger());
  const handles: StreamConsumerHandle[] = [];

  afterAll(async () => {
    for (const h of handles) await h.close();
    await reader.stop();
    await stage?.stop();
    const connection = await amqp.connect(AMQP_URL).catch(() => null);
    if (connection) {
      const channel = await connection.createChannel();
      await channel.deleteQueue(queue).catch(() => undefined);
      await connection.close();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has RabbitMQ and Kafka to run against', () => {
    expect(rabbit.available).toBe(true);
    expect(kafka.available).toBe(true);
  });

  it('publishes samples, events and audit records equal to the in-process mapping', async () => {
    const corpus = (await buildEventCorpus()).map((entry, i) => {
      // Fresh message ids per run, so records of earlier runs in the topics are told apart.
      const message = { ...entry.message, message_id: `${runId}-${i}` };
      return { exchange: exchangeOf(message.event_type), body: Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(message) })) };
    });
    const mapper = new MeterMapper(loadMeterDefinitions(DEFAULT_METERS_FILE), SECRET);
    const converter = new EventConverter(loadEventDefinitions(DEFAULT_EVENT_DEFINITIONS_FILE));
    const expectedSamples = new Map<string, unknown>();
    const expectedEvents = new Map<string, unknown>();
    const expectedAudit = new Map<string, unknown>();
    for (const { body } of corpus) {
      try {
        const n = openEnvelope(body);
        const samples = mapper.map(n);
        const audit = toAuditRecord(n);
        const event = converter.convert(n);
        for (const s of samples) expectedSamples.set(s.id, JSON.parse(JSON.stringify(s)));
        if (audit) expectedAudit.set(audit.id, JSON.parse(JSON.stringify(audit)));
        if (event) expectedEvents.set(event.message_id, JSON.parse(JSON.stringify(event)));
      } catch (err) {
        if (!(err instanceof MalformedNotificationError)) throw err;
      }
    }
    expect(expectedSamples.size).toBeGreaterThan(10);
    expect(expectedEvents.size).toBeGreaterThan(10);
    expect(expectedAudit.size).toBeGreaterThan(0);

    const got = { samples: new Map<string, unknown>(), events: new Map<string, unknown>(), audit: new Map<string, unknown>() };
    await reader.start();
    for (const [topic, into, keyOf] of [
      [TOPICS.samples, got.samples, (v: Record<string, unknown>) => v.id],
      [TOPICS.events, got.events, (v: Record<string, unknown>) => v.message_id],
      [TOPICS.audit, got.audit, (v: Record<string, unknown>) => v.id],
    ] as const) {
      handles.push(
        await reader.subscribe({ groupId: `reader-${runId}-${topic}`, topics: [topic], fromBeginning: true, maxBatchRecords: 5000 }, {
          consume: async (batch) => {
            for (const record of batch.records) {
              const value = JSON.parse(record.value.toString()) as Record<string, unknown>;
              into.set(String(keyOf(value)), value);
            }
          },
        }),
      );
    }

    const config = loadConfig({ env: { AMQP_URL, KAFKA_BROKERS: KAFKA_BROKERS.join(','), CUMULUS_METERING_SECRET: SECRET }, overrides: { dataDir, logLevel: 'silent' } });
    stage = await startCollectorStage(config, silentLogger(), { queue });
    const connection = await amqp.connect(AMQP_URL);
    const channel = await connection.createConfirmChannel();
    for (const { exchange, body } of corpus) channel.publish(exchange, 'notifications.info', body, { persistent: true });
    await channel.waitForConfirms();
    await connection.close();

    const complete = () => [...expectedSamples.keys()].every((k) => got.samples.has(k)) && [...expectedEvents.keys()].every((k) => got.events.has(k)) && [...expectedAudit.keys()].every((k) => got.audit.has(k));
    const deadline = Date.now() + 60_000;
    while (!complete() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    for (const [id, sample] of expectedSamples) expect(got.samples.get(id), `sample ${id}`).toEqual(sample);
    for (const [id, event] of expectedEvents) expect(got.events.get(id), `event ${id}`).toEqual(event);
    for (const [id, record] of expectedAudit) expect(got.audit.get(id), `audit record ${id}`).toEqual(record);
  });
});
