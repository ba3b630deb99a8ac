import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../test/support/temp-store.ts';
import { ManualClock, silentLogger, TelemetryRegistry } from '../../core/index.ts';
import type { CheckDefinition } from './config.ts';
import { createProber } from './prober.ts';
import { CHECK_RESULTS_TABLE } from './queries.ts';

// Recent: check_results keep 90 days (TTL).
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
/** Never contacted: these probers run only checks of their own, which need no cloud. */
const NO_CLOUD = { authUrl: 'http://127.0.0.1:9/identity/v3', admin: { username: 'admin', password: 'unused', projectName: 'admin' }, monitoring: { password: 'unused' }, transactions: [], tickMs: 0 } as const;

let temp: TempStore;
beforeAll(async () => {
  temp = await openTempStore('cumulus-prober-');
});
afterAll(async () => {
  await temp.close();
});

const rowsOf = (check: string) =>
  temp.store.query<{ check_name: string; at: string; service: string; host: string; ok: number; error: string; latency_ms: number }>({
    sql: `SELECT check_name, formatDateTime(at, '%Y-%m-%dT%H:%i:%S', 'UTC') AS at, service, host, ok, error, latency_ms FROM ${CHECK_RESULTS_TABLE} WHERE check_name = {c:String} ORDER BY at, host`,
    params: { c: check },
  });

