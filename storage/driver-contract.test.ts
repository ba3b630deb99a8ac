/**
 * The behaviour every ClickHouseDriver must show, as one suite run against each driver
 * (chdb-driver.test.ts, http-driver.test.ts). This file is also collected on its own: its
 * top-level tests cover the pure parameter conversion (they also run wherever the file is
 * imported, which is harmless).
 */
import { TupleParam } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import type { ClickHouseDriver } from './driver.ts';
import { FixedColumn, uint32ArrayColumnOfRuns, type NativeBlock } from './native-block.ts';
import { dateParamText, toBoundParams } from './chdb-driver.ts';

const TS = new Date('2024-01-02T03:04:05.678Z');

interface UsageRow {
  project: string;
  region: string;
  volume: number;
  price: number;
  ts: string;
  total: string;
}

export function driverContract(label: string, getDriver: () => ClickHouseDriver): void {
  describe(`driver contract (${label})`, () => {
    it('pins UTC and 64-bit integers as strings', async () => {
      const rows = await getDriver().query<{ tz: string; c: string; n: number }>({
        sql: 'SELECT timezone() AS tz, count() AS c, toUInt32(7) AS n FROM numbers(3)',
      });
      expect(rows).toEqual([{ tz: 'UTC', c: '3', n: 7 }]);
    });

    it('creates a MergeTree table, inserts and queries with bound String, UInt32, Float64, DateTime64(3), Array(String)', async () => {
      const d = getDriver();
      await d.command({
        sql: `CREATE TABLE usage_c (
                project String, region String, volume UInt32, price Float64,
                ts DateTime64(3), total UInt64
              ) ENGINE = MergeTree ORDER BY (project, ts)`,
      });
      await d.insert('usage_c', [
        { project: 'p1', region: 'eu-1', volume: 10, price: 0.5, ts: TS, total: 9007199254740993n },
        { project: 'p1', region: 'us-1', volume: 20, price: 1.5, ts: new Date(TS.getTime() + 1000), total: 1 },
        { project: 'p1', region: 'eu-2', volume: 5, price: 2.5, ts: '2024-01-02 03:04:07.000', total: 2 },
        { project: 'p2', region: 'eu-1', volume: 30, price: 0.25, ts: TS, total: 3 },
      ]);
      const rows = await d.query<UsageRow>({
        sql: `SELECT project, region, volume, price, ts, total FROM usage_c
              WHERE project = {project:String} AND volume >= {minVolume:UInt32}
                AND price < {maxPrice:Float64} AND ts >= {since:DateTime64(3)}
                AND has({regions:Array(String)}, region)
              ORDER BY ts`,
        params: { project: 'p1', minVolume: 10, maxPrice: 2.0, since: TS, regions: ['eu-1', 'us-1', 'xx'] },
      });
      expect(rows).toEqual([
        { project: 'p1', region: 'eu-1', volume: 10, price: 0.5, ts: '2024-01-02 03:04:05.678', total: '9007199254740993' },
        { project: 'p1', region: 'us-1', volume: 20, price: 1.5, ts: '2024-01-02 03:04:06.678', total: '1' },
      ]);
    });

    it('binds parameters exactly (dates with milliseconds, arrays, maps, nulls, bigint)', async () => {
      const [row] = await getDriver().query<Record<string, unknown>>({
        sql: `SELECT {s:String} AS s, {n:UInt32} AS n, {f:Float64} AS f, {d:DateTime64(3)} AS d,
                     toUnixTimestamp64Milli({d:DateTime64(3)}) AS ms, {a:Array(String)} AS a,
                     {empty:Array(String)} AS empty, {m:Map(String, UInt32)} AS m,
                     {ds:Array(DateTime64(3))} AS ds, {nul:Nullable(String)} AS nul, {big:UInt64} AS big,
                     {whole:DateTime} AS whole, {t:Tuple(String, DateTime64(3))} AS t, {b:Bool} AS b`,
        params: {
          s: "tab\there, quote ' and backslash \\ and\nnewline",
          n: 4294967295,
          f: -1.25e-3,
          d: TS,
          a: ["it's", 'a\\b', ''],
          empty: [],
          m: { a: 1, b: 2 },
          ds: [TS],
          nul: null,
          big: 18446744073709551615n,
          whole: new Date('2024-01-02T03:04:05Z'),
          t: new TupleParam(['x', TS]),
          b: true,
        },
      });
      expect(row).toEqual({
        s: "tab\there, quote ' and backslash \\ and\nnewline",
        n: 4294967295,
        f: -1.25e-3,
        d: '2024-01-02 03:04:05.678',
        ms: '1704164645678',
        a: ["it's", 'a\\b', ''],
        empty: [],
        m: { a: 1, b: 2 },
        ds: ['2024-01-02 03:04:05.678'],
        nul: null,
        big: '18446744073709551615',
        whole: '2024-01-02 03:04:05',
        t: ['x', '2024-01-02 03:04:05.678'],
        b: true,
      });
    });

    it('keeps an injection attempt through a parameter a literal value', async () => {
      const d = getDriver();
      const attack = "p1' OR 1=1 --";
      const rows = await d.query<{ c: string }>({
        sql: 'SELECT count() AS c FROM usage_c WHERE project = {project:String}',
        params: { project: attack },
      });
      expect(rows).toEqual([{ c: '0' }]);
      const echoed = await d.query<{ v: string }>({ sql: 'SELECT {v:String} AS v', params: { v: "'); DROP TABLE usage_c; --" } });
      expect(echoed).toEqual([{ v: "'); DROP TABLE usage_c; --" }]);
      const still = await d.query<{ c: string }>({ sql: 'SELECT count() AS c FROM usage_c' });
      expect(still).toEqual([{ c: '4' }]);
    });

    it('returns [] for an empty result and accepts an empty insert', async () => {
      const d = getDriver();
      await expect(d.query({ sql: 'SELECT 1 AS x WHERE 0' })).resolves.toEqual([]);
      await expect(d.insert('usage_c', [])).resolves.toBeUndefined();
    });

    it('drops a replayed insert (same dedupToken) in the table and in a materialized view target', async () => {
      const d = getDriver();
      await d.command({
        sql: `CREATE TABLE dedup_src (id UInt32, v Float64) ENGINE = MergeTree ORDER BY id
              SETTINGS non_replicated_deduplication_window = 1000`,
      });
      await d.command({
        sql: `CREATE TABLE dedup_mv_target (id UInt32, v2 Float64) ENGINE = MergeTree ORDER BY id
              SETTINGS non_replicated_deduplication_window = 1000`,
      });
      await d.command({ sql: 'CREATE MATERIALIZED VIEW dedup_mv TO dedup_mv_target AS SELECT id, v * 2 AS v2 FROM dedup_src' });
      const rows = [
        { id: 1, v: 1.5 },
        { id: 2, v: 2.5 },
      ];
      const counts = () =>
        d.query<{ src: string; mv: string }>({
          sql: 'SELECT (SELECT count() FROM dedup_src) AS src, (SELECT count() FROM dedup_mv_target) AS mv',
        });

      await d.insert('dedup_src', rows, { dedupToken: 'batch-1' });
      await d.insert('dedup_src', rows, { dedupToken: 'batch-1' });
      expect(await counts()).toEqual([{ src: '2', mv: '2' }]);

      await d.insert('dedup_src', rows, { dedupToken: 'batch-2' });
      expect(await counts()).toEqual([{ src: '4', mv: '4' }]);

      const sum = await d.query<{ s: number }>({ sql: 'SELECT sum(v2) AS s FROM dedup_mv_target' });
      expect(sum).toEqual([{ s: 16 }]);
    });

    it('inserts rows given as JSONEachRow text, with the same deduplication as insert()', async () => {
      const d = getDriver();
      await d.command({
        sql: `CREATE TABLE text_src (id UInt32, s String, v Float64) ENGINE = MergeTree ORDER BY id
              SETTINGS non_replicated_deduplication_window = 1000`,
      });
      const rows = [
        { id: 1, s: 'quote " backslash \\ tab \t', v: 1e21 },
        { id: 2, s: 'café ☁️ 🚀 \u2028', v: -0.5e-7 },
      ];
      const text = rows.map((r) => `${JSON.stringify(r)}\n`).join('');
      await expect(d.insertJsonEachRow('text_src', '')).resolves.toBeUndefined();
      await d.insertJsonEachRow('text_src', text, { dedupToken: 'text-1' });
      await d.insertJsonEachRow('text_src', text, { dedupToken: 'text-1' });
      expect(await d.query({ sql: 'SELECT id, s, v FROM text_src ORDER BY id' })).toEqual(rows);
      await d.insertJsonEachRow('text_src', text, { dedupToken: 'text-2' });
      expect(await d.query({ sql: 'SELECT count() AS c FROM text_src' })).toEqual([{ c: '4' }]);
      await expect(d.insertJsonEachRow('no_such_table', text)).rejects.toMatchObject({
        code: 'CUMULUS_STORAGE_QUERY_FAILED',
        message: expect.stringContaining('INSERT INTO no_such_table'),
      });
      await expect(d.insertJsonEachRow('text_src', '{"id": "many"}\n')).rejects.toMatchObject({ code: 'CUMULUS_STORAGE_QUERY_FAILED' });
    });

    it('runs a command with bound parameters', async () => {
      const d = getDriver();
      await d.command({ sql: 'CREATE TABLE cmd_t (k String, n UInt32) ENGINE = MergeTree ORDER BY k' });
      await d.command({ sql: 'INSERT INTO cmd_t SELECT {k:String}, {n:UInt32}', params: { k: "o'k", n: 3 } });
      await d.command({ sql: 'INSERT INTO cmd_t VALUES ({k:String}, {n:UInt32})', params: { k: 'b', n: 4 } });
      expect(await d.query({ sql: 'SELECT k, n FROM cmd_t ORDER BY k' })).toEqual([
        { k: 'b', n: 4 },
        { k: "o'k", n: 3 },
      ]);
    });

    it('rejects engine failures with CUMULUS_STORAGE_QUERY_FAILED, naming the ClickHouse message and the SQL', async () => {
      const d = getDriver();
      const syntax = await d.query({ sql: 'SELEC 1 FROM numbers(3)' }).catch((e: unknown) => e);
      expect(syntax).toMatchObject({ code: 'CUMULUS_STORAGE_QUERY_FAILED', name: 'TransportError', httpStatus: 503 });
      expect((syntax as Error).message).toContain('Syntax error');
      expect((syntax as Error).message).toContain('SELEC 1 FROM numbers(3)');
      expect((syntax as Error).cause).toBeDefined();

      await expect(d.command({ sql: 'CREATE TABLE broken (' })).rejects.toMatchObject({ code: 'CUMULUS_STORAGE_QUERY_FAILED' });
      await expect(d.query({ sql: 'SELECT * FROM no_such_table' })).rejects.toMatchObject({
        code: 'CUMULUS_STORAGE_QUERY_FAILED',
        message: expect.stringContaining('no_such_table'),
      });
      await expect(d.query({ sql: 'SELECT {n:UInt32} AS n', params: { n: 'not a number' } })).rejects.toMatchObject({
        code: 'CUMULUS_STORAGE_QUERY_FAILED',
      });
      await expect(d.insert('no_such_table', [{ a: 1 }])).rejects.toMatchObject({
        code: 'CUMULUS_STORAGE_QUERY_FAILED',
        message: expect.stringContaining('INSERT INTO no_such_table'),
      });
      await expect(d.insert('usage_c', [{ project: 'x', volume: 'many' }])).rejects.toMatchObject({
        code: 'CUMULUS_STORAGE_QUERY_FAILED',
      });

      const long = `SELECT ${'1 + '.repeat(100)}`;
      const longErr = (await d.query({ sql: long }).catch((e: unknown) => e)) as Error;
      expect(longErr.message).toContain(long.slice(0, 200));
      expect(longErr.message).not.toContain(long.slice(0, 201));
    });

    it('inserts Native blocks exactly (every column type the measure path writes), deduplicated by token', async () => {
      const d = getDriver();
      const table = `native_${label.replace(/[^a-z]/g, '')}`;
      await d.command({
        sql: `CREATE TABLE ${table} (id UUID, n UInt32, big UInt64, x Float64, at DateTime('UTC'), ts DateTime64(6, 'UTC'), levels Array(UInt32),
          first SimpleAggregateFunction(min, Tuple(DateTime64(6, 'UTC'), Float64)))
          ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100`,
      });
      const ids = ['01234567-89ab-cdef-0123-456789abcdef', 'ffffffff-0000-4000-8000-000000000001'];
      const id = new FixedColumn(2, 16);
      const n = new FixedColumn(2, 4);
      const big = new FixedColumn(2, 8);
      const x = new FixedColumn(2, 8);
      const at = new FixedColumn(2, 4);
      const ts = new FixedColumn(2, 8);
      const firstTs = new FixedColumn(2, 8);
      const firstValue = new FixedColumn(2, 8);
      const micros = [1_704_164_645_678_901, 1];
      for (let i = 0; i < 2; i++) {
        id.uuid(i, ids[i] as string);
        n.uint32(i, 4_000_000_000 + i);
        big.int64(i, 2 ** 53 - 1 - i);
        x.float64(i, i === 0 ? -0.1 : 1e300);
        at.uint32(i, 1_704_164_645 + i);
        ts.int64(i, micros[i] as number);
        firstTs.int64(i, micros[i] as number);
        firstValue.float64(i, 1.5 + i);
      }
      const block: NativeBlock = {
        rows: 2,
        columns: [
          { name: 'id', type: 'UUID', data: id.data },
          { name: 'n', type: 'UInt32', data: n.data },
          { name: 'big', type: 'UInt64', data: big.data },
          { name: 'x', type: 'Float64', data: x.data },
          { name: 'at', type: "DateTime('UTC')", data: at.data },
          { name: 'ts', type: "DateTime64(6, 'UTC')", data: ts.data },
          { name: 'levels', type: 'Array(UInt32)', data: uint32ArrayColumnOfRuns([[1, [60, 3600]], [1, []]]) },
          { name: 'first', type: "Tuple(DateTime64(6, 'UTC'), Float64)", data: [firstTs.data, firstValue.data] },
        ],
      };
      await d.insertNative(table, block, { dedupToken: 'native-1' });
      await d.insertNative(table, block, { dedupToken: 'native-1' });
      await d.insertNative(table, { rows: 0, columns: [] });
      const rows = await d.query({
        sql: `SELECT toString(id) AS id, n, big, x, toUnixTimestamp(at) AS at, toUnixTimestamp64Micro(ts) AS us, levels, toString(toUnixTimestamp64Micro(first.1)) AS fts, first.2 AS f FROM ${table} ORDER BY n`,
      });
      expect(rows).toEqual([
        { id: ids[0], n: 4_000_000_000, big: String(2 ** 53 - 1), x: -0.1, at: 1_704_164_645, us: String(micros[0]), levels: [60, 3600], fts: String(micros[0]), f: 1.5 },
        { id: ids[1], n: 4_000_000_001, big: String(2 ** 53 - 2), x: 1e300, at: 1_704_164_646, us: '1', levels: [], fts: '1', f: 2.5 },
      ]);
      await expect(d.insertNative('no_such_table', block)).rejects.toMatchObject({ code: 'CUMULUS_STORAGE_QUERY_FAILED' });
    });

    it('serves concurrent calls', async () => {
      const d = getDriver();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => d.query<{ v: number }>({ sql: 'SELECT toUInt32({i:UInt32} * 2) AS v', params: { i } })),
      );
      expect(results.map((r) => r[0]?.v)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    });
  });
}

