import type { BoundQuery } from '../driver.ts';

/**
 * Queries for capacity planning (api/capacity/data.ts): the Placement pollster's readings
 * (`placement.*` gauges on `resource_provider` resources), their hourly history, and the
 * per-project and per-flavor figures of instances. Every series is computed from the raw
 * `measures`, which are kept at least 400 days whatever a metric's archive policy (migration
 * 2): the forecasts then have a year of history even where the policy's own rollups are
 * shorter. Times are whole seconds since the epoch. Experimental.
 */

/** The resource type the Placement pollster's samples are indexed under. */
export const RESOURCE_PROVIDER_TYPE = 'resource_provider';

const MILLIS = "DateTime64(3, 'UTC')";

/** One meter's latest value on one provider, within [since, until]. */
export interface ProviderReadingRow {
  provider_id: string;
  name: string;
  value: number;
  /** When the value was read (ms since the epoch). */
  at_ms: number;
}

/**
 * The latest measure of each `placement.*` meter on each provider, among those read in
 * [since, until]: a provider not polled since `since` (retired, or its pollster stopped)
 * is left out rather than counted with stale capacity.
 */
export function selectLatestProviderReadings(input: { names: readonly string[]; since: Date; until: Date }): BoundQuery {
  return {
    sql: `SELECT m.resource_id AS provider_id, m.name AS name, argMax(x.value, x.ts) AS value, toUnixTimestamp64Milli(max(x.ts)) AS at_ms
      FROM measures AS x
      INNER JOIN (SELECT DISTINCT id, resource_id, name FROM metrics WHERE name IN {names:Array(String)}) AS m ON x.metric_id = m.id
      WHERE x.ts >= {since:${MILLIS}} AND x.ts <= {until:${MILLIS}}
      GROUP BY provider_id, name
      ORDER BY provider_id, name`,
    params: { names: [...input.names], since: input.since, until: input.until },
  };
}

/** A provider's indexed attributes (JSON text: name, availability_zone, aggregates). */
export interface ProviderAttributesRow {
  id: string;
  attributes: string;
}

export function selectProviderAttributes(input: { ids: readonly string[] }): BoundQuery {
  return {
    sql: `SELECT id, attributes FROM resources FINAL WHERE type = {type:String} AND id IN {ids:Array(String)} ORDER BY id`,
    params: { type: RESOURCE_PROVIDER_TYPE, ids: [...input.ids] },
  };
}

/** One bucket of a summed series. */
export interface SeriesBucketRow {
  bucket_s: number;
  value: number;
  /** Resources (providers, instances) that had a measure in the bucket. */
  members: number;
}

/**
 * `sum over resources of (mean of the meter's measures in the bucket)`, per bucket of
 * `stepSeconds` in [from, to): e.g. VCPU allocated cloud-wide per hour. The mean first, so
 * a provider polled twelve times an hour counts once; `members` says how many resources
 * the bucket saw (a bucket where a provider was not polled sums fewer of them). Only the
 * given resources when `resourceIds` is set (an availability zone, an aggregate, a host).
 */
export function selectSummedSeries(input: { name: string; from: Date; to: Date; stepSeconds: number; resourceIds: readonly string[] | null }): BoundQuery {
  const only = input.resourceIds === null ? '' : ' AND resource_id IN {ids:Array(String)}';
  return {
    sql: `SELECT bucket_s, sum(v) AS value, toUInt32(count()) AS members FROM (
        SELECT m.resource_id AS rid, toUInt32(intDiv(toUnixTimestamp(x.ts), {step:UInt32}) * {step:UInt32}) AS bucket_s, avg(x.value) AS v
        FROM measures AS x
        INNER JOIN (SELECT DISTINCT id, resource_id FROM metrics WHERE name = {name:String}${only}) AS m ON x.metric_id = m.id
        WHERE x.ts >= {from:${MILLIS}} AND x.ts < {to:${MILLIS}}
        GROUP BY rid, bucket_s
      ) GROUP BY bucket_s ORDER BY bucket_s`,
    params: { name: input.name, from: input.from, to: input.to, step: input.stepSeconds, ...(input.resourceIds === null ? {} : { ids: [...input.resourceIds] }) },
  };
}