describe('prober scheduling (checks of its own, ManualClock)', () => {
  it('runs each check on its own interval, records every run, and never runs one check twice at once', async () => {
    const clock = new ManualClock(T0);
    let fastRuns = 0;
    let slowRunning = 0;
    let slowMax = 0;
    let release: () => void = () => undefined;
    const checks: CheckDefinition[] = [
      { name: 'fast', service: 'svc', intervalMs: 1_000, timeoutMs: 5_000, transaction: async () => void fastRuns++ },
      {
        name: 'slow',
        service: 'svc',
        intervalMs: 1_000,
        timeoutMs: 60_000,
        // Holds until released: the prober must not start it again meanwhile.
        transaction: async () => {
          slowRunning++;
          slowMax = Math.max(slowMax, slowRunning);
          await new Promise<void>((resolve) => (release = resolve));
          slowRunning--;
        },
      },
      { name: 'five', service: 'other', intervalMs: 5_000, timeoutMs: 5_000, host: 'ctl-1', transaction: async () => undefined },
    ];
    const prober = createProber({ ...NO_CLOUD, extraChecks: checks, flushIntervalMs: 0 }, { store: temp.store, clock, logger: silentLogger() });
    await prober.start();
    expect(prober.checks().map((c) => c.name)).toEqual(['fast', 'slow', 'five']);
    expect(prober.setup()).toBeNull();

    // Ticks do not wait for the held check; collect them to await at the end.
    const pending: Array<Promise<void>> = [];
    for (let second = 0; second < 6; second++) {
      pending.push(prober.tick());
      await new Promise((r) => setImmediate(r));
      clock.advance(1_000);
    }
    expect(slowMax).toBe(1);
    release();
    await Promise.all(pending);
    await prober.stop();

    expect(fastRuns).toBe(6);
    expect((await rowsOf('fast')).map((r) => r.at)).toEqual(Array.from({ length: 6 }, (_, i) => new Date(T0 + i * 1_000).toISOString().slice(0, 19)));
    expect(await rowsOf('five')).toMatchObject([
      { at: new Date(T0).toISOString().slice(0, 19), host: 'ctl-1', ok: 1, service: 'other', error: '' },
      { at: new Date(T0 + 5_000).toISOString().slice(0, 19), host: 'ctl-1', ok: 1 },
    ]);
    // Started once at t0, held through t1..t5: exactly one run, one row.
    expect(await rowsOf('slow')).toHaveLength(1);
  });

  it('records a failure with its reason, a timeout, and per-host outcomes', async () => {
    const clock = new ManualClock(T0 + 600_000);
    const checks: CheckDefinition[] = [
      {
        name: 'refused',
        service: 'compute',
        intervalMs: 1_000,
        timeoutMs: 5_000,
        transaction: async () => {
          throw new Error('list flavors: GET http://x/compute/v2.1/flavors: expected 200, got 503 (No server is available)');
        },
      },
      { name: 'hangs', service: 'image', intervalMs: 1_000, timeoutMs: 50, transaction: (context) => new Promise((_, reject) => context.signal.addEventListener('abort', () => reject(new Error('aborted')))) },
      {
        name: 'hosts',
        service: 'deployment',
        intervalMs: 1_000,
        timeoutMs: 5_000,
        transaction: async () => [
          { checkName: 'process:nova-api', service: 'compute', host: 'ctl-1', ok: true },
          { checkName: 'process:nova-api', service: 'compute', host: 'ctl-2', ok: false, error: 'nova-api is stopped (stop)' },
        ],
      },
    ];
    const prober = createProber({ ...NO_CLOUD, extraChecks: checks }, { store: temp.store, clock, logger: silentLogger() });
    await prober.tick();
    await prober.stop();
    expect(await rowsOf('refused')).toMatchObject([{ ok: 0, service: 'compute', error: 'list flavors: GET http://x/compute/v2.1/flavors: expected 200, got 503 (No server is available)' }]);
    const [hung] = await rowsOf('hangs');
    expect(hung).toMatchObject({ ok: 0, error: 'hangs: did not finish within 50 ms' });
    expect(hung!.latency_ms).toBeGreaterThanOrEqual(45);
    expect(await rowsOf('process:nova-api')).toMatchObject([
      { host: 'ctl-1', ok: 1, service: 'compute', error: '' },
      { host: 'ctl-2', ok: 0, service: 'compute', error: 'nova-api is stopped (stop)' },
    ]);
  });

  it('refuses a check faster than one second, naming the field', () => {
    const check: CheckDefinition = { name: 'too-fast', service: 's', intervalMs: 500, timeoutMs: 100, transaction: async () => undefined };
    expect(() => createProber({ ...NO_CLOUD, extraChecks: [check] }, { store: temp.store, clock: new ManualClock(T0), logger: silentLogger() })).toThrow(
      expect.objectContaining({ code: 'CUMULUS_CHECK_CONFIG_INVALID', message: 'extraChecks[0].intervalMs: expected an integer >= 1000, got 500' }),
    );
    expect(() => createProber({ ...NO_CLOUD, authUrl: 'keystone' }, { store: temp.store, clock: new ManualClock(T0), logger: silentLogger() })).toThrow(expect.objectContaining({ message: 'authUrl: expected an http(s) URL, got "keystone"' }));
  });

  it('keeps rows the store refuses and writes them once it takes them again; beyond the cap the oldest batches go', async () => {
    const start = T0 + 1_200_000;
    const clock = new ManualClock(start);
    const telemetry = new TelemetryRegistry().component('prober');
    const check: CheckDefinition = { name: 'while-refused', service: 'svc', intervalMs: 1_000, timeoutMs: 1_000, transaction: async () => undefined };
    const prober = createProber({ ...NO_CLOUD, extraChecks: [check], flushIntervalMs: 0, maxBufferedRows: 2 }, { store: temp.store, clock, logger: silentLogger(), telemetry });
    // The store refuses: the table is not there.
    await temp.store.command({ sql: `RENAME TABLE ${CHECK_RESULTS_TABLE} TO check_results_parked` });
    try {
      for (let i = 0; i < 3; i++) {
        await prober.tick();
        clock.advance(1_000);
      }
    } finally {
      await temp.store.command({ sql: `RENAME TABLE check_results_parked TO ${CHECK_RESULTS_TABLE}` });
    }
    expect(telemetry.snapshot()).toMatchObject({ accepted: 0, dropped: 1 });
    await prober.tick();
    await prober.flush();
    await prober.stop();
    const at = (s: number) => new Date(start + s * 1_000).toISOString().slice(0, 19);
    // The cap holds two rows in all: with the fourth run's row, the second run's batch went too.
    expect((await rowsOf('while-refused')).map((r) => r.at)).toEqual([at(2), at(3)]);
    expect(telemetry.snapshot()).toMatchObject({ accepted: 2, dropped: 2 });
  });
});
