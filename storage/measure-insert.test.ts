import { describe, expect, it } from 'vitest';
import type { ArchivePolicy } from './archive-policies.ts';
import { computeRollupRows, computeRollups, rollupsBlock, type MeasureRun } from './measure-insert.ts';
import { RollupColumns } from './rollup-rows.ts';

const POLICY: ArchivePolicy = { name: 'three', back_window: 0, aggregation_methods: ['mean'], definition: [{ granularity: 1, points: 3600 }, { granularity: 60, points: 1440 }, { granularity: 3600, points: 48 }] };
const METRICS = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'];

/** A small deterministic generator, so a failure replays. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe('computeRollups', () => {
  it('equals a bucket-by-bucket computation, for runs forward, backward and split, at every level (columns grow past their first size)', () => {
    const random = lcg(7);
    const base = 1_700_000_000_000_000;
    const runs: MeasureRun[] = [];
    const all: Array<{ metric: string; t: number; v: number }> = [];
    for (let r = 0; r < 40; r++) {
      const metric = METRICS[r % 2] as string;
      const n = 1 + Math.floor(random() * 50);
      const start = base + Math.floor(random() * 7_200) * 1_000_000;
      const backward = r % 5 === 0;
      const timestamps: number[] = [];
      const values: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = start + (backward ? -i : i) * Math.floor(random() * 90_000_000) + Math.floor(random() * 1000);
        const v = Math.round(random() * 1000) / 8 - 40;
        timestamps.push(t);
        values.push(v);
        all.push({ metric, t, v });
      }
      runs.push({ metricId: metric, policy: POLICY, sampleId: METRICS[0] as string, timestamps, values });
    }
    const columns = computeRollups(runs);
    expect(columns.length).toBeGreaterThan(all.length);
    const got = new Map(computeRollupRows(runs).map((row) => [`${row.metricId}|${row.granularity}|${row.bucket}`, row]));
    expect(got.size).toBe(columns.length);
    const wanted = new Map<string, { count: number; sum: number; min: number; max: number; first: [number, number]; last: [number, number] }>();
    for (const { metric, t, v } of all) {
      for (const { granularity: g } of POLICY.definition) {
        const bucket = Math.floor(Math.floor(t / 1e6) / g) * g;
        const key = `${metric}|${g}|${bucket}`;
        const w = wanted.get(key) ?? { count: 0, sum: 0, min: Infinity, max: -Infinity, first: [Infinity, 0] as [number, number], last: [-Infinity, 0] as [number, number] };
        w.count++;
        w.sum += v;
        w.min = Math.min(w.min, v);
        w.max = Math.max(w.max, v);
        if (t < w.first[0] || (t === w.first[0] && v < w.first[1])) w.first = [t, v];
        if (t > w.last[0] || (t === w.last[0] && v > w.last[1])) w.last = [t, v];
        wanted.set(key, w);
      }
    }
    expect([...got.keys()].sort()).toEqual([...wanted.keys()].sort());
    for (const [key, w] of wanted) {
      const row = got.get(key);
      const g = Number(key.split('|')[1]);
      expect(row, key).toMatchObject({ count: w.count, min: w.min, max: w.max, firstTs: w.first[0], firstValue: w.first[1], lastTs: w.last[0], lastValue: w.last[1], expires: Number(key.split('|')[2]) + g * (POLICY.definition.find((l) => l.granularity === g)?.points as number) });
      // Values in eighths: the sums are exact whatever the order.
      expect(row?.sum, key).toBe(w.sum);
    }
  });

  it('writes the Native rollups block from the columns: counts as UInt64, times as Int64 microseconds, values as they are', () => {
    const columns = RollupColumns.of([{ metricId: METRICS[0] as string, granularity: 60, bucket: 1_700_000_040, expires: 1_700_086_440, count: 3, sum: 1.5, min: -2, max: 4, sumsq: 20.25, firstTs: 1_700_000_040_000_001, firstValue: -2, lastTs: 1_700_000_099_999_999, lastValue: 4 }]);
    const block = rollupsBlock(columns);
    const column = (name: string) => {
      const data = block.columns.find((c) => c.name === name)?.data;
      return Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
    };
    expect(block.rows).toBe(1);
    expect(column('count').readBigUInt64LE(0)).toBe(3n);
    expect(column('bucket').readUInt32LE(0)).toBe(1_700_000_040);
    expect(column('sum').readDoubleLE(0)).toBe(1.5);
    expect(column('first_measure').readBigInt64LE(0)).toBe(1_700_000_040_000_001n);
    expect(column('first_measure').readDoubleLE(8)).toBe(-2);
    expect(column('last_measure').readBigInt64LE(0)).toBe(1_700_000_099_999_999n);
    expect(column('last_measure').readDoubleLE(8)).toBe(4);
  });
});
