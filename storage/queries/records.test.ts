import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord, Event, LogRecord } from '../../core/index.ts';
import { createChdbDriver } from '../chdb-driver.ts';
import type { ClickHouseDriver } from '../driver.ts';
import { migrate } from '../schema/migrate.ts';
import { auditRecordFromRow, selectAuditRecord, selectAuditRecords, type AuditQuery, type AuditRow } from './audit.ts';
import { eventFromRow, selectEvent, selectEvents, selectEventTypes, selectTraitDescriptions, type EventQuery, type EventRow } from './events.ts';
import { countLogs, logRecordFromRow, selectLogs, type LogQuery, type LogRow } from './logs.ts';

// Recent times: rows expire by the server's clock (TTL), so old ones could vanish mid-test.
const T0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
/** An ISO time `seconds` after T0, with microseconds, as the collectors write it. */
const at = (seconds: number, micros = 0) => new Date(T0 + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, `.${String(micros).padStart(6, '0')}+00:00`);
const uuid = (n: number) => `00000000-0000-5000-8000-${String(n).padStart(12, '0')}`;

let dir: string;
let store: ClickHouseDriver;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cumulus-records-'));
  store = createChdbDriver({ dataDir: dir });
  await migrate(store);
});
afterAll(async () => {
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('events', () => {
  const event = (n: number, type: string, project: string, seconds: number, traits: Event['traits']): Event => ({
    message_id: `msg-${n}`,
    event_type: type,
    generated: at(seconds, n),
    traits: [{ name: 'project_id', type: 'string', value: project }, ...traits],
    raw: { n, payload: { note: "it's \"raw\"" } },
  });
  const events: Event[] = [
    event(1, 'compute.instance.create.end', 'p1', 10, [{ name: 'resource_id', type: 'string', value: 'vm-1' }, { name: 'vcpus', type: 'int', value: 2 }, { name: 'load', type: 'float', value: 0.25 }, { name: 'launched_at', type: 'datetime', value: at(5, 123456) }]),
    event(2, 'compute.instance.create.end', 'p1', 20, [{ name: 'resource_id', type: 'string', value: 'vm-2' }, { name: 'vcpus', type: 'int', value: 8 }, { name: 'load', type: 'float', value: 0.75 }, { name: 'launched_at', type: 'datetime', value: at(15) }]),
    event(3, 'compute.instance.delete.end', 'p1', 30, [{ name: 'resource_id', type: 'string', value: 'vm-1' }, { name: 'state', type: 'string', value: "' OR 1=1 --" }]),
    event(4, 'compute.instance.create.end', 'p2', 40, [{ name: 'resource_id', type: 'string', value: 'vm-3' }, { name: 'vcpus', type: 'int', value: 4 }]),
    event(5, 'volume.create.end', 'p2', 50, []),
  ];
  const toRow = (e: Event) => {
    const typed = (type: string) => Object.fromEntries(e.traits.filter((t) => t.type === type).map((t) => [t.name, t.value]));
    return { message_id: e.message_id, event_type: e.event_type, generated: e.generated, project_id: String(e.traits.find((t) => t.name === 'project_id')?.value ?? ''), resource_id: String(e.traits.find((t) => t.name === 'resource_id')?.value ?? ''), traits_string: typed('string'), traits_int: typed('int'), traits_float: typed('float'), traits_datetime: typed('datetime'), raw: JSON.stringify(e.raw) };
  };
  const ids = async (q: Partial<EventQuery>) => (await store.query<EventRow>(selectEvents({ projectId: null, limit: 100, ...q }))).map((r) => r.message_id);

  beforeAll(async () => {
    await store.insert('events', events.map(toRow));
  });

  it('reads an event back as it was written (traits by type, times to the microsecond)', async () => {
    const [row] = await store.query<EventRow>(selectEvent('msg-1', null));
    const byType = (e: Event) => ['string', 'int', 'float', 'datetime'].flatMap((type) => e.traits.filter((t) => t.type === type));
    expect(eventFromRow(row as EventRow)).toEqual({ ...events[0], traits: byType(events[0] as Event) });
    expect(await store.query(selectEvent('msg-1', 'p2'))).toEqual([]);
    expect(await store.query(selectEvent('msg-4', 'p2'))).toHaveLength(1);
  });

  it('filters by project, event type, time range and resource', async () => {
    expect(await ids({ projectId: 'p1' })).toEqual(['msg-1', 'msg-2', 'msg-3']);
    expect(await ids({ eventTypes: ['compute.instance.create.end', 'volume.create.end'] })).toEqual(['msg-1', 'msg-2', 'msg-4', 'msg-5']);
    expect(await ids({ start: new Date(T0 + 20_000), end: new Date(T0 + 40_000) })).toEqual(['msg-2', 'msg-3']);
    expect(await ids({ resourceId: 'vm-1', order: 'desc' })).toEqual(['msg-3', 'msg-1']);
  });

  it('filters by traits with Panko operators, comparing typed values; a missing trait never matches', async () => {
    expect(await ids({ traits: [{ name: 'vcpus', type: 'int', op: 'gt', value: 2 }] })).toEqual(['msg-2', 'msg-4']);
    // 10 > 8 as numbers, not as text ('10' < '8').
    expect(await ids({ traits: [{ name: 'vcpus', type: 'int', op: 'lt', value: '10' }] })).toEqual(['msg-1', 'msg-2', 'msg-4']);
    expect(await ids({ traits: [{ name: 'vcpus', type: 'int', op: 'ne', value: 2 }] })).toEqual(['msg-2', 'msg-4']);
    expect(await ids({ traits: [{ name: 'load', type: 'float', op: 'le', value: 0.5 }] })).toEqual(['msg-1']);
    expect(await ids({ traits: [{ name: 'launched_at', type: 'datetime', op: 'ge', value: at(5, 123456) }] })).toEqual(['msg-1', 'msg-2']);
    expect(await ids({ traits: [{ name: 'launched_at', type: 'datetime', op: 'gt', value: at(5, 123456) }] })).toEqual(['msg-2']);
    expect(await ids({ traits: [{ name: 'resource_id', type: 'string', value: 'vm-1' }, { name: 'state', type: 'string', value: "' OR 1=1 --" }] })).toEqual(['msg-3']);
    expect(await ids({ traits: [{ name: 'state', type: 'string', op: 'ne', value: 'x' }] })).toEqual(['msg-3']);
    expect(() => selectEvents({ projectId: null, limit: 1, traits: [{ name: 'vcpus', type: 'int', value: '2.5' }] })).toThrow(expect.objectContaining({ code: 'CUMULUS_STORAGE_BAD_FILTER', httpStatus: 400 }));
    expect(() => selectEvents({ projectId: null, limit: 1, traits: [{ name: 'x', type: 'int', op: 'like' as 'eq', value: 1 }] })).toThrow(expect.objectContaining({ code: 'CUMULUS_STORAGE_BAD_FILTER' }));
  });

  it('pages by (generated, message_id), stable while events arrive', async () => {
    const seen: string[] = [];
    let after: EventQuery['after'];
    for (let page = 0; page < 10; page++) {
      const rows = await store.query<EventRow>(selectEvents({ projectId: null, limit: 2, ...(after ? { after } : {}) }));
      if (rows.length === 0) break;
      seen.push(...rows.map((r) => r.message_id));
      const last = rows[rows.length - 1] as EventRow;
      after = { generated: last.generated, messageId: last.message_id };
      // An event generated before the marker arrives meanwhile: later pages neither repeat nor skip.
      if (page === 0) await store.insert('events', [toRow(event(6, 'volume.create.end', 'p2', 1, []))]);
    }
    expect(seen).toEqual(['msg-1', 'msg-2', 'msg-3', 'msg-4', 'msg-5']);
    // Same microsecond, different ids: the id breaks the tie.
    await store.insert('events', [toRow({ ...event(7, 'tie', 'p3', 60, []), generated: at(60) }), toRow({ ...event(8, 'tie', 'p3', 60, []), generated: at(60) })]);
    const first = await store.query<EventRow>(selectEvents({ projectId: 'p3', limit: 1 }));
    expect(first.map((r) => r.message_id)).toEqual(['msg-7']);
    const next = await store.query<EventRow>(selectEvents({ projectId: 'p3', limit: 5, after: { generated: at(60), messageId: 'msg-7' } }));
    expect(next.map((r) => r.message_id)).toEqual(['msg-8']);
  });

  it('lists event types and the traits of a type', async () => {
    expect((await store.query<{ event_type: string }>(selectEventTypes('p1'))).map((r) => r.event_type)).toEqual(['compute.instance.create.end', 'compute.instance.delete.end']);
    expect(await store.query(selectTraitDescriptions('compute.instance.create.end', null))).toEqual([
      { name: 'launched_at', type: 'datetime' },
      { name: 'load', type: 'float' },
      { name: 'project_id', type: 'string' },
      { name: 'resource_id', type: 'string' },
      { name: 'vcpus', type: 'int' },
    ]);
  });
});

describe('audit records', () => {
  const record = (n: number, seconds: number, fields: Partial<AuditRecord>): AuditRecord => ({
    id: uuid(n),
    action: 'read/list',
    outcome: 'success',
    event_type: 'audit.http.response',
    type_uri: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
    event_time: at(seconds, n),
    initiator_id: 'u1',
    initiator_type: 'service/security/account/user',
    initiator_name: 'alice',
    project_id: 'p1',
    initiator_address: '10.0.0.1',
    initiator_agent: 'python-novaclient',
    target_id: 'vm-1',
    target_type: 'service/compute/servers/server',
    target_address: 'http://cloud/compute/v2.1',
    observer_id: 'target',
    observer_type: 'service/compute',
    reason_code: '200',
    request_id: `req-${n}`,
    raw: { id: `cadf-${n}`, note: "it's" },
    ...fields,
  });
  const records = [
    record(1, 10, {}),
    record(2, 20, { action: 'update/os-stop', target_id: 'vm-2' }),
    record(3, 30, { outcome: 'failure', reason_code: '403', initiator_id: 'u2', initiator_name: null, project_id: null, initiator_address: null, initiator_agent: null, target_address: null, request_id: null }),
    record(4, 40, { action: 'update/os-stop', outcome: 'failure', project_id: 'p2' }),
  ];
  const ids = async (q: Partial<AuditQuery>) => (await store.query<AuditRow>(selectAuditRecords({ projectId: null, limit: 100, ...q }))).map((r) => r.id);

  beforeAll(async () => {
    // Inserted twice: the same record delivered again is one record.
    const rows = records.map((r) => ({ ...r, raw: JSON.stringify(r.raw) }));
    await store.insert('audit_records', rows);
    await store.insert('audit_records', rows);
  });

  it('reads a record back as it was written, nulls included, and once', async () => {
    for (const r of records) expect(auditRecordFromRow((await store.query<AuditRow>(selectAuditRecord(r.id, null)))[0] as AuditRow)).toEqual(r);
    expect(await store.query(selectAuditRecord(uuid(1), 'p2'))).toEqual([]);
    expect(await ids({})).toEqual([uuid(4), uuid(3), uuid(2), uuid(1)]);
  });

  it('answers compliance questions: who, what, outcome, on what, when', async () => {
    expect(await ids({ initiatorId: 'u2' })).toEqual([uuid(3)]);
    expect(await ids({ action: 'update/os-stop', order: 'asc' })).toEqual([uuid(2), uuid(4)]);
    expect(await ids({ outcome: 'failure', projectId: 'p2' })).toEqual([uuid(4)]);
    expect(await ids({ targetId: 'vm-2' })).toEqual([uuid(2)]);
    expect(await ids({ requestId: 'req-1', targetType: 'service/compute/servers/server', eventType: 'audit.http.response', observerId: 'target' })).toEqual([uuid(1)]);
    expect(await ids({ start: new Date(T0 + 20_000), end: new Date(T0 + 40_000), order: 'asc' })).toEqual([uuid(2), uuid(3)]);
  });

  it('pages by (event_time, id), newest first', async () => {
    const first = await store.query<AuditRow>(selectAuditRecords({ projectId: null, limit: 3 }));
    const last = first[first.length - 1] as AuditRow;
    const rest = await store.query<AuditRow>(selectAuditRecords({ projectId: null, limit: 3, after: { eventTime: last.event_time, id: last.id } }));
    expect([...first, ...rest].map((r) => r.id)).toEqual([uuid(4), uuid(3), uuid(2), uuid(1)]);
  });
});

describe('logs', () => {
  const log = (n: number, seconds: number, fields: Partial<LogRecord>): LogRecord => ({
    id: uuid(100 + n),
    timestamp: at(seconds, n),
    service: 'nova-compute',
    host: 'compute-1',
    pid: 4242,
    level: 'INFO',
    logger: 'nova.compute.manager',
    request_id: null,
    user_id: null,
    project_id: null,
    message: `line ${n}`,
    ...fields,
  });
  const logs = [
    log(1, 1, { message: 'Instance spawned successfully', request_id: 'req-aa', project_id: 'p1', user_id: 'u1' }),
    log(2, 2, { level: 'WARNING', message: 'Connection to RabbitMQ lost; reconnecting' }),
    log(3, 65, { level: 'ERROR', message: 'AMQP server on controller-1:5672 is unreachable: rabbitmq down\nTraceback (most recent call last):' }),
    log(4, 70, { service: 'mysqld', host: 'controller-1', level: 'CRITICAL', message: 'WSREP: Quorum lost', logger: 'WSREP', pid: 0 }),
    log(5, 130, { level: 'DEBUG', message: 'rabbitmq heartbeat' }),
  ];
  const ids = async (q: Partial<LogQuery>) => (await store.query<LogRow>(selectLogs({ projectId: null, limit: 100, order: 'asc', ...q }))).map((r) => Number(r.id.slice(-3)) - 100);

  beforeAll(async () => {
    await store.insert('logs', logs);
  });

  it('reads a record back as it was written', async () => {
    const rows = await store.query<LogRow>(selectLogs({ projectId: null, limit: 100, order: 'asc' }));
    expect(rows.map(logRecordFromRow)).toEqual(logs);
  });

  it('finds words in messages whatever their case, with the text index', async () => {
    expect(await ids({ text: 'RabbitMQ' })).toEqual([2, 3, 5]);
    expect(await ids({ text: 'rabbitmq LOST' })).toEqual([2]);
    // Tokens split at non-alphanumerics, as the index splits them.
    expect(await ids({ text: 'controller-1:5672' })).toEqual([3]);
    expect(await ids({ text: "it's' OR 1=1" })).toEqual([]);
    expect(() => selectLogs({ projectId: null, limit: 1, text: ' -- ' })).toThrow(expect.objectContaining({ code: 'CUMULUS_STORAGE_BAD_FILTER' }));
    const plan = await store.query<{ explain: string }>({ ...selectLogs({ projectId: null, limit: 10, text: 'quorum' }), sql: `EXPLAIN indexes = 1 ${selectLogs({ projectId: null, limit: 10, text: 'quorum' }).sql}` });
    expect(plan.some((r) => r.explain.includes('Name: message_idx')), plan.map((r) => r.explain).join('\n')).toBe(true);
  });

  it('filters by level and worse, service, host, request, user and project, newest first by default', async () => {
    expect(await ids({ minLevel: 'WARNING' })).toEqual([2, 3, 4]);
    expect(await ids({ services: ['mysqld'] })).toEqual([4]);
    expect(await ids({ hosts: ['compute-1'], minLevel: 'ERROR' })).toEqual([3]);
    expect(await ids({ requestId: 'req-aa', userId: 'u1', projectId: 'p1' })).toEqual([1]);
    expect((await store.query<LogRow>(selectLogs({ projectId: null, limit: 2 }))).map((r) => r.message)).toEqual(['rabbitmq heartbeat', 'WSREP: Quorum lost']);
  });

  it('pages by (timestamp, id)', async () => {
    const first = await store.query<LogRow>(selectLogs({ projectId: null, limit: 2 }));
    const last = first[first.length - 1] as LogRow;
    const rest = await store.query<LogRow>(selectLogs({ projectId: null, limit: 10, after: { timestamp: last.timestamp, id: last.id } }));
    expect([...first, ...rest].map((r) => r.message.split('\n')[0])).toEqual([...logs].reverse().map((l) => l.message.split('\n')[0]));
  });

  it('counts per interval, alone or by level', async () => {
    const minute = Math.floor(T0 / 60_000) * 60;
    const total = await store.query<{ bucket: number; key: string; count: string }>(countLogs({ projectId: null, intervalSeconds: 60 }));
    expect(total.map((r) => [Number(r.bucket), r.key, Number(r.count)])).toEqual([[minute, '', 2], [minute + 60, '', 2], [minute + 120, '', 1]]);
    const byLevel = await store.query<{ bucket: number; key: string; count: string }>(countLogs({ projectId: null, intervalSeconds: 60, by: 'level', services: ['nova-compute'] }));
    expect(byLevel.map((r) => [Number(r.bucket) - minute, r.key, Number(r.count)])).toEqual([[0, 'INFO', 1], [0, 'WARNING', 1], [60, 'ERROR', 1], [120, 'DEBUG', 1]]);
    expect(() => countLogs({ projectId: null, intervalSeconds: 0 })).toThrow(expect.objectContaining({ code: 'CUMULUS_STORAGE_BAD_FILTER' }));
    expect(() => countLogs({ projectId: null, intervalSeconds: 60, by: 'message' as 'level' })).toThrow(expect.objectContaining({ code: 'CUMULUS_STORAGE_BAD_FILTER' }));
  });
});
