import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../core/index.ts';
import { AUDIT_COLUMNS } from '../storage/index.ts';
import { startApiTenants, type ApiTenants, type Caller } from './support/api-tenants.ts';
import { eventually } from './support/openstack-http.ts';

/** CADF audit records under /audit/v1: the 7 Ws, reports, streamed export, stable pages, RBAC, bad input. */

interface Page {
  records: AuditRecord[];
  next: string | null;
}

// Seeded records live in their own hour, two hours back, so the platform's own records
// (logins of the test callers) never fall in the queried range. Recent enough for the TTL.
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / 3_600_000) * 3_600_000;
const RANGE = `start=${new Date(T0).toISOString()}&end=${new Date(T0 + 3_600_000).toISOString()}`;
/** ISO 8601 UTC with microseconds, as the collector writes event_time. */
const at = (seconds: number, micros = 0) => `${new Date(T0 + seconds * 1000).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}+00:00`;

const INJECTIONS = ["' OR 1=1 --", "root' OR '1'='1", 'x\\\' OR \'\'=\'', "'); DROP TABLE audit_records; --", '\\', '%', "\" OR \"\"=\""];

let tenants: ApiTenants;
let seeds: AuditRecord[];
let adminProject: string;

/** ClickHouse orders UUIDs by their last 8 bytes, then their first 8 (its UInt128 layout): ties on event_time break that way. */
const uuidKey = (id: string) => {
  const hex = id.replace(/-/g, '');
  return hex.slice(16) + hex.slice(0, 16);
};
/** The table's order, (event_time, id), computed here independently. */
const byTime = (a: AuditRecord, b: AuditRecord) => (a.event_time === b.event_time ? uuidKey(a.id).localeCompare(uuidKey(b.id)) : a.event_time.localeCompare(b.event_time));
const ofSeeds = (pick: (r: AuditRecord) => boolean, order: 'asc' | 'desc' = 'desc') => {
  const picked = seeds.filter(pick).sort(byTime);
  return (order === 'asc' ? picked : picked.reverse()).map((r) => r.id);
};

async function json<T>(caller: Caller, path: string): Promise<T> {
  const res = await caller.get(path);
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  return (await res.json()) as T;
}
const recordIds = async (caller: Caller, path: string) => (await json<Page>(caller, path)).records.map((r) => r.id);

async function refused(res: Response, status: number): Promise<string> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: string; status: number; message: string } };
  expect(body.error.status).toBe(status);
  return body.error.message;
}

/** Every page of a paged route, following `next`. */
async function walk(caller: Caller, path: string, between?: (page: number) => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let next: string | null = null;
  for (let page = 0; ; page++) {
    const body: Page = await json<Page>(caller, `${path}${next ? `&next=${encodeURIComponent(next)}` : ''}`);
    seen.push(...body.records.map((r) => r.id));
    if (body.next === null) return seen;
    next = body.next;
    await between?.(page);
  }
}

const toRow = (r: AuditRecord) => ({ ...r, raw: JSON.stringify(r.raw) });

