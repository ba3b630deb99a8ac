import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InProcessStream, ManualClock, TelemetryRegistry, TOPICS, silentLogger, type AuditRecord, type ComponentTelemetry, type ConsumedRecord, type DeadLetter, type Event, type LogRecord, type Stream } from '../../core/index.ts';
import {
  DEFAULT_RETENTION_DAYS,
  auditRecordFromRow,
  createChdbDriver,
  eventFromRow,
  logRecordFromRow,
  migrate,
  selectAuditRecord,
  selectEvent,
  selectLogs,
  type AuditRow,
  type ClickHouseDriver,
  type EventRow,
  type LogRow,
} from '../../storage/index.ts';
import { createAuditWriter } from './audit-writer.ts';
import { createEventWriter } from './event-writer.ts';
import { createLogWriter } from './log-writer.ts';
import type { RecordWriter, RecordWriterConfig, RecordWriterDeps } from './record-writer.ts';

// Recent data: rows expire by the server's own clock (TTL).
const NOW = Math.floor(Date.now() / 1000) * 1000;
/** An ISO time `seconds` before now with microseconds `n`, as the collectors write times. */
const at = (seconds: number, n = 0) => new Date(NOW - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, `.${String(n).padStart(6, '0')}+00:00`);
const uuid = (n: number) => `6f1c2a3e-0000-5000-8000-${String(n).padStart(12, '0')}`;

/** What one writer's tests need to know about its kind of record. */
interface Kind<T> {
  name: string;
  create(config: RecordWriterConfig, deps: RecordWriterDeps): RecordWriter;
  topic: string;
  table: string;
  retentionDays: number;
  make(n: number): T;
  idOf(record: T): string;
  /** The record with its time moved (to test retention). */
  withTime(record: T, iso: string): T;
  /** The record as stored and read back through the query builders. */
  readBack(store: ClickHouseDriver, record: T): Promise<T | undefined>;
  /** How a record reads back: what the store normalises (times to microseconds in UTC, trait order by type). */
  normalised(record: T): T;
  /** Malformed records and the code each is refused with. */
  malformed: Array<[string, string]>;
}

const isoMicros = (iso: string) => {
  const m = /^(.{19})(\.\d+)?(.*)$/.exec(iso) as RegExpExecArray;
  const base = new Date(`${m[1]}${m[3] === '' ? 'Z' : m[3]}`).toISOString().slice(0, 19);
  return `${base}${((m[2] ?? '.') + '000000').slice(0, 7)}+00:00`;
};

