import type { StateDatabase } from '../../core/index.ts';
import { CloudApiError } from '../errors.ts';

/** Nova's default quotas (nova.conf [quota]). */
export const DEFAULT_QUOTAS: Readonly<Record<string, number>> = {
  instances: 10,
  cores: 20,
  ram: 51_200,
  key_pairs: 100,
  metadata_items: 128,
  injected_files: 5,
  injected_file_content_bytes: 10_240,
  injected_file_path_bytes: 255,
  server_groups: 10,
  server_group_members: 10,
};

/** Per-project compute quotas with Nova's defaults, checked when a server is created or resized. */
export class Quotas {
  constructor(private readonly db: StateDatabase) {}

  limits(projectId: string): Record<string, number> {
    const rows = this.db.prepare('SELECT resource, hard_limit FROM quotas WHERE project_id = ?').all(projectId) as Array<{ resource: string; hard_limit: number }>;
    return { ...DEFAULT_QUOTAS, ...Object.fromEntries(rows.map((r) => [r.resource, r.hard_limit])) };
  }

  set(projectId: string, values: Record<string, number>): void {
    const upsert = this.db.prepare('INSERT INTO quotas (project_id, resource, hard_limit) VALUES (?, ?, ?) ON CONFLICT(project_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit');
    for (const [resource, limit] of Object.entries(values)) if (resource in DEFAULT_QUOTAS) upsert.run(projectId, resource, limit);
  }

  usage(projectId: string): { instances: number; cores: number; ram: number } {
    const row = this.db
      .prepare('SELECT COUNT(s.id) AS instances, COALESCE(SUM(f.vcpus), 0) AS cores, COALESCE(SUM(f.ram_mb), 0) AS ram FROM servers s JOIN flavors f ON f.id = s.flavor_id WHERE s.project_id = ? AND s.deleted = 0')
      .get(projectId) as { instances: number; cores: number; ram: number };
    return row;
  }

  /** Throws Nova's 403 "Quota exceeded" when adding `delta` would pass a limit (-1 = unlimited). */
  check(projectId: string, delta: { instances: number; cores: number; ram: number }): void {
    const limits = this.limits(projectId);
    const used = this.usage(projectId);
    for (const resource of ['instances', 'cores', 'ram'] as const) {
      const limit = limits[resource] as number;
      if (limit >= 0 && delta[resource] > 0 && used[resource] + delta[resource] > limit) {
        throw new CloudApiError('CUMULUS_CLOUD_QUOTA_EXCEEDED', 403, `Quota exceeded for ${resource}: Requested ${delta[resource]}, but already used ${used[resource]} of ${limit} ${resource}`);
      }
    }
  }
}
