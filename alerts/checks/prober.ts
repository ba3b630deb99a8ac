/**
 * The prober: runs each synthetic check on its own interval and records every run in
 * `check_results`. What is due is decided by the injected clock; a heartbeat timer (real
 * time) only asks "anything due?" every `tickMs`, so tests drive it with a ManualClock and
 * tick(). A check never runs twice at once: a run still going when the next is due makes
 * that next run wait for the following tick. Experimental API.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { errorMessage, type Clock, type ComponentTelemetry, type Lifecycle, type Logger } from '../../core/index.ts';
import type { ClickHouseDriver } from '../../storage/index.ts';
import type { CatalogEndpoint } from './cloud-client.ts';
import { resolveProberConfig, type CheckContext, type CheckDefinition, type ProberConfig, type ProberOptions } from './config.ts';
import { FAST_CHECK_MAX_INTERVAL_MS } from './builtin-rules.ts';
import { CHECK_ERROR_CODES, CheckFailure } from './errors.ts';
import { ensureMonitoringProject, type MonitoringSetup } from './monitoring-project.ts';
import { CHECK_RESULTS_TABLE, type CheckResultRow } from './queries.ts';
import { createSessionCache } from './session-cache.ts';
import { endpointGet, flavorList, processHealth, serverCycle, serviceOfCatalogType, tokenIssue, volumeCycle, type TransactionDeps } from './transactions.ts';

/** After a failed setup (cloud unreachable at start), how long before the next attempt. */
export const SETUP_RETRY_MS = 10_000;

export interface ProberDeps {
  store: ClickHouseDriver;
  clock: Clock;
  logger: Logger;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** accepted: rows written; dropped: rows lost to a full buffer; refused: failed runs. */
  telemetry?: ComponentTelemetry;
}

export interface Prober extends Lifecycle {
  /** The checks it runs (empty until the monitoring project is set up). */
  checks(): readonly CheckDefinition[];
  /** The monitoring project, once set up (null also when no transaction needs one). */
  setup(): MonitoringSetup | null;
  /**
   * Sets up when not yet done, starts every due check that is not running, and resolves
   * when the runs it started have finished and their rows were flushed (the heartbeat does
   * not wait; tests do).
   */
  tick(): Promise<void>;
  /** Runs one check now unless it is running (then resolves to []); its rows are buffered for the next flush. */
  runCheck(name: string): Promise<CheckResultRow[]>;
  /** Writes the buffered rows. */
  flush(): Promise<void>;
}

interface Scheduled {
  check: CheckDefinition;
  nextDueMs: number;
  running: boolean;
}

/** Builds the checks from the catalog: the configured transactions plus one plain GET per catalog service. */
function buildChecks(config: ProberConfig, deps: TransactionDeps, catalog: readonly CatalogEndpoint[]): CheckDefinition[] {
  const { intervalsMs: every, timeoutsMs: within } = config;
  const checks: CheckDefinition[] = [];
  const add = (kind: keyof ProberConfig['intervalsMs'], name: string, service: string, transaction: CheckDefinition['transaction']) => {
    if (config.transactions.includes(kind)) checks.push({ name, service, intervalMs: every[kind], timeoutMs: within[kind], transaction });
  };
  add('token-issue', 'keystone-token-issue', 'identity', tokenIssue(deps));
  add('flavor-list', 'nova-flavor-list', 'compute', flavorList(deps));
  add('volume-cycle', 'cinder-volume-create-delete', 'block-storage', volumeCycle(deps));
  add('server-cycle', 'nova-server-boot-delete', 'compute', serverCycle(deps));
  const seen = new Set<string>();
  for (const endpoint of catalog) {
    if (config.region !== null && endpoint.region !== config.region) continue;
    const service = serviceOfCatalogType(endpoint.type);
    if (seen.has(service)) continue;
    seen.add(service);
    add('endpoint-get', `endpoint-get:${service}`, service, endpointGet(deps, endpoint));
  }
  if (config.deploymentUrl !== null) add('process-health', 'process-health', 'deployment', processHealth(deps, config.deploymentUrl, config.healthRoles));
  return [...checks, ...config.extraChecks];
}

/** The short-outage rule's watch list: the prober's checks that run at least every `maxIntervalMs` (asked at each evaluation). */
export function fastChecksOf(prober: Pick<Prober, 'checks'>, maxIntervalMs = FAST_CHECK_MAX_INTERVAL_MS): () => string[] {
  return () => prober.checks().filter((c) => c.intervalMs <= maxIntervalMs).map((c) => c.name);
}