beforeAll(async () => {
  tenants = await startApiTenants();
  adminProject = tenants.admin.projectId;
  const alpha = tenants.alpha;
  const beta = tenants.beta;
  const base = (n: number, seconds: number, fields: Partial<AuditRecord>): AuditRecord => ({
    id: randomUUID(),
    action: 'read/list',
    outcome: 'success',
    event_type: 'audit.http.response',
    type_uri: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
    event_time: at(seconds, n),
    initiator_id: alpha.userId,
    initiator_type: 'service/security/account/user',
    initiator_name: 'alice',
    project_id: alpha.projectId,
    initiator_address: '10.0.0.5',
    initiator_agent: 'openstacksdk/4.1.0 keystoneauth1/5.9.0',
    target_id: 'vm-a',
    target_type: 'service/compute/servers/server',
    target_address: `${tenants.url}/compute/v2.1`,
    observer_id: 'target',
    observer_type: 'service/compute',
    reason_code: '200',
    request_id: `req-${n}-${randomUUID().slice(0, 8)}`,
    raw: { id: `cadf-${n}`, initiator: { id: alpha.userId } },
    ...fields,
  });
  const login = (n: number, seconds: number, address: string | null, name: string | null, fields: Partial<AuditRecord> = {}) =>
    base(n, seconds, {
      action: 'authenticate',
      outcome: 'failure',
      event_type: 'identity.authenticate',
      initiator_id: randomUUID().replace(/-/g, ''),
      initiator_name: name,
      project_id: null,
      initiator_address: address,
      initiator_agent: 'curl/8.5',
      target_id: 'identity-target',
      target_type: 'service/security/account/user',
      target_address: null,
      observer_id: 'identity-service',
      observer_type: 'service/security',
      reason_code: '401',
      request_id: null,
      ...fields,
    });
  seeds = [
    base(1, 60, {}),
    // One stop request: its pending half (keystonemiddleware's request event), then its answer.
    base(2, 120, { action: 'update/os-stop', reason_code: '202', initiator_agent: 'agent, with "comma"', request_id: `req-stop-${T0}` }),
    base(3, 119, { action: 'update/os-stop', outcome: 'pending', reason_code: null, request_id: `req-stop-${T0}` }),
    base(4, 180, { initiator_id: beta.userId, initiator_name: 'bob', project_id: beta.projectId, action: 'delete', outcome: 'failure', reason_code: '403', target_id: 'vm-b', initiator_address: '10.0.0.6' }),
    login(5, 240, '203.0.113.9', 'mallory'),
    login(6, 300, '203.0.113.9', "root' OR '1'='1"),
    login(7, 360, '198.51.100.7', 'mallory'),
    base(8, 420, { initiator_id: tenants.admin.userId, initiator_name: 'admin', project_id: adminProject, action: 'created.project', event_type: 'identity.project.created', target_id: 'project-new', target_type: 'data/security/project', observer_id: 'identity-service', observer_type: 'service/security', reason_code: null }),
    // An emitter that lists the initiator's roles: privileged by role, though alpha's.
    base(9, 480, { action: 'update', target_id: 'vm-a', reason_code: '200', raw: { id: 'cadf-9', initiator: { id: alpha.userId, roles: ['member', 'admin'] } } }),
    // A request with a bad token, refused by a service: a failed authentication too.
    base(10, 540, { initiator_id: 'unknown', initiator_name: null, project_id: null, initiator_address: '203.0.113.9', action: 'read/list', outcome: 'failure', reason_code: '401', target_id: 'vm-a' }),
    // Same second as seed 1 (ties break on id).
    base(11, 60, { action: 'read', target_id: 'vm-a', request_id: 'req-11' }),
  ];
  await tenants.platform.store.insert('audit_records', seeds.map(toRow));
}, 60_000);
afterAll(async () => tenants?.stop());

describe('audit: records and RBAC', () => {
  it('gives the admin every record, each member their project\'s, newest first', async () => {
    expect(await recordIds(tenants.admin, `/audit/v1/records?${RANGE}`)).toEqual(ofSeeds(() => true));
    expect(await recordIds(tenants.alpha, `/audit/v1/records?${RANGE}`)).toEqual(ofSeeds((r) => r.project_id === tenants.alpha.projectId));
    expect(await recordIds(tenants.beta, `/audit/v1/records?${RANGE}`)).toEqual(ofSeeds((r) => r.project_id === tenants.beta.projectId));
    expect(await recordIds(tenants.admin, `/audit/v1/records?${RANGE}&order=asc`)).toEqual(ofSeeds(() => true, 'asc'));
  });

  it('shows one record as it was written, and another project\'s as missing', async () => {
    const mine = seeds[1]!;
    expect(await json(tenants.alpha, `/audit/v1/records/${mine.id}`)).toEqual(mine);
    const foreign = seeds[3]!;
    const missing = randomUUID();
    expect(await refused(await tenants.alpha.get(`/audit/v1/records/${foreign.id}`), 404)).toBe(`Audit record ${foreign.id} does not exist`);
    expect(await refused(await tenants.alpha.get(`/audit/v1/records/${missing}`), 404)).toBe(`Audit record ${missing} does not exist`);
    expect(await json(tenants.beta, `/audit/v1/records/${foreign.id}`)).toEqual(foreign);
    expect(await json(tenants.admin, `/audit/v1/records/${foreign.id}`)).toEqual(foreign);
    // Records without a project (failed logins) are the admins' only.
    expect((await tenants.alpha.get(`/audit/v1/records/${seeds[4]!.id}`)).status).toBe(404);
    // A project filter cannot reach another project.
    expect(await recordIds(tenants.alpha, `/audit/v1/records?${RANGE}&project_id=${tenants.beta.projectId}`)).toEqual([]);
    expect(await recordIds(tenants.admin, `/audit/v1/records?${RANGE}&project_id=${tenants.beta.projectId}`)).toEqual(ofSeeds((r) => r.project_id === tenants.beta.projectId));
  });
});