const EVENTS: Kind<Event> = {
  name: 'event writer',
  create: createEventWriter,
  topic: TOPICS.events,
  table: 'events',
  retentionDays: DEFAULT_RETENTION_DAYS.events,
  make: (n) => ({
    message_id: uuid(n),
    event_type: 'compute.instance.create.end',
    generated: at(60 - n, n),
    traits: [
      { name: 'service', type: 'string', value: 'compute.compute-1' },
      { name: 'request_id', type: 'string', value: `req-${n}` },
      { name: 'project_id', type: 'string', value: 'p1' },
      { name: 'vcpus', type: 'int', value: n },
      { name: 'resource_id', type: 'string', value: `vm-${n}` },
      { name: 'load', type: 'float', value: n / 8 },
      { name: 'launched_at', type: 'datetime', value: at(120, 999_999) },
      { name: 'memory_mb', type: 'int', value: 2 ** 40 },
    ],
    raw: { event_type: 'compute.instance.create.end', payload: { instance_id: `vm-${n}`, note: "it's \"quoted\"" } },
  }),
  idOf: (e) => e.message_id,
  withTime: (e, iso) => ({ ...e, generated: iso }),
  readBack: async (store, e) => {
    const [row] = await store.query<EventRow>(selectEvent(e.message_id, 'p1'));
    return row === undefined ? undefined : eventFromRow(row);
  },
  normalised: (e) => ({
    ...e,
    generated: isoMicros(e.generated),
    traits: ['string', 'int', 'float', 'datetime'].flatMap((type) => e.traits.filter((t) => t.type === type).map((t) => (type === 'datetime' ? { ...t, value: isoMicros(String(t.value)) } : t))),
  }),
  malformed: [
    ['{"message_id": "m"', 'CUMULUS_PIPELINE_MALFORMED_JSON'],
    ['[]', 'CUMULUS_PIPELINE_MALFORMED_EVENT'],
    [JSON.stringify({ event_type: 'x', generated: at(1), traits: [], raw: {} }), 'CUMULUS_PIPELINE_MALFORMED_EVENT'],
    [JSON.stringify({ message_id: 'm1', event_type: 'x', generated: 'yesterday', traits: [], raw: {} }), 'CUMULUS_PIPELINE_MALFORMED_EVENT'],
    [JSON.stringify({ message_id: 'm2', event_type: 'x', generated: at(1), traits: [{ name: 'vcpus', type: 'int', value: 2.5 }], raw: {} }), 'CUMULUS_PIPELINE_MALFORMED_EVENT'],
    [JSON.stringify({ message_id: 'm3', event_type: 'x', generated: at(1), traits: [{ name: 'a', type: 'string', value: 'x' }, { name: 'a', type: 'string', value: 'y' }], raw: {} }), 'CUMULUS_PIPELINE_MALFORMED_EVENT'],
    [JSON.stringify({ message_id: 'm4', event_type: 'x', generated: at(1), traits: [{ name: 'when', type: 'datetime', value: '2026-02-30T00:00:00+00:00' }], raw: {} }), 'CUMULUS_PIPELINE_MALFORMED_EVENT'],
    [JSON.stringify({ message_id: 'm5', event_type: 'x', generated: at(1), traits: [], raw: null }), 'CUMULUS_PIPELINE_MALFORMED_EVENT'],
  ],
};

