import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../cli/platform.ts';
import { loadConfig, silentLogger } from '../core/index.ts';
import { AMQP_URL, KAFKA_BROKERS, amqpHostPort, serviceGate } from './support/services.ts';
import { runSlice } from './support/slice.ts';

const rabbit = await serviceGate('RabbitMQ', amqpHostPort());
const kafka = await serviceGate('Kafka', KAFKA_BROKERS[0] as string);

/** The same slice with the real services: RabbitMQ between cloud and collectors, Kafka between collectors and pipeline. */
describe.runIf(rabbit.run && kafka.run)('foundation slice, services (RabbitMQ + Kafka, chDB)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cumulus-slice-services-'));
  const runId = randomUUID().slice(0, 8);
  let platform: Platform;

  beforeAll(async () => {
    if (!rabbit.available || !kafka.available) return;
    const config = loadConfig({ env: { AMQP_URL, KAFKA_BROKERS: KAFKA_BROKERS.join(',') }, overrides: { port: 0, dataDir, logLevel: 'silent' } });
    platform = await startPlatform(config, {
      logger: silentLogger(),
      buildDelayMs: 10,
      notificationQueue: `cumulus.notifications.test-${runId}`,
      pipelineGroupId: `cumulus-pipeline-test-${runId}`,
    });
  });

  afterAll(async () => {
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has RabbitMQ and Kafka to run against', () => {
    expect(rabbit.available, `RabbitMQ must be reachable at ${amqpHostPort()}`).toBe(true);
    expect(kafka.available, `Kafka must be reachable at ${KAFKA_BROKERS.join(',')}`).toBe(true);
  });

  it('runs on the AMQP bus and the Kafka stream', () => {
    expect(platform.bus.kind).toBe('amqp');
    expect(platform.stream.kind).toBe('kafka');
  });

  it('turns a server created through the compute API into measures, through RabbitMQ and Kafka', async () => {
    const { measures } = await runSlice(platform, async () => undefined);
    expect(measures.vcpus).toEqual([[expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\+00:00$/), 300, 4]]);
    expect(measures.memory[0]?.[2]).toBe(8192);
    expect(measures.instance[0]?.[2]).toBe(1);
    const accepted = platform.telemetry.snapshots().find((s) => s.component === 'pipeline.samples')?.accepted ?? 0;
    expect(accepted).toBeGreaterThanOrEqual(3);
  });
});
