import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLevel, LogRecord } from '../core/index.ts';
import { eventually } from './support/openstack-http.ts';
import { startApiTenants, type ApiTenants, type Caller } from './support/api-tenants.ts';

/**
 * /log/v1: search, counts per interval and request correlation, with the admin and two
 * project members. Lines are written straight into the store under services no other
 * writer uses, so every expected answer is computed here from the lines themselves.
 */

interface Page {
  logs: LogRecord[];
  next: string | null;
}
interface Counts {
  interval: number;
  by: string | null;
  buckets: Array<{ timestamp: string; total: number; groups?: Record<string, number> }>;
}
interface Trail {
  request_id: string;
  records: Array<{ kind: 'log' | 'event' | 'audit'; time: string; record: Record<string, unknown> }>;
  counts: { log: number; event: number; audit: number };
  truncated: string[];
}

let tenants: ApiTenants;
const SUFFIX = Date.now().toString(36);
const SVC = `itest-api-${SUFFIX}`;
const SVC2 = `itest-worker-${SUFFIX}`;
// Two hours ago, on a whole hour: the lines are inside their retention, the intervals predictable.
const BASE_MS = Math.floor((Date.now() - 2 * 3_600_000) / 3_600_000) * 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** The API's form of a stored time: ISO 8601 UTC with microseconds. */
const apiTime = (ms: number, micros = 0) => `${iso(ms).slice(0, 19)}.${String((ms % 1000) * 1000 + micros).padStart(6, '0')}+00:00`;

let lines: LogRecord[] = [];
const uuid = (n: number) => `00000000-0000-5000-9000-${String(n).padStart(12, '0')}`;

function makeLines(alpha: string, beta: string, alphaUser: string): LogRecord[] {
  const line = (n: number, secondsAfter: number, fields: Partial<LogRecord>): LogRecord => ({
    id: uuid(n),
    timestamp: apiTime(BASE_MS + secondsAfter * 1000),
    service: SVC,
    host: 'controller-1',
    pid: 100 + n,
    level: 'INFO',
    logger: 'itest.api',
    request_id: null,
    user_id: null,
    project_id: null,
    message: `line ${n}`,
    ...fields,
  });
  return [
    line(1, 10, { message: 'GET /v2.1/servers status: 200 len: 1532', project_id: alpha, user_id: alphaUser, request_id: `req-a-${SUFFIX}` }),
    line(2, 20, { level: 'WARNING', message: "Quota exceeded for O'Brien \\ \"quoted\"", project_id: alpha, user_id: alphaUser }),
    line(3, 70, { level: 'ERROR', message: 'Unexpected exception in API method; see nova-compute.log', project_id: beta, request_id: `req-b-${SUFFIX}` }),
    line(4, 80, { level: 'DEBUG', message: 'periodic task ran', host: "evil'host" }),
    line(5, 130, { level: 'CRITICAL', message: 'WSREP: Quorum lost', service: SVC2, host: 'controller-2' }),
    line(6, 3700, { message: 'Took 3.21 seconds to spawn the instance', project_id: alpha, request_id: `req-a-${SUFFIX}` }),
    line(7, 3710, { level: 'ERROR', message: 'AMQP server on controller-1:5672 is unreachable', service: SVC2 }),
  ];
}

const ids = (logs: LogRecord[]) => logs.map((l) => Number(l.id.slice(-3)));
const newestFirst = (subset: LogRecord[]) => ids([...subset].sort((a, b) => (a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : a.id < b.id ? 1 : -1)));
const both = `service=${SVC}&service=${SVC2}`;