const AUDIT: Kind<AuditRecord> = {
  name: 'audit writer',
  create: createAuditWriter,
  topic: TOPICS.audit,
  table: 'audit_records',
  retentionDays: DEFAULT_RETENTION_DAYS.audit_records,
  make: (n) => ({
    id: uuid(n),
    action: n % 2 === 0 ? 'update/os-stop' : 'read/list',
    outcome: n % 3 === 0 ? 'failure' : 'success',
    event_type: 'audit.http.response',
    type_uri: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
    // Another offset: stored (and read back) in UTC.
    event_time: n % 100 === 1 ? new Date(NOW - 59_000 + 7_200_000).toISOString().replace(/\.\d{3}Z$/, '.250000+02:00') : at(60 - n, n),
    initiator_id: `user-${n}`,
    initiator_type: 'service/security/account/user',
    initiator_name: n === 2 ? null : 'alice',
    project_id: n === 2 ? null : 'p1',
    initiator_address: n === 2 ? null : '203.0.113.7',
    initiator_agent: n === 2 ? null : 'python-openstackclient',
    target_id: `vm-${n}`,
    target_type: 'service/compute/servers/server',
    target_address: n === 2 ? null : 'http://127.0.0.1:8000/compute/v2.1',
    observer_id: 'target',
    observer_type: 'unknown',
    reason_code: n === 2 ? null : '202',
    request_id: n === 2 ? null : `req-${n}`,
    raw: { typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event', id: `cadf-${n}`, initiator: { id: `user-${n}`, credential: { token: '***' } } },
  }),
  idOf: (r) => r.id,
  withTime: (r, iso) => ({ ...r, event_time: iso }),
  readBack: async (store, r) => {
    const [row] = await store.query<AuditRow>(selectAuditRecord(r.id, null));
    return row === undefined ? undefined : auditRecordFromRow(row);
  },
  normalised: (r) => ({ ...r, event_time: isoMicros(r.event_time) }),
  malformed: [
    ['not json', 'CUMULUS_PIPELINE_MALFORMED_JSON'],
    [JSON.stringify({ ...{ id: 'cadf-1' } }), 'CUMULUS_PIPELINE_MALFORMED_AUDIT'],
    [JSON.stringify({ id: uuid(900), action: 'read', outcome: 'success', event_type: 'e', type_uri: 't', event_time: 'soon', initiator_id: 'u', initiator_type: 't', target_id: 't', target_type: 't', observer_id: 'o', observer_type: 'o', raw: {} }), 'CUMULUS_PIPELINE_MALFORMED_AUDIT'],
    [JSON.stringify({ id: uuid(901), action: 'read', outcome: 'success', event_type: 'e', type_uri: 't', event_time: at(1), initiator_id: '', initiator_type: 't', target_id: 't', target_type: 't', observer_id: 'o', observer_type: 'o', raw: {} }), 'CUMULUS_PIPELINE_MALFORMED_AUDIT'],
    [JSON.stringify({ id: uuid(902), action: 'read', outcome: 'success', event_type: 'e', type_uri: 't', event_time: at(1), initiator_id: 'u', initiator_type: 't', target_id: 't', target_type: 't', observer_id: 'o', observer_type: 'o', project_id: 5, raw: {} }), 'CUMULUS_PIPELINE_MALFORMED_AUDIT'],
  ],
};

const LOGS: Kind<LogRecord> = {
  name: 'log writer',
  create: createLogWriter,
  topic: TOPICS.logs,
  table: 'logs',
  retentionDays: DEFAULT_RETENTION_DAYS.logs,
  make: (n) => ({
    id: uuid(n),
    // Milliseconds, as oslo.log writes them.
    timestamp: new Date(NOW - (60 - n) * 1000 + n).toISOString().replace('Z', '+00:00'),
    service: 'nova-compute',
    host: 'compute-1',
    pid: 4000 + n,
    level: (['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const)[n % 5] as LogRecord['level'],
    logger: 'nova.compute.manager',
    request_id: n % 2 === 0 ? null : `req-${n}`,
    user_id: n % 2 === 0 ? null : 'u1',
    project_id: n % 2 === 0 ? null : 'p1',
    message: `[instance: vm-${n}] Took ${n}.21 seconds to spawn\nTraceback (most recent call last):\n  "it's quoted"`,
  }),
  idOf: (r) => r.id,
  withTime: (r, iso) => ({ ...r, timestamp: iso }),
  readBack: async (store, r) => {
    const rows = await store.query<LogRow>(selectLogs({ projectId: null, services: [r.service], limit: 1000 }));
    const row = rows.find((x) => x.id === r.id);
    return row === undefined ? undefined : logRecordFromRow(row);
  },
  normalised: (r) => ({ ...r, timestamp: isoMicros(r.timestamp) }),
  malformed: [
    ['', 'CUMULUS_PIPELINE_MALFORMED_JSON'],
    [JSON.stringify({ id: uuid(900), timestamp: at(1), service: 's', host: 'h', pid: 1, level: 'TRACE', logger: 'l', request_id: null, user_id: null, project_id: null, message: 'm' }), 'CUMULUS_PIPELINE_MALFORMED_LOG'],
    [JSON.stringify({ id: uuid(901), timestamp: at(1), service: 's', host: 'h', pid: -1, level: 'INFO', logger: 'l', request_id: null, user_id: null, project_id: null, message: 'm' }), 'CUMULUS_PIPELINE_MALFORMED_LOG'],
    [JSON.stringify({ id: uuid(902), timestamp: '1969-12-31T23:59:59+00:00', service: 's', host: 'h', pid: 1, level: 'INFO', logger: 'l', request_id: null, user_id: null, project_id: null, message: 'm' }), 'CUMULUS_PIPELINE_MALFORMED_LOG'],
    [JSON.stringify({ id: uuid(903), timestamp: at(1), service: 's', host: '', pid: 1, level: 'INFO', logger: 'l', request_id: null, user_id: null, project_id: null, message: 'm' }), 'CUMULUS_PIPELINE_MALFORMED_LOG'],
    [JSON.stringify({ id: 'log-1', timestamp: at(1), service: 's', host: 'h', pid: 1, level: 'INFO', logger: 'l', request_id: null, user_id: null, project_id: null, message: 'm' }), 'CUMULUS_PIPELINE_MALFORMED_LOG'],
  ],
};

const dir = mkdtempSync(join(tmpdir(), 'cumulus-record-writers-'));
let store: ClickHouseDriver;

beforeAll(async () => {
  store = createChdbDriver({ dataDir: dir });
  await migrate(store);
  // No background merges: a duplicate row stays visible, so only the insert's deduplication can keep counts right.
  for (const table of ['events', 'audit_records', 'logs']) await store.command({ sql: `SYSTEM STOP MERGES ${table}` });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

for (const kind of [EVENTS, AUDIT, LOGS] as Array<Kind<unknown>>) {
  describe(`${kind.name} (chDB)`, () => {
    const clock = new ManualClock(NOW);
    let stream: InProcessStream;
    let group = 0;
    let telemetry: ComponentTelemetry;
    /** Record numbers are unique per test, so tests never see each other's rows. */
    let base = 0;

    const writer = (overrides: Partial<RecordWriterConfig> = {}, s: Stream = stream) =>
      kind.create({ groupId: `${kind.table}-g${group}`, maxBatchRecords: 1000, ...overrides }, { stream: s, store, clock, logger: silentLogger(), telemetry });
    const encode = (records: readonly unknown[], first = 0): ConsumedRecord[] =>
      records.map((r, i) => ({ key: null, value: Buffer.isBuffer(r) ? r : typeof r === 'string' ? Buffer.from(r) : Buffer.from(JSON.stringify(r)), offset: String(first + i), timestampMs: NOW }));
    const rawCount = async (ids: readonly string[]) => {
      const column = kind.table === 'events' ? 'message_id' : 'toString(id)';
      const rows = await store.query<{ n: string }>({ sql: `SELECT count() AS n FROM ${kind.table} WHERE ${column} IN {ids:Array(String)}`, params: { ids: [...ids] } });
      return Number(rows[0]?.n);
    };
    const deadLetters = async (expected: number): Promise<DeadLetter[]> => {
      const dead: DeadLetter[] = [];
      const reader = await stream.subscribe({ groupId: `dead-${group}`, topics: [TOPICS.dead], fromBeginning: true, maxBatchRecords: 100 }, { consume: async (b) => void dead.push(...b.records.map((r) => JSON.parse(r.value.toString()) as DeadLetter)) });
      const deadline = Date.now() + 5000;
      while (dead.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await reader.close();
      return dead;
    };

    beforeEach(async () => {
      group += 1;
      base += 100;
      clock.set(NOW);
      stream = new InProcessStream(1);
      await stream.start();
      telemetry = new TelemetryRegistry().component('writer');
    });

    it('stores every record field by field', async () => {
      const records = [1, 2, 3, 4, 5].map((n) => kind.make(base + n));
      await writer().consume({ topic: kind.topic, partition: 0, records: encode(records) });
      for (const record of records) expect(await kind.readBack(store, record)).toEqual(kind.normalised(record));
      expect(telemetry.snapshot()).toMatchObject({ accepted: 5, refused: 0, dropped: 0, batches: 1 });
    });

    it('refuses malformed records to cumulus.dead with a code and the original bytes, and keeps the others', async () => {
      const good = [kind.make(base + 1), kind.make(base + 2)];
      const batch = [good[0], ...kind.malformed.map(([bytes]) => bytes), good[1]];
      await writer().consume({ topic: kind.topic, partition: 0, records: encode(batch, 40) });
      const dead = await deadLetters(kind.malformed.length);
      expect(dead.map((d) => [Buffer.from(d.payload_base64, 'base64').toString(), d.code])).toEqual(kind.malformed);
      expect(dead.map((d) => d.origin)).toEqual(kind.malformed.map((_, i) => ({ topic: kind.topic, partition: 0, offset: String(41 + i) })));
      for (const d of dead) expect(d).toMatchObject({ stage: 'pipeline', refused_at: new Date(NOW).toISOString(), reason: expect.any(String) });
      expect(await rawCount(good.map(kind.idOf))).toBe(2);
      expect(telemetry.snapshot()).toMatchObject({ accepted: 2, refused: kind.malformed.length });
    });

    it('leaves no duplicate when a batch is replayed after a crash between insert and commit, even when the replay keeps fewer rows', async () => {
      const records = [1, 2, 3, 4, 5, 6].map((n) => kind.make(base + n));
      // Record 1 is an hour from the end of its retention.
      records[0] = kind.withTime(records[0], at(kind.retentionDays * 86_400 - 3600));
      const ids = records.map(kind.idOf);
      // The first process inserted offsets 0-3 and died before committing.
      await writer({ maxBatchRecords: 4 }).consume({ topic: kind.topic, partition: 0, records: encode(records.slice(0, 4)) });
      expect(await rawCount(ids)).toBe(4);
      // A new one, two hours later (record 1 is now dropped, so the chunk's rows differ: only
      // its token can tell it is the same chunk), with another batch size and more records.
      clock.advance(2 * 3_600_000);
      await writer({ maxBatchRecords: 10 }).consume({ topic: kind.topic, partition: 0, records: encode(records) });
      expect(await rawCount(ids)).toBe(6);
      // Control: the same records under another group (other tokens) are inserted again.
      group += 1;
      await writer().consume({ topic: kind.topic, partition: 0, records: encode(records) });
      expect(await rawCount(ids)).toBe(11);
    });

    it('through the stream: a batch that fails after its insert comes again, is deduplicated, then committed', async () => {
      let failures = 1;
      // The dead-letter topic fails once, after the rows were inserted: the batch is not committed and comes again.
      const flaky: Stream = {
        kind: 'memory',
        start: () => stream.start(),
        stop: () => stream.stop(),
        subscribe: (subscription, consumer) => stream.subscribe(subscription, consumer),
        send: async (topic, records) => {
          if (topic === TOPICS.dead && failures-- > 0) throw new Error('cumulus.dead unavailable');
          await stream.send(topic, records);
        },
      };
      const records = [1, 2, 3].map((n) => kind.make(base + n));
      const w = writer({ maxBatchRecords: 2 }, flaky);
      await w.start();
      await stream.send(kind.topic, [...records, kind.malformed[0]?.[0] as string].map((r) => ({ key: 'k', value: Buffer.from(typeof r === 'string' ? r : JSON.stringify(r)) })));
      const deadline = Date.now() + 10_000;
      while (stream.lag(`${kind.table}-g${group}`, kind.topic) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await w.stop();
      await w.stop();
      expect(failures).toBeLessThan(0);
      expect(stream.lag(`${kind.table}-g${group}`, kind.topic)).toBe(0);
      expect(await rawCount(records.map(kind.idOf))).toBe(3);
      expect(await deadLetters(1)).toHaveLength(1);
      expect(telemetry.snapshot()).toMatchObject({ accepted: 3, refused: 1 });
    });

    it('drops (and counts) records already past their retention, and keeps the retention it is given', async () => {
      const old = kind.withTime(kind.make(base + 1), at(kind.retentionDays * 86_400 + 60));
      const fresh = kind.make(base + 2);
      await writer().consume({ topic: kind.topic, partition: 0, records: encode([old, fresh]) });
      expect(await rawCount([kind.idOf(old), kind.idOf(fresh)])).toBe(1);
      expect(telemetry.snapshot()).toMatchObject({ accepted: 1, dropped: 1 });
      const kept = kind.make(base + 3);
      await writer({ retentionDays: 7 }).consume({ topic: kind.topic, partition: 0, records: encode([kept], 5) });
      const column = kind.table === 'events' ? 'message_id' : 'toString(id)';
      const retention = await store.query<{ days: number }>({ sql: `SELECT retention_days AS days FROM ${kind.table} WHERE ${column} IN {ids:Array(String)} ORDER BY days`, params: { ids: [kind.idOf(fresh), kind.idOf(kept)] } });
      expect(retention.map((r) => r.days)).toEqual([7, kind.retentionDays]);
    });

    it('refuses bad settings, naming the key', () => {
      expect(() => writer({ maxBatchRecords: 0 })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('maxBatchRecords') }));
      expect(() => writer({ retentionDays: 70_000 })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('retentionDays') }));
      expect(() => writer({ groupId: ' ' })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('groupId') }));
    });
  });
}
