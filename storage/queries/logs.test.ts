import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../core/index.ts';
import { createChdbDriver } from '../chdb-driver.ts';
import type { ClickHouseDriver } from '../driver.ts';
import { migrate } from '../schema/migrate.ts';
import { countLogs, selectLogs, wholeWords, type LogQuery, type LogRow } from './logs.ts';

// An hour ago: rows older than their retention would be dropped by the TTL.
const BASE_MS = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
const line = (n: number, fields: Partial<LogRecord>): LogRecord => ({
  id: `00000000-0000-5000-8000-${String(900 + n).padStart(12, '0')}`,
  timestamp: new Date(BASE_MS + n * 1000).toISOString(),
  service: 'nova-api',
  host: 'controller-1',
  pid: 7,
  level: 'INFO',
  logger: 'nova.api',
  request_id: null,
  user_id: null,
  project_id: null,
  message: `message ${n}`,
  ...fields,
});

const LINES = [
  line(1, { message: 'GET /v2.1/servers status: 200 len: 1532', project_id: 'p1', request_id: 'req-1' }),
  line(2, { level: 'WARNING', message: "Quota exceeded for O'Brien: \\ instances", project_id: 'p2' }),
  line(3, { level: 'ERROR', message: 'Unexpected exception in API method; see nova-compute.log', project_id: 'p1' }),
  line(4, { level: 'DEBUG', message: 'Café déjà vu: 100%_done', service: 'nova-compute' }),
];

let dir: string;
let store: ClickHouseDriver;
const numbers = async (q: Partial<LogQuery>) => (await store.query<LogRow>(selectLogs({ projectId: null, limit: 100, order: 'asc', ...q }))).map((r) => Number(r.id.slice(-3)) - 900);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cumulus-logs-'));
  store = createChdbDriver({ dataDir: dir });
  await migrate(store);
  await store.insert('logs', LINES);
});
afterAll(async () => {
  await store?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('wholeWords', () => {
  it('keeps only the words bounded by separators on both sides, lower-cased', () => {
    expect(wholeWords('ova-compute.log')).toEqual(['compute']);
    expect(wholeWords('status: 200 len')).toEqual(['200']);
    expect(wholeWords('quota')).toEqual([]);
    expect(wholeWords(' Quota ')).toEqual(['quota']);
    expect(wholeWords(' déjà vu ')).toEqual(['vu']);
    expect(wholeWords("' OR 1=1 --")).toEqual(['or', '1']);
  });
});

describe('selectLogs: the filters added for the API', () => {
  it('matches a case-insensitive substring, parts of words included', async () => {
    expect(await numbers({ contains: 'ova-comp' })).toEqual([3]);
    expect(await numbers({ contains: 'STATUS: 200 LEN' })).toEqual([1]);
    expect(await numbers({ contains: 'CAFÉ DÉJÀ' })).toEqual([4]);
    expect(await numbers({ contains: '100%_' })).toEqual([4]);
    expect(await numbers({ contains: '%' })).toEqual([4]);
    expect(await numbers({ contains: '_' })).toEqual([4]);
  });

  it('takes quotes, backslashes and SQL as data', async () => {
    expect(await numbers({ contains: "O'Brien: \\ inst" })).toEqual([2]);
    expect(await numbers({ contains: "' OR '1'='1" })).toEqual([]);
    expect(await numbers({ contains: "x'); DROP TABLE logs; --" })).toEqual([]);
    expect(await numbers({ project: "p1' OR 1=1 --" })).toEqual([]);
    expect(await numbers({})).toEqual([1, 2, 3, 4]);
    expect(() => selectLogs({ projectId: null, limit: 1, contains: '' })).toThrow(expect.objectContaining({ code: 'CUMULUS_STORAGE_BAD_FILTER' }));
  });

  it('uses the text index for the whole words of a substring', async () => {
    const q = selectLogs({ projectId: null, limit: 10, contains: 'see nova-compute' });
    const plan = await store.query<{ explain: string }>({ ...q, sql: `EXPLAIN indexes = 1 ${q.sql}` });
    const text = plan.map((r) => r.explain).join('\n');
    expect(text).toContain('message_idx');
    expect(text).toMatch(/tokens: \["nova"\]/);
  });

  it('filters by exact levels and by the project asked for, within the readable one', async () => {
    expect(await numbers({ levels: ['WARNING', 'DEBUG'] })).toEqual([2, 4]);
    expect(await numbers({ levels: ['ERROR', 'DEBUG'], minLevel: 'INFO' })).toEqual([3]);
    expect(await numbers({ project: 'p1' })).toEqual([1, 3]);
    expect(await numbers({ project: 'p1', projectId: 'p2' })).toEqual([]);
    expect(() => selectLogs({ projectId: null, limit: 1, levels: ['LOUD' as 'INFO'] })).toThrow(expect.objectContaining({ code: 'CUMULUS_STORAGE_BAD_FILTER' }));
  });

  it('counts with the same filters', async () => {
    const rows = await store.query<{ key: string; count: string }>(countLogs({ projectId: null, intervalSeconds: 3600, by: 'level', contains: 'nova' }));
    expect(rows.map((r) => [r.key, Number(r.count)])).toEqual([['ERROR', 1]]);
  });
});
