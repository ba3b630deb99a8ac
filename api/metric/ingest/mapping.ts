/**
 * Which resource and metric each pushed value lands on, as Gnocchi maps them
 * (gnocchi/rest/influxdb.py, gnocchi/rest/api.py PrometheusWriteController). Pure. Stable.
 *
 * InfluxDB: one resource per value of the resource tag (`host` unless the request's
 * `X-Gnocchi-InfluxDB-Tag-Resource-ID` names another), of the resource type named by the
 * database; one metric per measurement, field and remaining tags:
 * `<measurement>.<field>@<tag>=<value>,...` (tags sorted; no `@` part without tags).
 * String fields are skipped, as Gnocchi does; booleans are stored as 1 and 0 (Gnocchi
 * refuses the line).
 *
 * Prometheus: one resource per (job, instance), `<job>@<instance>` ("none" for a missing
 * label), of type `prometheus` with `job` and `instance` attributes; one metric per
 * series. Gnocchi names the metric by `__name__` alone, so series that differ by another
 * label (`cpu="0"` and `cpu="1"`) overwrite each other there; Cumulus appends the other
 * labels as the InfluxDB mapping does (`node_cpu_seconds_total@cpu=0,mode=idle`), which
 * leaves the name of a series without other labels exactly Gnocchi's. NaN samples (the
 * staleness markers) and infinities are skipped.
 *
 * In both, `/` becomes `_` in metric names, as Gnocchi does.
 */
import type { MeasureInput } from '../../../storage/index.ts';
import type { LinePoint } from './line-protocol.ts';
import type { RemoteSeries } from './remote-write.ts';

export const DEFAULT_TAG_RESOURCE_ID = 'host';
export const PROMETHEUS_RESOURCE_TYPE = 'prometheus';
/** Gnocchi's limits: a resource id longer than this (not a UUID) cannot be turned into one; metric names are a VARCHAR(255). */
export const MAX_RESOURCE_NAME_LENGTH = 255;
export const MAX_METRIC_NAME_LENGTH = 255;

/** What one resource receives: its name (the id written to the index), attributes, and measures per metric name. */
export interface ResourceMeasures {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly metrics: Map<string, MeasureInput[]>;
}

/** A value that cannot be mapped; `detail` is the Gnocchi error's `detail` (the field at fault). */
export class MappingError extends Error {
  constructor(
    readonly detail: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'MappingError';
  }
}

const sortedPairs = (labels: Readonly<Record<string, string>>, skip: ReadonlySet<string>): string =>
  Object.keys(labels)
    .filter((k) => !skip.has(k))
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');

/** A metric name with its labels, `/` replaced, and Gnocchi's length limit checked. */
function metricName(base: string, labels: string, where: string): string {
  const name = `${base}${labels === '' ? '' : `@${labels}`}`.replace(/\//g, '_');
  if (name.length > MAX_METRIC_NAME_LENGTH) throw new MappingError('name', `The metric name of ${where} has ${name.length} characters; expected at most ${MAX_METRIC_NAME_LENGTH}: ${name.slice(0, 60)}...`);
  return name;
}

function checkResourceName(name: string, where: string): void {
  if (name.includes('/')) throw new MappingError('resource_id', `'/' is not supported in resource id (${where}: ${JSON.stringify(name)})`);
  if (name.length > MAX_RESOURCE_NAME_LENGTH) throw new MappingError('resource_id', `The resource id of ${where} has ${name.length} characters; expected at most ${MAX_RESOURCE_NAME_LENGTH}`);
}

function resourceEntry(out: Map<string, ResourceMeasures>, name: string, attributes: Readonly<Record<string, string>>): ResourceMeasures {
  let entry = out.get(name);
  if (!entry) {
    entry = { name, attributes, metrics: new Map() };
    out.set(name, entry);
  }
  return entry;
}

function add(entry: ResourceMeasures, metric: string, measure: MeasureInput): void {
  const list = entry.metrics.get(metric);
  if (list) list.push(measure);
  else entry.metrics.set(metric, [measure]);
}

/** Nanoseconds since the epoch as a Date (milliseconds kept: the finest our measures store). */
const fromNs = (ns: bigint): Date => new Date(Number(ns / 1_000_000n));

/** The resources and measures of InfluxDB points; `now` stamps the points without a timestamp. */
export function mapInfluxPoints(points: readonly LinePoint[], options: { tagResourceId?: string; now: Date }): ResourceMeasures[] {
  const tag = options.tagResourceId ?? DEFAULT_TAG_RESOURCE_ID;
  const out = new Map<string, ResourceMeasures>();
  for (const p of points) {
    const resource = p.tags[tag];
    if (resource === undefined) throw new MappingError('key', `Unable to find key \`${tag}' in tags (line ${p.line})`);
    checkResourceName(resource, `line ${p.line}`);
    const labels = sortedPairs(p.tags, new Set([tag]));
    const timestamp = p.timestampNs === null ? options.now : fromNs(p.timestampNs);
    for (const [field, value] of Object.entries(p.fields)) {
      if (value.kind === 'string') continue;
      const number = value.kind === 'boolean' ? (value.value ? 1 : 0) : value.value;
      add(resourceEntry(out, resource, {}), metricName(`${p.measurement}.${field}`, labels, `line ${p.line}`), { timestamp, value: number });
    }
  }
  return [...out.values()];
}

/** The resources and measures of remote-write series. */
export function mapPrometheusSeries(series: readonly RemoteSeries[]): ResourceMeasures[] {
  const out = new Map<string, ResourceMeasures>();
  const own = new Set(['__name__', 'job', 'instance']);
  series.forEach((s, i) => {
    const name = s.labels.__name__;
    if (name === undefined || name === '') throw new MappingError(`timeseries[${i}].labels`, `timeseries[${i}] has no __name__ label: every series needs its metric name`);
    const job = s.labels.job || 'none';
    const instance = s.labels.instance || 'none';
    const resource = `${job}@${instance}`;
    checkResourceName(resource, `timeseries[${i}]`);
    const metric = metricName(name, sortedPairs(s.labels, own), `timeseries[${i}]`);
    const samples = s.samples.filter((sample) => Number.isFinite(sample.value));
    // Like Gnocchi, a series with nothing to store creates nothing.
    if (samples.length === 0) return;
    const entry = resourceEntry(out, resource, { job, instance });
    for (const sample of samples) add(entry, metric, { timestamp: new Date(sample.timestampMs), value: sample.value });
  });
  return [...out.values()];
}