describe('audit: the 7 Ws', () => {
  // Every column but the key, the constant typeURI, the project (RBAC, tested above) and the raw event.
  const FIELDS = AUDIT_COLUMNS.filter((c) => !['id', 'event_time', 'type_uri', 'project_id', 'raw'].includes(c));

  it('filters by each W, alone and repeated (any of), and by time', async () => {
    for (const field of FIELDS) {
      const values = [...new Set(seeds.map((r) => r[field]).filter((v): v is string => typeof v === 'string'))];
      for (const value of values) {
        expect(await recordIds(tenants.admin, `/audit/v1/records?${RANGE}&${field}=${encodeURIComponent(value)}`), `${field}=${value}`).toEqual(ofSeeds((r) => r[field] === value));
      }
      if (values.length >= 2) {
        const two = values.slice(0, 2);
        expect(await recordIds(tenants.admin, `/audit/v1/records?${RANGE}&${two.map((v) => `${field}=${encodeURIComponent(v)}`).join('&')}`)).toEqual(ofSeeds((r) => two.includes(r[field] as string)));
      }
    }
    // Different Ws together must all match; a member's filter stays within their project.
    expect(await recordIds(tenants.admin, `/audit/v1/records?${RANGE}&action=update/os-stop&outcome=success`)).toEqual([seeds[1]!.id]);
    expect(await recordIds(tenants.alpha, `/audit/v1/records?${RANGE}&outcome=failure`)).toEqual([]);
    const from = new Date(T0 + 120_000).toISOString();
    const to = new Date(T0 + 300_000).toISOString();
    expect(await recordIds(tenants.admin, `/audit/v1/records?start=${from}&end=${to}`)).toEqual(ofSeeds((r) => r.event_time >= at(120) && r.event_time < at(300)));
    // Seconds since the epoch work too.
    expect(await recordIds(tenants.admin, `/audit/v1/records?start=${(T0 + 120_000) / 1000}&end=${(T0 + 300_000) / 1000}`)).toEqual(ofSeeds((r) => r.event_time >= at(120) && r.event_time < at(300)));
  });

  it('treats injection attempts in every filter as data', async () => {
    for (const text of INJECTIONS) {
      for (const field of [...FIELDS.filter((f) => f !== 'outcome'), 'project_id']) {
        expect(await recordIds(tenants.admin, `/audit/v1/records?${RANGE}&${field}=${encodeURIComponent(text)}`), `${field}=${text}`).toEqual(ofSeeds((r) => r[field as keyof AuditRecord] === text));
      }
      expect((await tenants.admin.get(`/audit/v1/reports/user-actions?user_id=${encodeURIComponent(text)}`)).status).toBe(200);
      expect((await json<Page>(tenants.admin, `/audit/v1/reports/resource-changes?target_id=${encodeURIComponent(text)}`)).records).toEqual([]);
      expect((await tenants.admin.get(`/audit/v1/reports/privileged-actions?${RANGE}&admin_project_id=${encodeURIComponent(text)}&role=${encodeURIComponent(text)}`)).status).toBe(200);
      expect((await tenants.admin.get(`/audit/v1/export?${RANGE}&initiator_name=${encodeURIComponent(text)}`)).status).toBe(200);
    }
    // The one record whose name is an injection string is found by it, exactly.
    expect(await recordIds(tenants.admin, `/audit/v1/records?${RANGE}&initiator_name=${encodeURIComponent("root' OR '1'='1")}`)).toEqual([seeds[5]!.id]);
    expect(await recordIds(tenants.admin, `/audit/v1/records?${RANGE}`)).toHaveLength(seeds.length);
  });
});

