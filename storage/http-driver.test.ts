import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClickHouseError, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseDriver } from './driver.ts';
import { createChdbDriver } from './chdb-driver.ts';
import { createHttpDriver } from './http-driver.ts';
import { createDriver } from './index.ts';
import { startChdbHttpEndpoint } from './chdb-http-endpoint.ts';
import type { ChdbHttpEndpoint } from './chdb-http-endpoint.ts';
import { driverContract } from './driver-contract.test.ts';

// One chDB data directory for this file (one per process): the chdb driver holds it, the
// test endpoint serves it over ClickHouse's HTTP interface, the http driver talks to that.
const PASSWORD = 'hunter2-not-for-logs';
let dataDir: string;
let chdb: ClickHouseDriver;
let endpoint: ChdbHttpEndpoint;
let driver: ClickHouseDriver;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cumulus-http-driver-'));
  chdb = createChdbDriver({ dataDir });
  endpoint = await startChdbHttpEndpoint(chdb, { port: 0, host: '127.0.0.1' });
  driver = createHttpDriver({ url: endpoint.url, username: 'default', password: PASSWORD });
});

afterAll(async () => {
  await driver?.close();
  await endpoint?.close();
  await chdb?.close();
  if (dataDir !== undefined) fs.rmSync(dataDir, { recursive: true, force: true });
});

driverContract('http over the chDB endpoint', () => driver);

describe('http driver and the chDB test endpoint', () => {
  it('is picked by createDriver when a URL is set, and shares the engine with the chdb driver', async () => {
    const viaConfig = createDriver({ clickhouseUrl: endpoint.url, dataDir: '/nonexistent/unused' });
    try {
      expect(viaConfig.kind).toBe('http');
      await viaConfig.insert('usage_c', [{ project: 'p3', region: 'r', volume: 1, price: 1, ts: new Date(0), total: 1 }], {
        dedupToken: 'shared-1',
      });
      const overHttp = await viaConfig.query({ sql: 'SELECT count() AS c FROM usage_c' });
      const embedded = await chdb.query({ sql: 'SELECT count() AS c FROM usage_c' });
      expect(overHttp).toEqual([{ c: '5' }]);
      expect(embedded).toEqual(overHttp);
    } finally {
      await viaConfig.close();
    }
  });

  it('keeps per-request settings to their request (a dedup token does not stick)', async () => {
    await driver.command({
      sql: `CREATE TABLE sticky (id UInt32) ENGINE = MergeTree ORDER BY id
            SETTINGS non_replicated_deduplication_window = 1000`,
    });
    await driver.insert('sticky', [{ id: 1 }], { dedupToken: 'only-once' });
    await driver.insert('sticky', [{ id: 2 }]);
    await driver.insert('sticky', [{ id: 3 }]);
    expect(await driver.query({ sql: 'SELECT id FROM sticky ORDER BY id' })).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    // A missing parameter is an error, not a value left over from an earlier request.
    await driver.query({ sql: 'SELECT {left:String} AS v', params: { left: 'x' } });
    await expect(driver.query({ sql: 'SELECT {left:String} AS v' })).rejects.toMatchObject({
      code: 'CUMULUS_STORAGE_QUERY_FAILED',
    });
  });

  it('speaks enough of the HTTP interface for the raw client: ping, formats, compression, database, errors', async () => {
    const client = createClient({
      url: endpoint.url,
      compression: { request: true, response: true },
      log: { level: 127 },
    });
    try {
      expect(await client.ping()).toMatchObject({ success: true });
      expect(await client.ping({ select: true })).toMatchObject({ success: true });

      const json = await client.query({ query: 'SELECT {n:UInt8} AS n, {s:String} AS s', query_params: { n: 1, s: "a'b" }, format: 'JSON' });
      expect((await json.json<{ n: number; s: string }>()).data).toEqual([{ n: 1, s: "a'b" }]);

      const tsv = await client.query({ query: 'SELECT number FROM system.numbers LIMIT 3', format: 'TabSeparated' });
      expect(await tsv.text()).toBe('0\n1\n2\n');

      await client.command({ query: 'CREATE DATABASE IF NOT EXISTS other_db' });
      await client.command({ query: 'CREATE TABLE other_db.t (a UInt32, b String) ENGINE = MergeTree ORDER BY a' });
      // The client's default insert format (JSONCompactEachRow), gzip-compressed request body.
      const inserted = await client.insert({ table: 'other_db.t', values: [[1, 'x'], [2, 'y']] });
      expect(inserted.executed).toBe(true);
      expect(inserted.summary).toBeDefined();

      const inOther = createClient({ url: endpoint.url, database: 'other_db', log: { level: 127 } });
      try {
        const rs = await inOther.query({ query: 'SELECT a, b FROM t ORDER BY a', format: 'JSONEachRow' });
        expect(await rs.json()).toEqual([
          { a: 1, b: 'x' },
          { a: 2, b: 'y' },
        ]);
      } finally {
        await inOther.close();
      }

      const err = await client.query({ query: 'SELEC 1' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClickHouseError);
      expect(err).toMatchObject({ code: '62', type: 'SYNTAX_ERROR' });

      const unknownSetting = await client
        .query({ query: 'SELECT 1', clickhouse_settings: { no_such_setting: 1 } as never })
        .catch((e: unknown) => e);
      expect(unknownSetting).toMatchObject({ code: '115', type: 'UNKNOWN_SETTING' });
    } finally {
      await client.close();
    }
  });

  it('never puts the password into an error message', async () => {
    const failed = (await driver.query({ sql: `SELECT '${PASSWORD.slice(0, 4)}' FROM nowhere_at_all` }).catch((e: unknown) => e)) as Error;
    expect(failed).toMatchObject({ code: 'CUMULUS_STORAGE_QUERY_FAILED' });
    expect(failed.message).not.toContain(PASSWORD);

    // Credentials embedded in the URL of an unreachable server.
    const unreachable = createHttpDriver({ url: `http://cumulus:${PASSWORD}@127.0.0.1:9/`, requestTimeoutMs: 2000 });
    try {
      const down = (await unreachable.query({ sql: 'SELECT 1' }).catch((e: unknown) => e)) as Error;
      expect(down).toMatchObject({ code: 'CUMULUS_STORAGE_QUERY_FAILED' });
      expect(down.message).toContain('127.0.0.1:9');
      expect(down.message).not.toContain(PASSWORD);
      expect(JSON.stringify(down)).not.toContain(PASSWORD);
    } finally {
      await unreachable.close();
    }
  });

  it('rejects every call with CUMULUS_STORAGE_CLOSED after close (idempotent)', async () => {
    const d = createHttpDriver({ url: endpoint.url });
    expect(await d.query({ sql: 'SELECT 1 AS one' })).toEqual([{ one: 1 }]);
    const pending = d.query({ sql: 'SELECT count() AS c FROM numbers(100000)' });
    const closing = d.close();
    expect(d.close()).toBe(closing);
    await expect(pending).resolves.toEqual([{ c: '100000' }]);
    await closing;
    await expect(d.query({ sql: 'SELECT 1' })).rejects.toMatchObject({ code: 'CUMULUS_STORAGE_CLOSED' });
    await expect(d.command({ sql: 'SELECT 1' })).rejects.toMatchObject({ code: 'CUMULUS_STORAGE_CLOSED' });
    await expect(d.insert('sticky', [{ id: 9 }])).rejects.toMatchObject({ code: 'CUMULUS_STORAGE_CLOSED' });
  });
});
