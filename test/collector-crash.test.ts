import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTROL_EXCHANGES, DEFAULT_METERS_FILE, MeterMapper, loadMeterDefinitions, openEnvelope } from '../collectors/index.ts';
import { KafkaStream, TOPICS, silentLogger, type StreamConsumerHandle } from '../core/index.ts';
import { AMQP_URL, KAFKA_BROKERS, amqpHostPort, serviceGate } from './support/services.ts';

const rabbit = await serviceGate('RabbitMQ', amqpHostPort());
const kafka = await serviceGate('Kafka', KAFKA_BROKERS[0] as string);

const SECRET = 'crash-test-metering-secret-0123456789';
const BATCH = 1500;

function notification(runId: string, n: number): Buffer {
  const message = {
    message_id: `${runId}-${n}`,
    publisher_id: 'compute.compute-1',
    event_type: 'compute.instance.exists',
    priority: 'INFO',
    timestamp: '2026-11-24 06:00:00.000000',
    payload: { instance_id: `${runId}-vm-${n % 50}`, tenant_id: 'crash-project', user_id: 'crash-user', vcpus: 2, memory_mb: 2048, root_gb: 20, ephemeral_gb: 0, disk_gb: 20, host: 'compute-1', instance_type: 'm1.small', instance_flavor_id: 'm1.small', display_name: 'vm', state: 'active', image_meta: { base_image_ref: 'img' } },
  };
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(message) }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The collector as its own process between real RabbitMQ and Kafka, killed mid-stream with
 * SIGKILL, RabbitMQ restarted once, the collector restarted: every notification becomes
 * exactly its set of samples (by id), none lost, none invented.
 */
describe.runIf(rabbit.run && kafka.run)('collector crash and broker restart (RabbitMQ + Kafka)', { timeout: 240_000 }, () => {
  const runId = `crash${randomUUID().slice(0, 8)}`;
  const queue = `cumulus.notifications.${runId}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'cumulus-crash-'));
  let child: ChildProcess | null = null;
  let reader: StreamConsumerHandle | null = null;
  const stream = new KafkaStream({ brokers: KAFKA_BROKERS, clientId: `crash-reader-${runId}`, partitions: 3, replicationFactor: 1 }, silentLogger());

  const startCollector = () => {
    child = spawn(process.execPath, ['bin/cumulus.mjs', 'collector', '--queue', queue, '--data-dir', dataDir], {
      env: { ...process.env, AMQP_URL, KAFKA_BROKERS: KAFKA_BROKERS.join(','), CUMULUS_METERING_SECRET: SECRET, CUMULUS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  };

  afterAll(async () => {
    child?.kill('SIGKILL');
    await reader?.close();
    await stream.stop();
    const connection = await amqp.connect(AMQP_URL).catch(() => null);
    if (connection) {
      const channel = await connection.createChannel();
      await channel.deleteQueue(queue).catch(() => undefined);
      await connection.close();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has RabbitMQ, Kafka and rabbitmqctl to run against', () => {
    expect(rabbit.available).toBe(true);
    expect(kafka.available).toBe(true);
    expect(() => execFileSync('rabbitmqctl', ['status'], { stdio: 'ignore' })).not.toThrow();
  });

  it('turns every notification into exactly its samples across a SIGKILL and a RabbitMQ restart', async () => {
    // The samples each notification must give, computed here with the same definitions and secret.
    const mapper = new MeterMapper(loadMeterDefinitions(DEFAULT_METERS_FILE), SECRET);
    const expected = new Set<string>();
    for (let n = 0; n < 2 * BATCH; n++) for (const s of mapper.map(openEnvelope(notification(runId, n)))) expected.add(s.id);
    expect(expected.size).toBeGreaterThanOrEqual(2 * BATCH * 3);

    // A reader of the samples topic, keeping only this run's samples.
    const seen = new Map<string, number>();
    await stream.start();
    reader = await stream.subscribe({ groupId: `crash-reader-${runId}`, topics: [TOPICS.samples], fromBeginning: true, maxBatchRecords: 5000 }, {
      consume: async (batch) => {
        for (const record of batch.records) {
          const sample = JSON.parse(record.value.toString()) as { id: string; message_id: string };
          if (sample.message_id.startsWith(runId)) seen.set(sample.id, (seen.get(sample.id) ?? 0) + 1);
        }
      },
    });

    // The durable queue exists before anything is published (as the listener declares it).
    const connection = await amqp.connect(AMQP_URL);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(queue, { durable: true });
    for (const exchange of DEFAULT_CONTROL_EXCHANGES) {
      await channel.assertExchange(exchange, 'topic', { durable: false });
      await channel.bindQueue(queue, exchange, 'notifications.*');
    }
    for (let n = 0; n < BATCH; n++) channel.publish('nova', 'notifications.info', notification(runId, n), { persistent: true });
    await channel.waitForConfirms();
    await connection.close();

    // 1. the collector starts, and is killed once some samples went through.
    startCollector();
    const deadline = Date.now() + 60_000;
    while (seen.size < 300) {
      if (Date.now() > deadline) throw new Error(`the collector produced only ${seen.size} samples in 60 s`);
      await sleep(50);
    }
    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    const atKill = seen.size;
    expect(atKill).toBeLessThan(expected.size);

    // 2. RabbitMQ restarts: the durable queue and its persistent messages survive.
    execFileSync('rabbitmqctl', ['stop_app'], { stdio: 'ignore' });
    execFileSync('rabbitmqctl', ['start_app'], { stdio: 'ignore' });
    execFileSync('rabbitmqctl', ['await_startup'], { stdio: 'ignore' });

    // 3. more notifications arrive while no collector runs.
    const again = await amqp.connect(AMQP_URL);
    const channel2 = await again.createConfirmChannel();
    // oslo.messaging's exchanges are not durable (amqp_durable_queues=False): a broker restart
    // drops them and their bindings. Publishers re-declare on reconnect, and the listener
    // re-binds its durable queue when it re-attaches; here the test does both first.
    for (const exchange of DEFAULT_CONTROL_EXCHANGES) {
      await channel2.assertExchange(exchange, 'topic', { durable: false });
      await channel2.bindQueue(queue, exchange, 'notifications.*');
    }
    for (let n = BATCH; n < 2 * BATCH; n++) channel2.publish('nova', 'notifications.info', notification(runId, n), { persistent: true });
    await channel2.waitForConfirms();
    await again.close();

    // 4. the collector comes back and drains everything.
    startCollector();
    const done = Date.now() + 120_000;
    while (seen.size < expected.size) {
      if (Date.now() > done) break;
      await sleep(100);
    }
    child!.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));

    const missing = [...expected].filter((id) => !seen.has(id));
    const invented = [...seen.keys()].filter((id) => !expected.has(id));
    expect(missing, `${missing.length} expected samples never arrived`).toEqual([]);
    expect(invented).toEqual([]);
    // Redelivery after the kill may repeat records in the topic; their ids are the same, so
    // the pipeline's idempotent writes count each once.
    const repeated = [...seen.values()].filter((count) => count > 1).length;
    process.stderr.write(`collector crash test: ${expected.size} samples, ${atKill} before the kill, ${repeated} repeated in the topic after redelivery\n`);
  });
});