describe('audit: pages', () => {
  it('pages by an opaque cursor without skipping or repeating rows while records are inserted', async () => {
    const inserted: AuditRecord[] = [];
    const extra = (seconds: number) => ({ ...seeds[0]!, id: randomUUID(), event_time: at(seconds, 999), request_id: `late-${seconds}` });
    // Newest first, 3 a page; after each page, one record lands ahead of the cursor (older:
    // still to come) and one behind it (newer: already passed), plus one in a far later hour.
    const seen = await walk(tenants.admin, `/audit/v1/records?${RANGE}&limit=3`, async (page) => {
      const batch = [extra(30 - page), extra(3000 + page)];
      inserted.push(...batch);
      await tenants.platform.store.insert('audit_records', batch.map(toRow));
    });
    expect(new Set(seen).size).toBe(seen.length);
    for (const r of seeds) expect(seen.filter((id) => id === r.id)).toHaveLength(1);
    const ahead = inserted.filter((r) => r.event_time < at(60));
    const behind = inserted.filter((r) => r.event_time > at(600));
    for (const r of ahead) expect(seen).toContain(r.id);
    for (const r of behind) expect(seen).not.toContain(r.id);
    expect(seen).toHaveLength(seeds.length + ahead.length);
    // The walk read in the table's order.
    const all = [...seeds, ...ahead];
    expect(seen).toEqual(all.sort(byTime).reverse().map((r) => r.id));
    await tenants.platform.store.command({ sql: 'ALTER TABLE audit_records DELETE WHERE id IN {ids:Array(UUID)} SETTINGS mutations_sync = 1', params: { ids: inserted.map((r) => r.id) } });
    expect(await recordIds(tenants.admin, `/audit/v1/records?${RANGE}`)).toHaveLength(seeds.length);
  });

  it("keeps a member's pages in their project", async () => {
    expect(await walk(tenants.alpha, `/audit/v1/records?${RANGE}&limit=1`)).toEqual(ofSeeds((r) => r.project_id === tenants.alpha.projectId));
  });
});

