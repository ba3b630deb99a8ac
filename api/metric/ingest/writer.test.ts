import { describe, expect, it } from 'vitest';
import type { TokenInfo } from '../../../core/index.ts';
import type { ArchivePolicy, BoundQuery, ClickHouseDriver, NativeBlock, ResourceType } from '../../../storage/index.ts';
import { AccessPolicy, DEFAULT_ACCESS_RULES } from '../../access-policy.ts';
import type { ApiContext } from '../../context.ts';
import type { ResourceMeasures } from './mapping.ts';
import { writePushedMeasures } from './writer.ts';

/**
 * The writer against a store that answers from fixed rows and records the inserts, with a
 * policy that lets project members push (an operator's override), so ownership is what decides.
 */

const NOW = new Date('2026-03-01T12:00:00.000Z');
const policy = (name: string): ArchivePolicy => ({ name, back_window: 0, aggregation_methods: ['mean'], definition: [{ granularity: 60, points: 1440 }] });
const TYPE: ResourceType = { name: 'telegraf', state: 'active', generation: 2, attributes: {} };
const member = (projectId: string): TokenInfo => ({ userId: `user-of-${projectId}`, userName: 'u', domainId: 'default', projectId, projectName: projectId, roles: ['member'], expiresAt: new Date(NOW.getTime() + 3_600_000) });

interface Stored {
  resources: Array<Record<string, unknown>>;
  metrics: Array<Record<string, unknown>>;
}

/** The columns of a measures/rollups Native block as row objects (the types those blocks use). */
function rowsOfBlock(block: NativeBlock): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = Array.from({ length: block.rows }, () => ({}));
  for (const column of block.columns) {
    const data = Buffer.isBuffer(column.data) ? column.data : Buffer.concat(column.data as Buffer[]);
    for (let i = 0; i < block.rows; i++) {
      const row = rows[i] as Record<string, unknown>;
      if (column.type === 'Float64') row[column.name] = data.readDoubleLE(i * 8);
      else if (column.type === 'UUID') {
        const hex = Buffer.concat([Buffer.from(data.subarray(i * 16, i * 16 + 8)).reverse(), Buffer.from(data.subarray(i * 16 + 8, i * 16 + 16)).reverse()]).toString('hex');
        row[column.name] = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      } else if (column.type === 'Array(UInt32)') {
        const end = Number(data.readBigUInt64LE(i * 8));
        const start = i === 0 ? 0 : Number(data.readBigUInt64LE((i - 1) * 8));
        row[column.name] = Array.from({ length: end - start }, (_, j) => data.readUInt32LE(block.rows * 8 + (start + j) * 4));
      }
    }
  }
  return rows;
}

function harness(stored: Stored) {
  const inserts: Array<{ table: string; rows: Array<Record<string, unknown>> }> = [];
  const store = {
    kind: 'chdb',
    async query(q: BoundQuery) {
      if (/FROM resources FINAL WHERE id IN/.test(q.sql)) return stored.resources.filter((r) => (q.params?.ids as string[]).includes(r.id as string));
      if (/FROM metrics FINAL WHERE resource_id IN/.test(q.sql)) return stored.metrics.filter((m) => (q.params?.ids as string[]).includes(m.resource_id as string));
      return [];
    },
    async insert(table: string, rows: readonly object[]) {
      inserts.push({ table, rows: rows as Array<Record<string, unknown>> });
    },
    async insertNative(table: string, block: NativeBlock) {
      inserts.push({ table, rows: rowsOfBlock(block) });
    },
  } as unknown as ClickHouseDriver;
  const context = {
    store,
    clock: { now: () => NOW, nowMs: () => NOW.getTime() },
    access: new AccessPolicy({ ...DEFAULT_ACCESS_RULES, 'ingest:write': 'rule:admin_or_project_member' }),
    policyStore: { policyForMetric: () => policy('by-rule'), resolver: { policy } },
  } as unknown as ApiContext;
  return { context, inserts, table: (name: string) => inserts.filter((i) => i.table === name).flatMap((i) => i.rows) };
}