async function page(caller: Caller, query: string): Promise<Page> {
  const res = await caller.get(`/log/v1/logs?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Page;
}
async function error(caller: Caller, path: string): Promise<{ status: number; message: string }> {
  const res = await caller.get(path);
  const body = (await res.json()) as { error: { message: string; status: number } };
  return { status: res.status, message: body.error?.message };
}

beforeAll(async () => {
  tenants = await startApiTenants();
  lines = makeLines(tenants.alpha.projectId, tenants.beta.projectId, tenants.alpha.userId);
  await tenants.platform.store.insert('logs', lines);
}, 60_000);
afterAll(async () => tenants?.stop());

describe('GET /log/v1/logs', () => {
  it('answers 401 without a token, and is documented under the log tag', async () => {
    for (const path of ['/log/v1/logs', '/log/v1/counts?interval=60', '/log/v1/requests/req-1']) expect((await fetch(`${tenants.url}${path}`)).status, path).toBe(401);
    const doc = (await (await fetch(`${tenants.url}/docs/json`)).json()) as { paths: Record<string, { get?: { tags?: string[]; parameters?: Array<{ name: string }> } }> };
    for (const path of ['/log/v1/logs', '/log/v1/counts', '/log/v1/requests/{request_id}']) expect(doc.paths[path]?.get?.tags, path).toEqual(['log']);
    expect(doc.paths['/log/v1/logs']?.get?.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['start', 'end', 'service', 'host', 'level', 'min_level', 'request_id', 'user_id', 'project_id', 'text', 'limit', 'next']));
  });

  it('gives the admin every line, newest first, and each member only their project', async () => {
    expect(ids((await page(tenants.admin, both)).logs)).toEqual(newestFirst(lines));
    const alphaLines = lines.filter((l) => l.project_id === tenants.alpha.projectId);
    expect(ids((await page(tenants.alpha, both)).logs)).toEqual(newestFirst(alphaLines));
    expect(ids((await page(tenants.beta, both)).logs)).toEqual([3]);
    // Asking for another project's lines narrows, it never widens.
    expect((await page(tenants.alpha, `${both}&project_id=${tenants.beta.projectId}`)).logs).toEqual([]);
    expect(ids((await page(tenants.admin, `${both}&project_id=${tenants.beta.projectId}`)).logs)).toEqual([3]);
  });

  it('returns the lines exactly as they were stored', async () => {
    const { logs } = await page(tenants.admin, `service=${SVC}&order=asc`);
    expect(logs).toEqual(lines.filter((l) => l.service === SVC));
  });

  it('filters by time, service, host, level, minimum level, request, user and text', async () => {
    const only = async (query: string) => ids((await page(tenants.admin, `${both}&order=asc&${query}`)).logs);
    expect(await only(`start=${iso(BASE_MS + 20_000)}&end=${iso(BASE_MS + 130_000)}`)).toEqual([2, 3, 4]);
    expect(await only(`start=${(BASE_MS + 3_600_000) / 1000}`)).toEqual([6, 7]);
    expect(ids((await page(tenants.admin, `service=${SVC2}&order=asc`)).logs)).toEqual([5, 7]);
    expect(await only('host=controller-2')).toEqual([5]);
    expect(await only('level=ERROR&level=DEBUG')).toEqual([3, 4, 7]);
    expect(await only('min_level=ERROR')).toEqual([3, 5, 7]);
    expect(await only(`request_id=req-a-${SUFFIX}`)).toEqual([1, 6]);
    expect(await only(`user_id=${tenants.alpha.userId}`)).toEqual([1, 2]);
    // Text: any part of the message, whatever its case.
    expect(await only('text=ova-comp')).toEqual([3]);
    expect(await only('text=QUORUM')).toEqual([5]);
    expect(await only(`text=${encodeURIComponent('status: 200 len')}`)).toEqual([1]);
    expect(await only(`text=${encodeURIComponent('controller-1:5672')}`)).toEqual([7]);
  });

  it('treats quotes, backslashes and SQL in every filter as data', async () => {
    const only = async (query: string) => ids((await page(tenants.admin, `${both}&${query}`)).logs);
    expect(await only(`text=${encodeURIComponent("O'Brien \\ \"quoted\"")}`)).toEqual([2]);
    expect(await only(`host=${encodeURIComponent("evil'host")}`)).toEqual([4]);
    const attacks = ["' OR '1'='1", "x') OR 1=1 --", '\\', "'; DROP TABLE logs; --", '{project_id:String}', '%', '_'];
    for (const attack of attacks) {
      const value = encodeURIComponent(attack);
      for (const field of ['host', 'request_id', 'user_id', 'project_id']) expect(await only(`${field}=${value}`), `${field}=${attack}`).toEqual([]);
      expect((await page(tenants.admin, `service=${value}`)).logs).toEqual([]);
      expect((await page(tenants.alpha, `${both}&project_id=${value}`)).logs).toEqual([]);
    }
    expect(await only(`text=${encodeURIComponent("' OR '1'='1")}`)).toEqual([]);
    expect(await only('text=%25')).toEqual([]);
    // The table is still there, with every line.
    expect(ids((await page(tenants.admin, both)).logs)).toEqual(newestFirst(lines));
  });

  it('pages with an opaque cursor that must come back with the same filters and order', async () => {
    const seen: number[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const result: Page = await page(tenants.admin, `${both}&limit=3${next ? `&next=${encodeURIComponent(next)}` : ''}`);
      seen.push(...ids(result.logs));
      next = result.next;
      pages++;
    } while (next !== null && pages < 10);
    expect(seen).toEqual(newestFirst(lines));
    expect(pages).toBe(3);
    const ascending = await page(tenants.admin, `${both}&limit=4&order=asc`);
    expect(ids(ascending.logs)).toEqual([1, 2, 3, 4]);
    expect(ids((await page(tenants.admin, `${both}&limit=4&order=asc&next=${ascending.next}`)).logs)).toEqual([5, 6, 7]);
    // The same cursor with another filter, another order, or mangled: 400 naming next.
    for (const query of [`service=${SVC}&limit=4&order=asc&next=${ascending.next}`, `${both}&limit=4&next=${ascending.next}`, `${both}&next=not-a-cursor`]) {
      const refused = await error(tenants.admin, `/log/v1/logs?${query}`);
      expect(refused.status).toBe(400);
      expect(refused.message).toMatch(/next/);
    }
  });

  it('refuses bad parameters with a 400 naming the field', async () => {
    const cases: Array<[string, RegExp]> = [
      ['limit=0', /limit/],
      ['limit=1001', /limit/],
      ['level=LOUD', /level/],
      ['min_level=info', /min_level/],
      ['start=yesterday-ish', /start/],
      [`start=${iso(BASE_MS + 10_000)}&end=${iso(BASE_MS)}`, /end/],
      ['colour=red', /colour/],
      ['text=', /text/],
      [`request_id=${'r'.repeat(256)}`, /request_id/],
    ];
    for (const [query, field] of cases) {
      const refused = await error(tenants.admin, `/log/v1/logs?${query}`);
      expect(refused.status, query).toBe(400);
      expect(refused.message, query).toMatch(field);
    }
  });
});

describe('GET /log/v1/counts', () => {
  const window = `start=${iso(BASE_MS)}&end=${iso(BASE_MS + 7_200_000)}`;
  /** The counts computed from the lines: interval start (ms) -> key -> count. */
  function expected(subset: LogRecord[], seconds: number, key?: (l: LogRecord) => string): Map<number, Record<string, number>> {
    const out = new Map<number, Record<string, number>>();
    for (let at = BASE_MS; at < BASE_MS + 7_200_000; at += seconds * 1000) out.set(at, {});
    for (const l of subset) {
      const at = Math.floor(Date.parse(l.timestamp) / 1000 / seconds) * seconds * 1000;
      const groups = out.get(at) as Record<string, number>;
      const k = key ? key(l) : '';
      groups[k] = (groups[k] ?? 0) + 1;
    }
    return out;
  }
  async function counts(caller: Caller, query: string): Promise<Counts> {
    const res = await caller.get(`/log/v1/counts?${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Counts;
  }

  it('counts per interval, every interval listed, per level when asked', async () => {
    const perMinute = await counts(tenants.admin, `${both}&${window}&interval=60s&by=level`);
    const want = expected(lines, 60, (l) => l.level);
    expect(perMinute.interval).toBe(60);
    expect(perMinute.buckets.map((b) => [b.timestamp, b.total, b.groups])).toEqual(
      [...want.entries()].map(([at, groups]) => [iso(at), Object.values(groups).reduce((a, b) => a + b, 0), groups]),
    );
    const perHour = await counts(tenants.admin, `${both}&${window}&interval=1h`);
    expect(perHour.buckets).toEqual([
      { timestamp: iso(BASE_MS), total: 5 },
      { timestamp: iso(BASE_MS + 3_600_000), total: 2 },
    ]);
    const perFive = await counts(tenants.admin, `${both}&${window}&interval=5min&by=service&min_level=ERROR`);
    const wantFive = expected(lines.filter((l) => ['ERROR', 'CRITICAL'].includes(l.level)), 300, (l) => l.service);
    expect(perFive.buckets.filter((b) => b.total > 0).map((b) => [b.timestamp, b.groups])).toEqual([...wantFive.entries()].filter(([, g]) => Object.keys(g).length > 0).map(([at, g]) => [iso(at), g]));
    expect(perFive.buckets).toHaveLength(24);
  });

  it("counts only the member's project", async () => {
    const alpha = await counts(tenants.alpha, `${both}&${window}&interval=1h&by=host`);
    expect(alpha.buckets).toEqual([
      { timestamp: iso(BASE_MS), total: 2, groups: { 'controller-1': 2 } },
      { timestamp: iso(BASE_MS + 3_600_000), total: 1, groups: { 'controller-1': 1 } },
    ]);
    const beta = await counts(tenants.beta, `${both}&${window}&interval=1h`);
    expect(beta.buckets.map((b) => b.total)).toEqual([1, 0]);
  });

  it('refuses a missing, bad or too fine interval, naming it', async () => {
    for (const query of ['', 'interval=fast', 'interval=0', 'interval=1.5s', `interval=1s&start=${iso(BASE_MS - 30 * 86_400_000)}&end=${iso(BASE_MS)}`, 'interval=60&by=message']) {
      const refused = await error(tenants.admin, `/log/v1/counts?${query}`);
      expect(refused.status, query).toBe(400);
      expect(refused.message, query).toMatch(query.includes('by=') ? /by/ : /interval/);
    }
  });
});

