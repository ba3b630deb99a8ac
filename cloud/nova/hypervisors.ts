import { deriveId, type StateDatabase } from '../../core/index.ts';

export interface Hypervisor {
  /** Integer id before microversion 2.53, the host's stable UUID from then on. */
  id: number;
  uuid: string;
  hypervisor_hostname: string;
  host: string;
  state: string;
  status: string;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  vcpus_used: number;
  memory_mb_used: number;
  local_gb_used: number;
  running_vms: number;
  availability_zone: string;
}

/** Each compute host with what its live servers use (nova-compute's resource tracker view). */
export function listHypervisors(db: StateDatabase): Hypervisor[] {
  const rows = db
    .prepare(
      `SELECT h.rowid AS id, h.name, h.availability_zone, h.vcpus, h.memory_mb, h.disk_gb, h.state, h.status,
         COALESCE(SUM(f.vcpus), 0) AS vcpus_used, COALESCE(SUM(f.ram_mb), 0) AS ram_used,
         COALESCE(SUM(f.disk_gb + f.ephemeral_gb), 0) AS disk_used, COUNT(s.id) AS running_vms
       FROM compute_hosts h LEFT JOIN servers s ON s.host = h.name AND s.deleted = 0 LEFT JOIN flavors f ON f.id = s.flavor_id
       GROUP BY h.name ORDER BY h.name`,
    )
    .all() as Array<{ id: number; name: string; availability_zone: string; vcpus: number; memory_mb: number; disk_gb: number; state: string; status: string; vcpus_used: number; ram_used: number; disk_used: number; running_vms: number }>;
  return rows.map((r) => ({
    id: r.id,
    uuid: hostUuid(r.name),
    hypervisor_hostname: r.name,
    host: r.name,
    state: r.state,
    status: r.status,
    vcpus: r.vcpus,
    memory_mb: r.memory_mb,
    local_gb: r.disk_gb,
    vcpus_used: r.vcpus_used,
    memory_mb_used: r.ram_used,
    local_gb_used: r.disk_used,
    running_vms: r.running_vms,
    availability_zone: r.availability_zone,
  }));
}

/** A stable UUID per host name (Nova gives compute nodes UUIDs; Placement uses the same). */
export function hostUuid(name: string): string {
  return deriveId('compute-node', name);
}