export function createProber(options: ProberOptions, deps: ProberDeps): Prober {
  const config = resolveProberConfig(options);
  const { clock, logger, store } = deps;
  const fetchImpl = deps.fetch ?? globalThis.fetch;
  const admin = createSessionCache(fetchImpl, config.authUrl, config.admin, clock);
  const monitoring = createSessionCache(fetchImpl, config.authUrl, config.monitoring.credentials, clock);

  let setupDone: MonitoringSetup | null = null;
  let ready = false;
  let nextSetupMs = 0;
  let region = config.region ?? '';
  const scheduled = new Map<string, Scheduled>();
  let buffer: CheckResultRow[] = [];
  /** Batches cut but not yet accepted by the store, each with the token its retries reuse. */
  const unsent: Array<{ token: string; rows: CheckResultRow[] }> = [];
  let lastFlushMs = Number.NEGATIVE_INFINITY;
  let flushing: Promise<void> | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let running = false;
  const inFlight = new Set<Promise<unknown>>();

  let settingUp: Promise<boolean> | null = null;
  /** One setup at a time: the heartbeat may tick while a slow setup is still going. */
  function trySetup(): Promise<boolean> {
    if (ready) return Promise.resolve(true);
    settingUp ??= setUp().finally(() => {
      settingUp = null;
    });
    return settingUp;
  }

  async function setUp(): Promise<boolean> {
    if (clock.nowMs() < nextSetupMs) return false;
    try {
      // Only the transactions run as the monitoring user; process health needs the admin alone, your own checks nothing.
      const needsMonitoring = config.transactions.some((kind) => kind !== 'process-health');
      const made = needsMonitoring ? await ensureMonitoringProject(config, admin, monitoring, { fetch: fetchImpl, logger }) : null;
      const catalog = needsMonitoring ? (await monitoring.get()).catalog : [];
      if (config.region === null) region = catalog.find((e) => e.type === 'compute')?.region ?? catalog[0]?.region ?? '';
      const transactionDeps: TransactionDeps = {
        monitoring,
        admin,
        authUrl: config.authUrl,
        monitoringCredentials: config.monitoring.credentials,
        region: config.region,
        setup: made,
        pollIntervalMs: config.pollIntervalMs,
        volumeSizeGb: config.volumeSizeGb,
      };
      const now = clock.nowMs();
      for (const check of buildChecks(config, transactionDeps, catalog)) {
        if (scheduled.has(check.name)) throw new CheckFailure(CHECK_ERROR_CODES.setupFailed, 'build checks', `two checks are named ${check.name}; extraChecks must not reuse a built-in name`);
        scheduled.set(check.name, { check, nextDueMs: now, running: false });
      }
      setupDone = made;
      ready = true;
      logger.info({ projectId: made?.projectId ?? null, checks: scheduled.size }, 'prober: checks ready');
      return true;
    } catch (err) {
      scheduled.clear();
      nextSetupMs = clock.nowMs() + SETUP_RETRY_MS;
      logger.warn({ err: errorMessage(err) }, 'prober: monitoring project setup failed; retrying');
      return false;
    }
  }

  /** One run: the rows it makes, a failure row when the transaction threw or overran its timeout. */
  async function execute(item: Scheduled): Promise<CheckResultRow[]> {
    const { check } = item;
    item.running = true;
    const at = clock.now().toISOString();
    const abort = new AbortController();
    const context: CheckContext = { signal: abort.signal, fetch: fetchImpl, sleep: (ms) => sleepFor(ms, undefined, { signal: abort.signal }) };
    // Latency is real elapsed time (what users wait), not the injected clock's.
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const overran = () => new CheckFailure(CHECK_ERROR_CODES.timeout, check.name, `did not finish within ${check.timeoutMs} ms`);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(overran());
        abort.abort();
      }, check.timeoutMs);
    });
    // Through a promise: a transaction that throws before its first await is a failed run too, not a stuck check.
    const work = Promise.resolve().then(() => check.transaction(context));
    // The check stays "running" until its transaction settles, even after its deadline: never two at once.
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    inFlight.add(settled);
    void settled.finally(() => {
      item.running = false;
      inFlight.delete(settled);
    });
    let rows: CheckResultRow[];
    const row = (ok: boolean, error: string, outcome?: { checkName?: string; service?: string; host?: string }): CheckResultRow => ({
      check_name: outcome?.checkName ?? check.name,
      at,
      service: outcome?.service ?? check.service,
      region,
      host: outcome?.host ?? check.host ?? '',
      ok: ok ? 1 : 0,
      latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
      error,
    });
    try {
      const outcomes = await Promise.race([work, deadline]);
      rows = outcomes && outcomes.length > 0 ? outcomes.map((o) => row(o.ok, o.ok ? '' : (o.error ?? 'failed'), o)) : [row(true, '')];
    } catch (err) {
      // Whatever the transaction made of its abort, the reason is the deadline.
      rows = [row(false, abort.signal.aborted ? overran().message : errorMessage(err))];
    } finally {
      clearTimeout(timer);
    }
    const failed = rows.filter((r) => r.ok === 0).length;
    if (failed > 0) {
      deps.telemetry?.refused(failed);
      logger.debug({ check: check.name, error: rows.find((r) => r.ok === 0)?.error }, 'prober: check failed');
    }
    buffer.push(...rows);
    // Beyond the cap the oldest rows go: the newest tell the current state.
    if (buffer.length > config.maxBufferedRows) {
      const excess = buffer.length - config.maxBufferedRows;
      buffer = buffer.slice(excess);
      deps.telemetry?.dropped(excess);
    }
    return rows;
  }

  async function flushOnce(): Promise<void> {
    // 1. Cut what is buffered into a batch with its own token: a retry of this batch is then dropped by ClickHouse if the first attempt landed.
    if (buffer.length > 0) {
      unsent.push({ token: `check-results:${randomUUID()}`, rows: buffer });
      buffer = [];
    }
    // While the store refuses, whole oldest batches go beyond the cap (no insert is in flight here: flushes are serialized).
    let held = unsent.reduce((n, b) => n + b.rows.length, 0);
    while (held > config.maxBufferedRows && unsent.length > 1) {
      const dropped = unsent.shift()!;
      held -= dropped.rows.length;
      deps.telemetry?.dropped(dropped.rows.length);
    }
    lastFlushMs = clock.nowMs();
    // 2. Insert oldest first; stop at the first refusal and keep the rest for the next flush.
    while (unsent.length > 0) {
      const batch = unsent[0]!;
      const started = performance.now();
      try {
        await store.insert(CHECK_RESULTS_TABLE, batch.rows, { dedupToken: batch.token });
      } catch (err) {
        logger.warn({ err: errorMessage(err), rows: batch.rows.length }, 'prober: check results not written; retrying at the next flush');
        return;
      }
      // 3. Only now forget the batch.
      unsent.shift();
      deps.telemetry?.accepted(batch.rows.length);
      deps.telemetry?.observeBatch(performance.now() - started);
    }
  }

  function flush(): Promise<void> {
    flushing ??= flushOnce().finally(() => {
      flushing = null;
    });
    return flushing;
  }

  async function tick(): Promise<void> {
    if (!(await trySetup())) return;
    const now = clock.nowMs();
    const runs: Array<Promise<unknown>> = [];
    for (const item of scheduled.values()) {
      if (item.running || now < item.nextDueMs) continue;
      // The next run is an interval after this one started (not after it ended): a 1 s check stays a 1 s check.
      item.nextDueMs = Math.max(item.nextDueMs + item.check.intervalMs, now);
      if (item.nextDueMs <= now) item.nextDueMs = now + item.check.intervalMs;
      runs.push(execute(item));
    }
    await Promise.all(runs);
    if (clock.nowMs() - lastFlushMs >= config.flushIntervalMs) await flush();
  }

  return {
    checks: () => [...scheduled.values()].map((s) => s.check),
    setup: () => setupDone,
    tick,
    flush,
    async runCheck(name) {
      const item = scheduled.get(name);
      if (!item) throw new CheckFailure(CHECK_ERROR_CODES.configInvalid, 'run check', `no check named ${name}; the prober has ${[...scheduled.keys()].join(', ') || 'none yet (not set up)'}`);
      if (item.running) return [];
      return execute(item);
    },
    async start() {
      if (running) return;
      running = true;
      await trySetup();
      if (config.tickMs > 0) {
        heartbeat = setInterval(() => {
          tick().catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'prober: tick failed'));
        }, config.tickMs);
        heartbeat.unref();
      }
    },
    async stop() {
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      running = false;
      // 1. Let the runs in flight finish (each is bounded by its timeout), 2. then write everything they recorded.
      await Promise.all([...inFlight]);
      await flush();
    },
  };
}