describe('audit: reports', () => {
  it("lists a user's actions in a period, with counts by action and outcome", async () => {
    const user = tenants.alpha.userId;
    const expected = ofSeeds((r) => r.initiator_id === user && r.outcome !== 'pending', 'asc');
    for (const caller of [tenants.admin, tenants.alpha]) {
      const body = await json<Page & { user_id: string; summary: Array<{ action: string; outcome: string; count: number; first: string; last: string }> }>(caller, `/audit/v1/reports/user-actions?user_id=${user}&${RANGE}`);
      expect(body.records.map((r) => r.id)).toEqual(expected);
      const counts = new Map<string, number>();
      for (const r of seeds.filter((s) => expected.includes(s.id))) counts.set(`${r.action} ${r.outcome}`, (counts.get(`${r.action} ${r.outcome}`) ?? 0) + 1);
      expect(Object.fromEntries(body.summary.map((s) => [`${s.action} ${s.outcome}`, s.count]))).toEqual(Object.fromEntries(counts));
      const reads = body.summary.find((s) => s.action === 'read/list')!;
      expect([reads.first, reads.last]).toEqual([at(60, 1), at(60, 1)]);
    }
    // Beta sees nothing of alpha's user.
    const other = await json<Page & { summary: unknown[] }>(tenants.beta, `/audit/v1/reports/user-actions?user_id=${user}&${RANGE}`);
    expect([other.records, other.summary]).toEqual([[], []]);
    // Paged like /records.
    expect(await walk(tenants.alpha, `/audit/v1/reports/user-actions?user_id=${user}&${RANGE}&limit=2`)).toEqual(expected);
  });

  it('groups failed authentications by source address', async () => {
    const failures = seeds.filter((r) => r.outcome === 'failure' && (r.action === 'authenticate' || r.reason_code === '401'));
    const body = await json<{ total: number; sources: Array<{ address: string | null; count: number; first: string; last: string; initiator_names: string[]; initiator_ids: string[] }> }>(
      tenants.admin,
      `/audit/v1/reports/failed-authentications?${RANGE}`,
    );
    expect(body.total).toBe(failures.length);
    const byAddress = new Map<string, AuditRecord[]>();
    for (const r of failures) byAddress.set(r.initiator_address as string, [...(byAddress.get(r.initiator_address as string) ?? []), r]);
    expect(body.sources.map((s) => [s.address, s.count])).toEqual([...byAddress].sort((a, b) => b[1].length - a[1].length).map(([address, rs]) => [address, rs.length]));
    const top = body.sources[0]!;
    const topRecords = byAddress.get(top.address as string)!;
    expect(top.first).toBe(topRecords.map((r) => r.event_time).sort()[0]);
    expect(top.last).toBe(topRecords.map((r) => r.event_time).sort().at(-1));
    expect(top.initiator_names).toEqual([...new Set(topRecords.map((r) => r.initiator_name).filter((n) => n !== null))].sort());
    // Failed logins have no project: a member's report is empty.
    expect((await json<{ sources: unknown[] }>(tenants.alpha, `/audit/v1/reports/failed-authentications?${RANGE}`)).sources).toEqual([]);
  });

  it('lists every change to a resource, oldest first, without reads or pending halves', async () => {
    const expected = ofSeeds((r) => r.target_id === 'vm-a' && !r.action.startsWith('read') && r.outcome !== 'pending', 'asc');
    expect(expected.length).toBeGreaterThan(1);
    expect((await json<Page>(tenants.admin, `/audit/v1/reports/resource-changes?target_id=vm-a&${RANGE}`)).records.map((r) => r.id)).toEqual(expected);
    expect((await json<Page>(tenants.alpha, `/audit/v1/reports/resource-changes?target_id=vm-a&${RANGE}`)).records.map((r) => r.id)).toEqual(expected);
    expect((await json<Page>(tenants.beta, `/audit/v1/reports/resource-changes?target_id=vm-a&${RANGE}`)).records).toEqual([]);
    expect((await json<Page>(tenants.beta, `/audit/v1/reports/resource-changes?target_id=vm-b&${RANGE}`)).records.map((r) => r.id)).toEqual([seeds[3]!.id]);
  });

  it("lists privileged actions: the admin project's, and initiators whose roles say admin", async () => {
    const body = await json<Page & { admin_project_ids: string[]; roles: string[] }>(tenants.admin, `/audit/v1/reports/privileged-actions?${RANGE}`);
    expect([body.admin_project_ids, body.roles]).toEqual([[adminProject], ['admin']]);
    expect(body.records.map((r) => r.id)).toEqual(ofSeeds((r) => r.project_id === adminProject || r === seeds[8]));
    // A member sees the privileged actions in their own project only.
    expect(await recordIds(tenants.alpha, `/audit/v1/reports/privileged-actions?${RANGE}`)).toEqual([seeds[8]!.id]);
    expect(await recordIds(tenants.beta, `/audit/v1/reports/privileged-actions?${RANGE}`)).toEqual([]);
    // Admin projects and roles can be named.
    expect(await recordIds(tenants.admin, `/audit/v1/reports/privileged-actions?${RANGE}&admin_project_id=${tenants.beta.projectId}&role=auditor`)).toEqual([seeds[3]!.id]);
  });
});

