import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessStream, TelemetryRegistry, TOPICS, loadConfig, openStateDatabase, silentLogger } from '../core/index.ts';
import { MIGRATIONS, createChdbDriver, migrate, type ClickHouseDriver } from '../storage/index.ts';
import { createObservability, type ObservabilityConfig, type ReadinessReport } from './observability.ts';

const GROUP = { groupId: 'pipeline.samples', topic: TOPICS.samples };

describe('observability routes', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A chDB store migrated up to (not including) the last `missing` migrations. */
  async function setup(options: { missing?: number; amqpUrl?: string; observability?: ObservabilityConfig } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'cumulus-observability-'));
    const store: ClickHouseDriver = createChdbDriver({ dataDir: dir });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => store.close());
    await migrate(store, MIGRATIONS.slice(0, MIGRATIONS.length - (options.missing ?? 0)));
    const stateDb = openStateDatabase(':memory:');
    const stream = new InProcessStream();
    await stream.start();
    cleanups.push(() => stream.stop());
    const telemetry = new TelemetryRegistry();
    const config = loadConfig({ env: {}, overrides: { logLevel: 'silent', ...(options.amqpUrl ? { bus: { kind: 'amqp', amqpUrl: options.amqpUrl } } : {}) } });
    const observability = createObservability({ readinessTimeoutMs: 1000, ...options.observability }, { config, telemetry, store, stateDb, stream, groups: [GROUP], logger: silentLogger() });
    const app = Fastify();
    observability.register(app);
    await observability.start();
    cleanups.push(() => observability.stop());
    cleanups.push(() => app.close());
    return { app, stream, telemetry, observability };
  }

  it('is ready when ClickHouse answers, every migration is applied and SQLite reads', async () => {
    const { app } = await setup();
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    const body = res.json() as ReadinessReport;
    expect(res.statusCode, res.body).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.checks.map((c) => [c.name, c.ok])).toEqual([
      ['clickhouse', true],
      ['schema', true],
      ['state-database', true],
    ]);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
  });

  it('answers 503 naming the failed checks and what to do: a migration missing, RabbitMQ unreachable', async () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const { app } = await setup({ missing: 1, amqpUrl: 'amqp://guest:guest@127.0.0.1:1' });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    const body = res.json() as ReadinessReport;
    expect(res.statusCode).toBe(503);
    expect(body.status).toBe('not ready');
    const byName = Object.fromEntries(body.checks.map((c) => [c.name, c]));
    expect(byName.clickhouse).toMatchObject({ ok: true });
    expect(byName.schema).toMatchObject({ ok: false, error: `${MIGRATIONS.length - 1} of ${MIGRATIONS.length} ClickHouse migrations applied`, fix: expect.stringContaining('migrations') });
    expect(byName.bus).toMatchObject({ ok: false, error: expect.stringContaining('127.0.0.1:1'), fix: expect.stringContaining('RabbitMQ') });
    // Liveness is not readiness: the process still runs.
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('serves the components, the process and the consumer lag per group on /metrics', async () => {
    const { app, stream, telemetry } = await setup();
    telemetry.component('pipeline.samples').accepted(3);
    // Nobody consumes the group: what is sent is its lag.
    await stream.subscribe({ groupId: GROUP.groupId, topics: [GROUP.topic], fromBeginning: true, maxBatchRecords: 10 }, { consume: () => Promise.reject(new Error('not now')) }).then((h) => h.close());
    await stream.send(TOPICS.samples, [{ key: 'a', value: Buffer.from('1') }, { key: 'b', value: Buffer.from('2') }]);
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.body).toMatch(/^cumulus_items_accepted_total\{component="pipeline.samples"\} 3$/m);
    expect(res.body).toMatch(/^cumulus_stream_consumer_lag_records\{group="pipeline.samples",topic="cumulus.samples",partition="all"\} 2$/m);
    expect(res.body).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(res.body).toMatch(/^cumulus_scrape_collector_up\{collector="consumer-lag"\} 1$/m);
  });

  it('requires the bearer token on /metrics when one is configured, never on the probes', async () => {
    const { app } = await setup({ observability: { metricsBearerToken: 's3cret-scrape' } });
    const denied = await app.inject({ method: 'GET', url: '/metrics' });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['www-authenticate']).toContain('Bearer');
    expect((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer s3cret-scrape' } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('refuses an empty bearer token in its config', () => {
    const deps = { config: loadConfig({ env: {}, overrides: {} }), telemetry: new TelemetryRegistry(), store: {} as ClickHouseDriver, stateDb: openStateDatabase(':memory:'), stream: new InProcessStream(), groups: [], logger: silentLogger() };
    expect(() => createObservability({ metricsBearerToken: ' ' }, deps)).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID' }));
  });
});
