/** JSON Schemas of the admin API's routes: they validate the path, serialize the answers and document both. */

const integer = { type: 'integer' } as const;
const number = { type: 'number' } as const;
const string = { type: 'string' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;

const object = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties }) as const;

export const hostParams = object({ host: { type: 'string', minLength: 1, maxLength: 255 } });

const hostSummary = object({
  name: string,
  availability_zone: string,
  state: string,
  status: string,
  vcpus: integer,
  memory_mb: integer,
  local_gb: integer,
  running_instances: integer,
  booted_at: dateTime,
});

const disk = object({
  device: string,
  read_bytes: integer,
  read_requests: integer,
  write_bytes: integer,
  write_requests: integer,
  errors: integer,
  rd_total_times: integer,
  wr_total_times: integer,
  capacity: integer,
  allocation: integer,
  physical: integer,
});

const networkInterface = object({
  name: string,
  mac: string,
  fref: { type: 'null' },
  rx_bytes: integer,
  tx_bytes: integer,
  rx_packets: integer,
  tx_packets: integer,
  rx_drop: integer,
  tx_drop: integer,
  rx_errors: integer,
  tx_errors: integer,
});

const instance = object({
  instance_id: string,
  name: string,
  project_id: string,
  user_id: string,
  host: string,
  flavor: object({ id: string, name: string, vcpus: integer, ram: integer, disk: integer, ephemeral: integer }),
  power_state: integer,
  launched_at: dateTime,
  started_at: dateTime,
  cpu: object({ number: integer, time: integer, util: number }),
  memory: object({ available: integer, usage: integer, resident: integer, swap_in: integer, swap_out: integer }),
  disks: { type: 'array', items: disk },
  interfaces: { type: 'array', items: networkInterface },
});

export const hostsResponse = object({ hosts: { type: 'array', items: hostSummary } });

export const instancesResponse = object({ host: string, timestamp: dateTime, instances: { type: 'array', items: instance } });

export const statsResponse = object({
  host: string,
  timestamp: dateTime,
  booted_at: dateTime,
  hardware: object({
    running_instances: integer,
    cpu: object({ count: integer, util: number, instances_util: number, overhead_util: number, load: object({ '1min': number, '5min': number, '15min': number }) }),
    memory: object({ total_mb: integer, used_mb: integer, free_mb: integer, instances_mb: integer, overhead_mb: number, swap_used_mb: integer }),
  }),
  compute_node: object({ nodename: string, metrics: { type: 'array', items: object({ name: string, value: number, timestamp: dateTime, source: string }) } }),
});

export const errorResponse = object({ error: object({ code: string, status: integer, message: string }) });