describe('GET /log/v1/requests/<request_id>', () => {
  const shared = `req-shared-${SUFFIX}`;
  const at = (seconds: number) => apiTime(BASE_MS + 600_000 + seconds * 1000);
  /** `kind seconds, ...` as the [kind, time] pairs a trail lists. */
  const steps = (text: string) => text.split(', ').map((step) => [step.split(' ')[0], at(Number(step.split(' ')[1]))]);
  const timeline = (trail: Trail) => trail.records.map((r) => [r.kind, r.time]);
  const logLine = (n: number, seconds: number, project: string | null): LogRecord => ({
    id: uuid(100 + n),
    timestamp: at(seconds),
    service: SVC,
    host: 'controller-1',
    pid: 1,
    level: 'INFO' as LogLevel,
    logger: 'itest.trail',
    request_id: shared,
    user_id: null,
    project_id: project,
    message: `trail line ${n}`,
  });

  beforeAll(async () => {
    const alpha = tenants.alpha.projectId;
    const beta = tenants.beta.projectId;
    await tenants.platform.store.insert('logs', [logLine(1, 1, alpha), logLine(2, 4, alpha), logLine(3, 2, beta)]);
    await tenants.platform.store.insert('events', [
      {
        message_id: `msg-trail-${SUFFIX}`,
        event_type: 'compute.instance.create.end',
        generated: at(3).replace('+00:00', ''),
        project_id: alpha,
        resource_id: 'server-1',
        traits_string: { request_id: shared, project_id: alpha, service: 'compute.controller-1' },
        traits_int: {},
        traits_float: {},
        traits_datetime: {},
        raw: JSON.stringify({ _context_request_id: shared }),
      },
    ]);
    const audit = (n: number, seconds: number, outcome: string, project: string | null) => ({
      id: `00000000-0000-5000-a000-${String(n).padStart(12, '0')}`,
      event_time: at(seconds).replace('+00:00', ''),
      action: 'create',
      outcome,
      event_type: outcome === 'pending' ? 'audit.http.request' : 'audit.http.response',
      type_uri: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
      initiator_id: tenants.alpha.userId,
      initiator_type: 'service/security/account/user',
      initiator_name: null,
      project_id: project,
      initiator_address: null,
      initiator_agent: null,
      target_id: 'server-1',
      target_type: 'service/compute/servers',
      target_address: null,
      observer_id: 'target',
      observer_type: 'service/compute',
      reason_code: outcome === 'pending' ? null : '202',
      request_id: shared,
      raw: JSON.stringify({ id: `cadf-${n}` }),
    });
    await tenants.platform.store.insert('audit_records', [audit(1, 0, 'pending', alpha), audit(2, 5, 'success', alpha), audit(3, 6, 'failure', null)]);
  });

  it("puts a request's log lines, events and audit records in time order, per reader", async () => {
    const admin = (await (await tenants.admin.get(`/log/v1/requests/${shared}`)).json()) as Trail;
    expect(timeline(admin)).toEqual(steps('audit 0, log 1, log 2, event 3, log 4, audit 5, audit 6'));
    expect(admin.counts).toEqual({ log: 3, event: 1, audit: 3 });
    const alpha = (await (await tenants.alpha.get(`/log/v1/requests/${shared}`)).json()) as Trail;
    expect(timeline(alpha)).toEqual(steps('audit 0, log 1, event 3, log 4, audit 5'));
    expect(alpha.records[1]?.record).toEqual(logLine(1, 1, tenants.alpha.projectId));
    expect(alpha.records[2]?.record).toMatchObject({ message_id: `msg-trail-${SUFFIX}`, event_type: 'compute.instance.create.end', generated: at(3) });
    expect(alpha.records[4]?.record).toMatchObject({ outcome: 'success', reason_code: '202', request_id: shared, raw: { id: 'cadf-2' } });
    const beta = (await (await tenants.beta.get(`/log/v1/requests/${shared}`)).json()) as Trail;
    expect(timeline(beta)).toEqual(steps('log 2'));
  });

  it('cuts each kind at limit, keeping the oldest, and says so', async () => {
    const trail = (await (await tenants.admin.get(`/log/v1/requests/${shared}?limit=1`)).json()) as Trail;
    expect(timeline(trail)).toEqual(steps('audit 0, log 1, event 3'));
    expect(trail.truncated.sort()).toEqual(['audit', 'log']);
  });

  it("answers 404 for another project's request exactly as for an unknown one, and takes injection as data", async () => {
    const betaOnly = `req-b-${SUFFIX}`;
    const other = await error(tenants.alpha, `/log/v1/requests/${betaOnly}`);
    const unknown = await error(tenants.alpha, `/log/v1/requests/req-unknown-${SUFFIX}`);
    expect(other.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(other.message.replace(betaOnly, 'X')).toBe(unknown.message.replace(`req-unknown-${SUFFIX}`, 'X'));
    expect((await tenants.admin.get(`/log/v1/requests/${betaOnly}`)).status).toBe(200);
    for (const attack of ["' OR '1'='1", "req') OR 1=1 --", '\\', `${shared}' --`]) {
      expect((await tenants.admin.get(`/log/v1/requests/${encodeURIComponent(attack)}`)).status, attack).toBe(404);
    }
    const refused = await error(tenants.admin, `/log/v1/requests/${shared}?limit=0`);
    expect(refused.status).toBe(400);
    expect(refused.message).toMatch(/limit/);
  });

  it("correlates a real request to the control plane: its access log line, its notifications' events and its audit records", async () => {
    const res = await tenants.alpha.post('/network/v2.0/networks', { network: { name: `trail-${SUFFIX}` } });
    expect(res.status).toBe(201);
    const requestId = res.headers.get('x-openstack-request-id') as string;
    expect(requestId).toMatch(/^req-/);
    const trail = await eventually(async () => {
      const r = await tenants.alpha.get(`/log/v1/requests/${requestId}`);
      if (r.status !== 200) return undefined;
      const body = (await r.json()) as Trail;
      return body.counts.log > 0 && body.counts.event > 0 && body.counts.audit > 0 ? body : undefined;
    }, 'the log line, event and audit record of the request');
    const kinds = new Set(trail.records.map((r) => r.kind));
    expect(kinds).toEqual(new Set(['log', 'event', 'audit']));
    for (const r of trail.records) {
      if (r.kind === 'log') expect(r.record).toMatchObject({ request_id: requestId, project_id: tenants.alpha.projectId });
      if (r.kind === 'audit') expect(r.record).toMatchObject({ request_id: requestId, project_id: tenants.alpha.projectId });
      if (r.kind === 'event') expect((r.record.traits as Array<{ name: string; value: unknown }>).find((t) => t.name === 'request_id')?.value).toBe(requestId);
    }
    expect(trail.records.map((r) => r.time)).toEqual([...trail.records.map((r) => r.time)].sort());
    expect(trail.records.some((r) => r.kind === 'event' && r.record.event_type === 'network.create.end')).toBe(true);
    expect((await tenants.beta.get(`/log/v1/requests/${requestId}`)).status).toBe(404);
  });
});