/** An RFC 4180 reader, written apart from the exporter's writer. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

describe('audit: export', () => {
  it('exports JSON lines and CSV with a header row, quoting as RFC 4180, for the caller only', async () => {
    const jsonl = await tenants.admin.get(`/audit/v1/export?${RANGE}`);
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(jsonl.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-records-\d{8}T\d{6}Z\.jsonl"$/);
    const lines = (await jsonl.text()).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l) as AuditRecord)).toEqual(ofSeeds(() => true, 'asc').map((id) => seeds.find((r) => r.id === id)));

    const csv = await tenants.alpha.get(`/audit/v1/export?${RANGE}&format=csv&order=desc`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, ...rows] = parseCsv(await csv.text());
    expect(header).toEqual(['id', 'event_time', 'action', 'outcome', 'event_type', 'type_uri', 'initiator_id', 'initiator_type', 'initiator_name', 'project_id', 'initiator_address', 'initiator_agent', 'target_id', 'target_type', 'target_address', 'observer_id', 'observer_type', 'reason_code', 'request_id', 'raw']);
    const expected = ofSeeds((r) => r.project_id === tenants.alpha.projectId).map((id) => seeds.find((r) => r.id === id)!);
    expect(rows).toEqual(expected.map((r) => header!.map((column) => (column === 'raw' ? JSON.stringify(r.raw) : ((r[column as keyof AuditRecord] as string | null) ?? '')))));
    // The agent with a comma and quotes survived the round trip.
    expect(rows.some((row) => row.includes('agent, with "comma"'))).toBe(true);
    // Filters and the project apply as in /records.
    const beta = await (await tenants.beta.get(`/audit/v1/export?${RANGE}&format=csv`)).text();
    expect(parseCsv(beta).slice(1).map((row) => row[0])).toEqual([seeds[3]!.id]);
  });

  it('streams a large export in chunks, page after page, each record once and in order', async () => {
    const hour = T0 - 3_600_000;
    const count = 2_600;
    const bulk = Array.from({ length: count }, (_, i): AuditRecord => ({
      ...seeds[0]!,
      id: randomUUID(),
      // Two records share each microsecond: the id breaks the tie.
      event_time: `${new Date(hour + Math.floor(i / 2) * 1000).toISOString().slice(0, 19)}.000000+00:00`,
      request_id: `bulk-${i}`,
      initiator_agent: i % 7 === 0 ? 'a "quoted", agent' : 'python-novaclient',
    }));
    await tenants.platform.store.insert('audit_records', bulk.map(toRow));
    const range = `start=${new Date(hour).toISOString()}&end=${new Date(T0).toISOString()}`;

    const res = await tenants.admin.get(`/audit/v1/export?${range}&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('content-length')).toBeNull();
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let chunks = 0;
    let largest = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      largest = Math.max(largest, value.byteLength);
      text += decoder.decode(value, { stream: true });
    }
    const rows = parseCsv(text).slice(1);
    expect(chunks).toBeGreaterThan(2);
    // No chunk carries the whole export: it was written as it was read.
    expect(largest).toBeLessThan(text.length / 2);
    expect(rows).toHaveLength(count);
    const expected = [...bulk].sort(byTime).map((r) => r.id);
    expect(rows.map((r) => r[0])).toEqual(expected);
    expect(rows.filter((r) => r[11] === 'a "quoted", agent')).toHaveLength(bulk.filter((r) => r.initiator_agent === 'a "quoted", agent').length);

    const jsonl = await (await tenants.admin.get(`/audit/v1/export?${range}&order=desc`)).text();
    expect(jsonl.trimEnd().split('\n').map((l) => (JSON.parse(l) as AuditRecord).id)).toEqual([...expected].reverse());
    // The bulk rows are alpha's: beta's export of the same hour is empty.
    expect(await (await tenants.beta.get(`/audit/v1/export?${range}`)).text()).toBe('');
  });
});

describe('audit and events: OpenAPI document', () => {
  it('documents every route with its tag, token security and parameters', async () => {
    const doc = (await (await fetch(`${tenants.url}/docs/json`)).json()) as { paths: Record<string, Record<string, { tags?: string[]; security?: unknown[]; parameters?: Array<{ name: string; in: string }> }>> };
    const routes: Array<[string, string]> = [
      ['/audit/v1/records', 'audit'],
      ['/audit/v1/records/{id}', 'audit'],
      ['/audit/v1/reports/user-actions', 'audit'],
      ['/audit/v1/reports/failed-authentications', 'audit'],
      ['/audit/v1/reports/resource-changes', 'audit'],
      ['/audit/v1/reports/privileged-actions', 'audit'],
      ['/audit/v1/export', 'audit'],
      ['/event/v2/events', 'event'],
      ['/event/v2/events/{message_id}', 'event'],
      ['/event/v2/event_types', 'event'],
      ['/event/v2/event_types/{event_type}/traits', 'event'],
      ['/event/v2/event_types/{event_type}/traits/{trait_name}', 'event'],
    ];
    for (const [path, tag] of routes) {
      const get = doc.paths[path]?.get;
      expect(get?.tags, path).toEqual([tag]);
      expect(get?.security, path).toEqual([{ keystoneToken: [] }]);
    }
    const names = (path: string) => (doc.paths[path]?.get?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    expect(names('/audit/v1/records')).toEqual(expect.arrayContaining(['initiator_id', 'initiator_address', 'action', 'outcome', 'target_id', 'observer_id', 'reason_code', 'start', 'end', 'limit', 'next']));
    expect(names('/event/v2/events')).toEqual(expect.arrayContaining(['q.field', 'q.op', 'q.value', 'q.type', 'limit', 'sort', 'marker']));
  });
});

describe('audit: bad input', () => {
  it('answers 400 naming the field', async () => {
    const bad = async (path: string) => refused(await tenants.admin.get(path), 400);
    expect(await bad('/audit/v1/records?limit=0')).toMatch(/querystring\.limit must be >= 1/);
    expect(await bad('/audit/v1/records?limit=100000')).toMatch(/querystring\.limit must be <= 1000/);
    expect(await bad('/audit/v1/records?outcome=maybe')).toMatch(/querystring\.outcome\[0\] must be one of/);
    expect(await bad('/audit/v1/records?order=sideways')).toMatch(/querystring\.order must be one of/);
    expect(await bad('/audit/v1/records?start=yesterday')).toMatch(/Invalid value for start/);
    expect(await bad(`/audit/v1/records?start=${new Date(T0 + 60_000).toISOString()}&end=${new Date(T0).toISOString()}`)).toMatch(/Invalid value for end: expected a time after start/);
    expect(await bad('/audit/v1/records?next=not-a-cursor')).toMatch(/Invalid value for next/);
    expect(await bad('/audit/v1/records?initator_id=typo')).toMatch(/unknown field "initator_id"/);
    expect(await bad('/audit/v1/records/not-a-uuid')).toMatch(/params\.id must match pattern/);
    expect(await bad(`/audit/v1/records?action=${'x'.repeat(300)}`)).toMatch(/querystring\.action\[0\] must NOT have more than 255 characters/);
    expect(await bad('/audit/v1/reports/user-actions')).toMatch(/querystring is missing the required field "user_id"/);
    expect(await bad('/audit/v1/reports/resource-changes?target_id=')).toMatch(/querystring\.target_id must NOT have fewer than 1 characters/);
    expect(await bad('/audit/v1/export?format=xml')).toMatch(/querystring\.format must be one of \["jsonl","csv"\]/);
    // A cursor comes back with the order it was issued for.
    const first = await json<Page>(tenants.admin, `/audit/v1/records?${RANGE}&limit=1`);
    expect(await bad(`/audit/v1/records?${RANGE}&limit=1&order=asc&next=${first.next}`)).toMatch(/Invalid value for next/);
    expect((await fetch(`${tenants.url}/audit/v1/records`)).status).toBe(401);
  });
});

describe('audit: end to end', () => {
  it('finds the record of a failed login, by name and in the failed-authentications report', async () => {
    const started = new Date(Date.now() - 1000).toISOString();
    const name = `nobody-${randomUUID().slice(0, 8)}`;
    const login = await fetch(`${tenants.url}/identity/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'api-audit-test' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name, domain: { id: 'default' }, password: 'wrong' } } } } }),
    });
    expect(login.status).toBe(401);
    await tenants.platform.drain();
    const record = await eventually(async () => (await json<Page>(tenants.admin, `/audit/v1/records?initiator_name=${name}&start=${started}`)).records[0], 'the failed login record');
    expect(record).toMatchObject({ action: 'authenticate', outcome: 'failure', event_type: 'identity.authenticate', initiator_name: name, initiator_agent: 'api-audit-test', project_id: null });
    const report = await json<{ sources: Array<{ address: string | null; initiator_names: string[] }> }>(tenants.admin, `/audit/v1/reports/failed-authentications?start=${started}`);
    expect(report.sources.find((s) => s.initiator_names.includes(name))?.address).toBe(record.initiator_address);
    // Members never see it.
    expect((await tenants.alpha.get(`/audit/v1/records/${record.id}`)).status).toBe(404);
  });

  it("finds a network's changes among the resource's changes and the admins' privileged actions", async () => {
    const started = new Date(Date.now() - 1000).toISOString();
    const created = await tenants.admin.post('/network/v2.0/networks', { network: { name: `audit-${randomUUID().slice(0, 8)}` } });
    expect(created.status).toBe(201);
    const networkId = ((await created.json()) as { network: { id: string } }).network.id;
    expect((await tenants.admin.request('PUT', `/network/v2.0/networks/${networkId}`, { network: { name: 'renamed' } })).status).toBe(200);
    expect((await tenants.admin.del(`/network/v2.0/networks/${networkId}`)).status).toBe(204);
    await tenants.platform.drain();
    const changes = await eventually(async () => {
      const page = await json<Page>(tenants.admin, `/audit/v1/reports/resource-changes?target_id=${networkId}&start=${started}`);
      return page.records.length >= 2 ? page.records : undefined;
    }, 'the network change records');
    expect(changes.map((r) => [r.action, r.outcome, r.initiator_id, r.project_id, r.event_type])).toEqual([
      ['update', 'success', tenants.admin.userId, adminProject, 'audit.http.response'],
      ['delete', 'success', tenants.admin.userId, adminProject, 'audit.http.response'],
    ]);
    const privileged = await recordIds(tenants.admin, `/audit/v1/reports/privileged-actions?start=${started}&limit=1000`);
    for (const r of changes) expect(privileged).toContain(r.id);
    expect((await json<Page>(tenants.alpha, `/audit/v1/reports/resource-changes?target_id=${networkId}&start=${started}`)).records).toEqual([]);
    expect((await tenants.alpha.get(`/audit/v1/records/${changes[0]!.id}`)).status).toBe(404);
  });

  it("shows a member's own API calls to them, and to no other member", async () => {
    const started = new Date(Date.now() - 1000).toISOString();
    expect((await tenants.alpha.get('/compute/v2.1/servers')).status).toBe(200);
    await tenants.platform.drain();
    const records = await eventually(async () => {
      const page = await json<Page>(tenants.alpha, `/audit/v1/records?initiator_id=${tenants.alpha.userId}&outcome=success&start=${started}`);
      return page.records.length > 0 ? page.records : undefined;
    }, "alpha's audited call");
    expect(records[0]).toMatchObject({ event_type: 'audit.http.response', project_id: tenants.alpha.projectId, reason_code: '200' });
    expect((await tenants.beta.get(`/audit/v1/records/${records[0]!.id}`)).status).toBe(404);
    expect((await json<Page>(tenants.beta, `/audit/v1/records?initiator_id=${tenants.alpha.userId}&start=${started}`)).records).toEqual([]);
  });
});