const push = (name: string, metrics: Record<string, number[]>): ResourceMeasures => ({
  name,
  attributes: {},
  metrics: new Map(Object.entries(metrics).map(([metric, values]) => [metric, values.map((value, i) => ({ timestamp: new Date(NOW.getTime() - 600_000 + i * 1000), value }))])),
});

describe('writePushedMeasures', () => {
  it("creates the caller's resource and metrics, then writes the measures under each metric's policy", async () => {
    const h = harness({ resources: [], metrics: [] });
    const result = await writePushedMeasures(h.context, member('p1'), TYPE, [push('controller-1', { 'cpu.idle': [97, 95], 'cpu.user': [3] })]);
    expect(result).toEqual({ resources: { created: 1 }, metrics: { created: 2 }, measures: { accepted: 3, refused: 0 } });
    expect(h.inserts.map((i) => i.table)).toEqual(['resources', 'metrics', 'measures', 'rollups']);
    expect(h.table('resources')).toEqual([expect.objectContaining({ id: 'controller-1', type: 'telegraf', project_id: 'p1', user_id: 'user-of-p1', type_generation: 2, ended_at: null })]);
    expect(h.table('metrics').map((m) => [m.name, m.resource_id, m.project_id, m.archive_policy_name, m.deleted])).toEqual([
      ['cpu.idle', 'controller-1', 'p1', 'by-rule', 0],
      ['cpu.user', 'controller-1', 'p1', 'by-rule', 0],
    ]);
    expect(h.table('measures').map((m) => m.value as number).sort((a, b) => a - b)).toEqual([3, 95, 97]);
  });

  it('adds to existing metrics under their own policy, creating only what is missing', async () => {
    const h = harness({
      resources: [{ id: 'controller-1', type: 'telegraf', project_id: 'p1', user_id: 'someone' }],
      metrics: [{ id: '00000000-0000-5000-8000-000000000001', name: 'cpu.idle', resource_id: 'controller-1', project_id: 'p1', user_id: 'someone', unit: '', archive_policy_name: 'kept', created_at: '2026-01-01 00:00:00.000' }],
    });
    const result = await writePushedMeasures(h.context, member('p1'), TYPE, [push('controller-1', { 'cpu.idle': [1], 'cpu.user': [2] })]);
    expect(result.resources.created).toBe(0);
    expect(h.table('resources')).toEqual([]);
    expect(h.table('metrics').map((m) => [m.name, m.project_id, m.user_id])).toEqual([['cpu.user', 'p1', 'someone']]);
    expect(h.table('measures').map((m) => [m.metric_id, m.granularities])).toEqual([
      ['00000000-0000-5000-8000-000000000001', [60]],
      [expect.stringMatching(/^[0-9a-f-]{36}$/), [60]],
    ]);
  });

  it("refuses to write to another project's resource, and to a resource of another type, writing nothing", async () => {
    const stored = { resources: [{ id: 'shared-host', type: 'telegraf', project_id: 'p2', user_id: 'u2' }, { id: 'vm-1', type: 'instance', project_id: 'p1', user_id: 'u1' }], metrics: [] };
    const other = harness(stored);
    await expect(writePushedMeasures(other.context, member('p1'), TYPE, [push('mine', { v: [1] }), push('shared-host', { v: [1] })])).rejects.toMatchObject({ httpStatus: 403 });
    expect(other.inserts).toEqual([]);
    const conflict = harness(stored);
    await expect(writePushedMeasures(conflict.context, member('p1'), TYPE, [push('vm-1', { v: [1] })])).rejects.toMatchObject({
      httpStatus: 409,
      description: { cause: 'Resource already exists', detail: expect.stringMatching(/^[0-9a-f]{8}-/) },
    });
    expect(conflict.inserts).toEqual([]);
  });
});