export interface ProjectBucketRow {
  project_id: string;
  bucket_s: number;
  value: number;
}

/**
 * Per project and bucket: the sum over its instances of the bucket's mean of an instance
 * gauge (`vcpus`, `memory`): what each project holds, hour by hour, for growth rates.
 * Instances only report while they exist, so a deleted one stops counting.
 */
export function selectProjectSeries(input: { name: string; from: Date; to: Date; stepSeconds: number }): BoundQuery {
  return {
    sql: `SELECT project_id, bucket_s, sum(v) AS value FROM (
        SELECT m.project_id AS project_id, m.resource_id AS rid, toUInt32(intDiv(toUnixTimestamp(x.ts), {step:UInt32}) * {step:UInt32}) AS bucket_s, avg(x.value) AS v
        FROM measures AS x
        INNER JOIN (SELECT DISTINCT id, resource_id, project_id FROM metrics WHERE name = {name:String} AND project_id != '') AS m ON x.metric_id = m.id
        WHERE x.ts >= {from:${MILLIS}} AND x.ts < {to:${MILLIS}}
        GROUP BY project_id, rid, bucket_s
      ) GROUP BY project_id, bucket_s ORDER BY project_id, bucket_s`,
    params: { name: input.name, from: input.from, to: input.to, step: input.stepSeconds },
  };
}

export interface FlavorSizeRow {
  flavor: string;
  name: string;
  value: number;
}

/**
 * The sizes of the flavors instances run with, as the metering data knows them: per
 * `flavor_name` of live instance resources, the largest latest value of each size meter
 * (`vcpus`, `memory`, `disk.root.size`, `disk.ephemeral.size`) read since `since`.
 */
export function selectObservedFlavorSizes(input: { names: readonly string[]; since: Date }): BoundQuery {
  return {
    sql: `SELECT JSONExtractString(r.attributes, 'flavor_name') AS flavor, m.name AS name, max(x.v) AS value
      FROM (
        SELECT metric_id, argMax(value, ts) AS v FROM measures
        WHERE metric_id IN (SELECT id FROM metrics WHERE name IN {names:Array(String)}) AND ts >= {since:${MILLIS}}
        GROUP BY metric_id
      ) AS x
      INNER JOIN (SELECT DISTINCT id, resource_id, name FROM metrics WHERE name IN {names:Array(String)}) AS m ON x.metric_id = m.id
      INNER JOIN (SELECT id, attributes FROM resources FINAL WHERE type = 'instance' AND ended_at IS NULL) AS r ON r.id = m.resource_id
      WHERE flavor != ''
      GROUP BY flavor, name
      ORDER BY flavor, name`,
    params: { names: [...input.names], since: input.since },
  };
}

export interface HostMeasureRow {
  host: string;
  value: number;
}

/**
 * Measured use from the compute pollster: per compute host (the `host_name` of its
 * `nova_compute` resource), the mean of a node meter (`compute.node.cpu.percent`) over
 * [since, until]. What the guests really burn, beside what Placement has promised them.
 */
export function selectHostNodeMeans(input: { name: string; since: Date; until: Date }): BoundQuery {
  return {
    sql: `SELECT JSONExtractString(r.attributes, 'host_name') AS host, avg(x.value) AS value
      FROM measures AS x
      INNER JOIN (SELECT DISTINCT id, resource_id FROM metrics WHERE name = {name:String}) AS m ON x.metric_id = m.id
      INNER JOIN (SELECT id, attributes FROM resources FINAL WHERE type = 'nova_compute') AS r ON r.id = m.resource_id
      WHERE x.ts >= {since:${MILLIS}} AND x.ts <= {until:${MILLIS}} AND host != ''
      GROUP BY host
      ORDER BY host`,
    params: { name: input.name, since: input.since, until: input.until },
  };
}
