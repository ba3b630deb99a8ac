import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform, type Platform } from '../cli/platform.ts';
import { loadConfig, silentLogger } from '../core/index.ts';
import { progress, type BenchRow } from './report.ts';

/** A nova `compute.instance.exists`-style notification in the oslo v2 envelope: 3 samples each (instance, vcpus, memory). */
function notification(instanceId: string, projectId: string, at: Date): Buffer {
  const message = {
    message_id: randomUUID(),
    publisher_id: 'compute.compute-1',
    event_type: 'compute.instance.exists',
    priority: 'INFO',
    timestamp: `${at.toISOString().replace('T', ' ').replace('Z', '')}000`,
    payload: {
      tenant_id: projectId,
      user_id: 'bench-user',
      instance_id: instanceId,
      display_name: 'bench',
      instance_type: 'm1.small',
      instance_flavor_id: 'm1.small',
      vcpus: 2,
      memory_mb: 2048,
      host: 'compute-1',
      state: 'active',
      image_meta: { base_image_ref: 'cirros' },
    },
    _context_request_id: `req-${randomUUID()}`,
  };
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(message) }));
}

const SAMPLES_PER_NOTIFICATION = 3;

async function countMeasures(platform: Platform): Promise<number> {
  const rows = await platform.store.query<{ n: string }>({ sql: 'SELECT count() AS n FROM measures' });
  return Number(rows[0]?.n ?? 0);
}

/**
 * Samples per second through the whole slice: notifications published on the bus, mapped
 * by the collector, carried by the stream, written by the pipeline into ClickHouse with
 * its rollups; timed from the first publish until every measure is in the store.
 */
export async function benchSlice(mode: 'embedded' | 'kafka', notifications: number, env: Record<string, string>): Promise<BenchRow> {
  const dataDir = mkdtempSync(join(tmpdir(), `cumulus-bench-${mode}-`));
  const runId = randomUUID().slice(0, 8);
  const config = loadConfig({ env, overrides: { port: 0, dataDir, logLevel: 'silent' } });
  const platform = await startPlatform(config, { logger: silentLogger(), notificationQueue: `cumulus.bench-${runId}`, pipelineGroupId: `cumulus-bench-${runId}` });
  try {
    const instances = Array.from({ length: 1000 }, () => randomUUID());
    const base = Date.now() - 3_600_000;
    const expected = notifications * SAMPLES_PER_NOTIFICATION;
    const started = performance.now();
    const publishes: Promise<void>[] = [];
    for (let i = 0; i < notifications; i++) {
      const body = notification(instances[i % instances.length] as string, 'bench-project', new Date(base + i));
      publishes.push(platform.bus.publish({ exchange: 'nova', routingKey: 'notifications.info', body }));
      if (publishes.length >= 1000) await Promise.all(publishes.splice(0));
    }
    await Promise.all(publishes);
    let stored = 0;
    const deadline = Date.now() + 600_000;
    while (stored < expected) {
      if (Date.now() > deadline) throw new Error(`${mode}: only ${stored}/${expected} measures after 10 minutes`);
      await new Promise((r) => setTimeout(r, 100));
      stored = await countMeasures(platform);
      progress(`  ${mode}`, Math.min(stored, expected), expected);
    }
    const seconds = (performance.now() - started) / 1000;
    return { suite: 'foundation', name: `samples/s through the slice (${mode}: bus -> collector -> stream -> pipeline -> ClickHouse)`, value: expected / seconds, unit: 'samples/s', peer: null, peer_value: null };
  } finally {
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
