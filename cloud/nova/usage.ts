import type { StateDatabase } from '../../core/index.ts';

interface UsageRow {
  id: string;
  name: string;
  project_id: string;
  vm_state: string;
  created_at: string;
  launched_at: string | null;
  terminated_at: string | null;
  vcpus: number;
  ram_mb: number;
  disk_gb: number;
  ephemeral_gb: number;
  flavor_name: string;
}

export interface ServerUsage {
  instance_id: string;
  name: string;
  hours: number;
  memory_mb: number;
  local_gb: number;
  vcpus: number;
  tenant_id: string;
  flavor: string;
  started_at: string;
  ended_at: string | null;
  state: string;
  uptime: number;
}

export interface TenantUsage {
  tenant_id: string;
  total_hours: number;
  total_vcpus_usage: number;
  total_memory_mb_usage: number;
  total_local_gb_usage: number;
  start: string;
  stop: string;
  server_usages?: ServerUsage[];
}

const HOUR_MS = 3_600_000;
const naive = (ms: number) => new Date(ms).toISOString().replace('Z', '');

/**
 * os-simple-tenant-usage: for each server alive during [start, end), the hours it ran
 * (from launch, or creation, to termination or the end), times its flavor's vCPUs, RAM and
 * disk — Nova's own arithmetic, which billing cross-checks against.
 */
export function tenantUsages(db: StateDatabase, range: { start: Date; end: Date; nowMs: number; projectId?: string; detailed: boolean }): TenantUsage[] {
  const startMs = range.start.getTime();
  const endMs = Math.min(range.end.getTime(), range.nowMs);
  const rows = db
    .prepare(
      `SELECT s.id, s.name, s.project_id, s.vm_state, s.created_at, s.launched_at, s.terminated_at, f.vcpus, f.ram_mb, f.disk_gb, f.ephemeral_gb, f.name AS flavor_name
       FROM servers s JOIN flavors f ON f.id = s.flavor_id
       WHERE (? IS NULL OR s.project_id = ?) ORDER BY s.project_id, s.created_at`,
    )
    .all(range.projectId ?? null, range.projectId ?? null) as UsageRow[];
  const byProject = new Map<string, TenantUsage>();
  for (const row of rows) {
    const began = Date.parse(row.launched_at ?? row.created_at);
    const ended = row.terminated_at ? Date.parse(row.terminated_at) : Infinity;
    const from = Math.max(began, startMs);
    const to = Math.min(ended, endMs);
    if (to <= from) continue;
    const hours = (to - from) / HOUR_MS;
    const localGb = row.disk_gb + row.ephemeral_gb;
    let usage = byProject.get(row.project_id);
    if (!usage) {
      usage = { tenant_id: row.project_id, total_hours: 0, total_vcpus_usage: 0, total_memory_mb_usage: 0, total_local_gb_usage: 0, start: naive(startMs), stop: naive(range.end.getTime()), ...(range.detailed ? { server_usages: [] } : {}) };
      byProject.set(row.project_id, usage);
    }
    usage.total_hours += hours;
    usage.total_vcpus_usage += hours * row.vcpus;
    usage.total_memory_mb_usage += hours * row.ram_mb;
    usage.total_local_gb_usage += hours * localGb;
    usage.server_usages?.push({
      instance_id: row.id,
      name: row.name,
      hours,
      memory_mb: row.ram_mb,
      local_gb: localGb,
      vcpus: row.vcpus,
      tenant_id: row.project_id,
      flavor: row.flavor_name,
      started_at: naive(began),
      ended_at: row.terminated_at ? naive(ended) : null,
      state: row.terminated_at ? 'terminated' : row.vm_state,
      uptime: Math.floor((Math.min(ended, range.nowMs) - began) / 1000),
    });
  }
  return [...byProject.values()];
}
