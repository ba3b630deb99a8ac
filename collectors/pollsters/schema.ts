/**
 * The admin API's answers as the HTTP source checks them: what comes over the network is
 * checked before it becomes samples, so a changed or broken answer is refused with its
 * path instead of turning into NaN volumes. Unknown fields are ignored (the API may grow).
 */
import { z } from 'zod';
import type { HostInspection, HostStats, HostSummary } from './source.ts';

// Counters are plain numbers, not safe integers: a host's CPU nanoseconds pass 2^53 within weeks.
const amount = z.number();
const name = z.string().min(1);

const hostSummary = z.object({
  name,
  availability_zone: z.string(),
  state: z.string(),
  status: z.string(),
  vcpus: amount,
  memory_mb: amount,
  local_gb: amount,
  running_instances: amount,
  booted_at: z.string(),
});

const disk = z.object({
  device: name,
  read_bytes: amount,
  read_requests: amount,
  write_bytes: amount,
  write_requests: amount,
  errors: amount,
  rd_total_times: amount,
  wr_total_times: amount,
  capacity: amount,
  allocation: amount,
  physical: amount,
});

const networkInterface = z.object({
  name,
  mac: z.string(),
  fref: z.string().min(1).nullable(),
  rx_bytes: amount,
  tx_bytes: amount,
  rx_packets: amount,
  tx_packets: amount,
  rx_drop: amount,
  tx_drop: amount,
  rx_errors: amount,
  tx_errors: amount,
});

const instance = z.object({
  instance_id: name,
  instance_name: name.optional(),
  name: z.string(),
  project_id: z.string(),
  user_id: z.string(),
  host: name,
  flavor: z.object({ id: z.string(), name: z.string(), vcpus: amount, ram: amount, disk: amount, ephemeral: amount }),
  power_state: amount,
  launched_at: z.string(),
  started_at: z.string(),
  cpu: z.object({ number: amount, time: amount, util: amount }),
  memory: z.object({ available: amount, usage: amount, resident: amount, swap_in: amount, swap_out: amount }),
  disks: z.array(disk),
  interfaces: z.array(networkInterface),
});

export const hostsAnswer: z.ZodType<{ hosts: HostSummary[] }> = z.object({ hosts: z.array(hostSummary) });

export const instancesAnswer: z.ZodType<HostInspection> = z.object({ host: name, timestamp: z.string(), instances: z.array(instance) });

export const statsAnswer: z.ZodType<HostStats> = z.object({
  host: name,
  timestamp: z.string(),
  booted_at: z.string(),
  hardware: z.object({
    running_instances: amount,
    cpu: z.object({
      count: amount,
      util: amount,
      instances_util: amount,
      overhead_util: amount,
      load: z.object({ '1min': amount, '5min': amount, '15min': amount }),
    }),
    memory: z.object({ total_mb: amount, used_mb: amount, free_mb: amount, instances_mb: amount, overhead_mb: amount, swap_used_mb: amount }),
  }),
  compute_node: z.object({ nodename: name, metrics: z.array(z.object({ name, value: amount, timestamp: z.string(), source: z.string() })) }),
});

/** Keystone's token body: only what the token cache needs. */
export const tokenAnswer = z.object({ token: z.object({ expires_at: z.string(), issued_at: z.string() }) });
