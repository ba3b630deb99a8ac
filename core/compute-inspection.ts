/**
 * The compute inspection contract: what the control plane's hypervisor layer reports and
 * the collectors' pollster reads (libvirt's inspector view per guest, and each host's
 * stats), the JSON of the admin API under /cloud-admin/v1. It lives in core/ because a
 * producer stage (cloud/) and a consumer stage (collectors/) share it. Experimental.
 */

/** `GET /cloud-admin/v1/hosts`: one compute host. */
export interface HostSummary {
  name: string;
  availability_zone: string;
  /** nova-compute's service state and status (`up`/`down`, `enabled`/`disabled`). */
  state: string;
  status: string;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  running_instances: number;
  booted_at: string;
}

/** One block device of a guest (Ceilometer's libvirt inspector field names). */
export interface DiskReading {
  device: string;
  read_bytes: number;
  read_requests: number;
  write_bytes: number;
  write_requests: number;
  errors: number;
  /** Cumulative ns spent on reads and writes. */
  rd_total_times: number;
  wr_total_times: number;
  /** Bytes: the virtual size, what the image file holds, and what it takes on the host. */
  capacity: number;
  allocation: number;
  physical: number;
}

/** One virtual NIC of a guest. */
export interface InterfaceReading {
  /** The tap device (`tap` + the port id's first 11 characters). */
  name: string;
  mac: string;
  /** A filter reference naming the vNIC resource, when the hypervisor has one (libvirt: never). */
  fref: string | null;
  rx_bytes: number;
  tx_bytes: number;
  rx_packets: number;
  tx_packets: number;
  rx_drop: number;
  tx_drop: number;
  rx_errors: number;
  tx_errors: number;
}

/** One running guest, as `GET /cloud-admin/v1/hosts/{host}/instances` lists it. */
export interface InstanceInspection {
  instance_id: string;
  /**
   * libvirt's domain name (Nova's `OS-EXT-SRV-ATTR:instance_name`). The admin API does not
   * send it yet; the pollster then derives it as our Nova names domains.
   */
  instance_name?: string;
  /** The server's display name. */
  name: string;
  project_id: string;
  user_id: string;
  host: string;
  flavor: { id: string; name: string; vcpus: number; ram: number; disk: number; ephemeral: number };
  power_state: number;
  launched_at: string;
  started_at: string;
  /** `time`: cumulative ns since `started_at`; `util`: busy share now (%). */
  cpu: { number: number; time: number; util: number };
  /** MB; swap_in/swap_out are cumulative. */
  memory: { available: number; usage: number; resident: number; swap_in: number; swap_out: number };
  disks: DiskReading[];
  interfaces: InterfaceReading[];
}

export interface HostInspection {
  host: string;
  timestamp: string;
  instances: InstanceInspection[];
}

/** One metric of nova-compute's CPU monitor; percentages are 0-100 (MonitorMetric's own scale). */
export interface MonitorMetric {
  name: string;
  value: number;
  timestamp: string;
  source: string;
}

/** `GET /cloud-admin/v1/hosts/{host}/stats`. */
export interface HostStats {
  host: string;
  timestamp: string;
  booted_at: string;
  hardware: {
    running_instances: number;
    cpu: {
      count: number;
      util: number;
      instances_util: number;
      overhead_util: number;
      load: { '1min': number; '5min': number; '15min': number };
    };
    memory: { total_mb: number; used_mb: number; free_mb: number; instances_mb: number; overhead_mb: number; swap_used_mb: number };
  };
  compute_node: { nodename: string; metrics: MonitorMetric[] };
}
