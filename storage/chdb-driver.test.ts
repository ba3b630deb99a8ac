import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseDriver } from './driver.ts';
import { chdbDataDirOf, createChdbDriver, stringifyRow } from './chdb-driver.ts';
import { createDriver } from './index.ts';
import { driverContract } from './driver-contract.test.ts';

// chDB binds one data directory per process: this whole file shares one directory (vitest
// runs each test file in its own forked process).
let dataDir: string;
let driver: ClickHouseDriver;

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cumulus-chdb-driver-'));
  driver = createChdbDriver({ dataDir });
});

afterAll(async () => {
  await driver?.close();
  if (dataDir !== undefined) fs.rmSync(dataDir, { recursive: true, force: true });
});

driverContract('chdb', () => driver);

describe('stringifyRow', () => {
  const withReplacer = (row: unknown) => JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

  it.each<[string, unknown]>([
    ['plain values', { a: 'x', n: 1.5, b: true, z: null, d: new Date(0), list: [1, 'two'] }],
    ['strings to escape', { s: 'quote " backslash \\ nl \n ctl \u0001 lone \ud800 café 🚀 \u2028' }],
    ['numbers', { big: 1e21, small: 5e-324, neg: -0, frac: 0.1 + 0.2, nan: Number.NaN, inf: Number.POSITIVE_INFINITY }],
    ['a bigint at the top', { id: 12345678901234567890n, s: 'x' }],
    ['a bigint nested', { a: [{ b: -5n }], c: 'y' }],
    ['undefined fields', { a: undefined, b: 1 }],
  ])('writes what JSON.stringify with the bigint replacer writes: %s', (_what, row) => {
    expect(stringifyRow(row)).toBe(withReplacer(row));
  });

  it('still refuses what JSON cannot hold', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => stringifyRow(cyclic)).toThrow(TypeError);
  });
});

describe('chdb driver lifecycle', () => {
  it('is picked by createDriver when no URL is set, and exposes its directory to test tooling', async () => {
    const second = createDriver({ dataDir, clickhouseUrl: '  ' });
    try {
      expect(second.kind).toBe('chdb');
      expect(chdbDataDirOf(second)).toBe(path.resolve(dataDir));
      // A second connection at the same directory sees the same tables.
      expect(await second.query({ sql: 'SELECT count() AS c FROM usage_c' })).toEqual([{ c: '4' }]);
    } finally {
      await second.close();
    }
    expect(chdbDataDirOf(second)).toBeUndefined();
    expect(await driver.query({ sql: 'SELECT 1 AS one' })).toEqual([{ one: 1 }]);
  });

  it('refuses a second data directory while one is open', () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'cumulus-chdb-other-'));
    try {
      expect(() => createChdbDriver({ dataDir: other })).toThrow(expect.objectContaining({ code: 'CUMULUS_STORAGE_OPEN_FAILED' }));
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('rejects every call with CUMULUS_STORAGE_CLOSED after close (idempotent), and the data persists on reopen', async () => {
    await driver.command({ sql: 'CREATE TABLE persisted (id UInt32, name String) ENGINE = MergeTree ORDER BY id' });
    await driver.insert('persisted', [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
    const pending = driver.query({ sql: 'SELECT count() AS c FROM numbers(1000000)' });
    const closing = driver.close();
    expect(driver.close()).toBe(closing);
    await expect(pending).resolves.toEqual([{ c: '1000000' }]);
    await closing;
    await driver.close();

    await expect(driver.query({ sql: 'SELECT 1' })).rejects.toMatchObject({ code: 'CUMULUS_STORAGE_CLOSED' });
    await expect(driver.command({ sql: 'SELECT 1' })).rejects.toMatchObject({ code: 'CUMULUS_STORAGE_CLOSED' });
    await expect(driver.insert('persisted', [{ id: 3, name: 'c' }])).rejects.toMatchObject({ code: 'CUMULUS_STORAGE_CLOSED' });

    driver = createChdbDriver({ dataDir });
    expect(await driver.query({ sql: 'SELECT id, name FROM persisted ORDER BY id' })).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
    expect(await driver.query({ sql: 'SELECT count() AS c FROM dedup_mv_target' })).toEqual([{ c: '4' }]);
  });
});