describe('query parameter conversion (pure)', () => {
  it('writes a Date as Unix seconds with milliseconds, like @clickhouse/client', () => {
    expect(dateParamText(TS)).toBe('1704164645.678');
    expect(dateParamText(new Date('2024-01-02T03:04:05Z'))).toBe('1704164645');
    expect(dateParamText(new Date(5))).toBe('0.005');
    expect(dateParamText(new Date(-1500))).toBe('-1.500');
    expect(() => dateParamText(new Date('nope'))).toThrow(RangeError);
  });

  it('converts Dates at any depth and leaves other values alone', () => {
    const m = new Map<string, Date>([['k', TS]]);
    const out = toBoundParams({ d: TS, a: [TS, 'x'], m, o: { when: TS }, n: 1, s: 's', nul: null });
    expect(out).toEqual({
      d: '1704164645.678',
      a: ['1704164645.678', 'x'],
      m: new Map([['k', '1704164645.678']]),
      o: { when: '1704164645.678' },
      n: 1,
      s: 's',
      nul: null,
    });
    expect(toBoundParams(undefined)).toEqual({});
    const tuple = toBoundParams({ t: new TupleParam([TS, 1]) }).t;
    expect(tuple).toBeInstanceOf(TupleParam);
    expect((tuple as TupleParam).values).toEqual(['1704164645.678', 1]);
  });
});
