import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { compressSync } from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiTenants, type ApiTenants, type Caller } from './support/api-tenants.ts';

/**
 * The InfluxDB and Prometheus ways in (/metric/v1/influxdb, /metric/v1/prometheus): what a
 * push creates, and the exact measures read back through Gnocchi's measures API at the
 * finest granularity, computed here from the values sent.
 */

let tenants: ApiTenants;
const SUFFIX = Date.now().toString(36);
const DB = `telegraf_${SUFFIX}`;
const PREFIX = `itest${SUFFIX}`;
// Whole seconds a few minutes ago: inside the policy's retention, before "now".
const T0 = Math.floor(Date.now() / 1000) - 600;

type Point = [string, number, number];

/** mean and count per 1 s bucket, from [unix ms, value] pairs. */
function expectedPoints(values: Array<[number, number]>): { mean: Point[]; count: Point[] } {
  const buckets = new Map<number, number[]>();
  for (const [ms, v] of values) {
    const s = Math.floor(ms / 1000);
    buckets.set(s, [...(buckets.get(s) ?? []), v]);
  }
  const seconds = [...buckets.keys()].sort((a, b) => a - b);
  const at = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', '+00:00');
  return {
    mean: seconds.map((s) => [at(s), 1, (buckets.get(s) as number[]).reduce((a, b) => a + b, 0) / (buckets.get(s) as number[]).length]),
    count: seconds.map((s) => [at(s), 1, (buckets.get(s) as number[]).length]),
  };
}

async function metricByName(caller: Caller, name: string): Promise<{ id: string; archive_policy_name?: string; archive_policy?: { name: string } } | undefined> {
  const res = await caller.get(`/metric/v1/metric?name=${encodeURIComponent(name)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as Array<{ id: string }>)[0];
}

async function measures(caller: Caller, id: string, aggregation: string): Promise<Point[]> {
  const res = await caller.get(`/metric/v1/metric/${id}/measures?aggregation=${aggregation}&granularity=1`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Point[];
}

async function expectMeasures(name: string, values: Array<[number, number]>): Promise<string> {
  const metric = await metricByName(tenants.admin, name);
  expect(metric, `metric ${name}`).toBeDefined();
  const want = expectedPoints(values);
  expect(await measures(tenants.admin, metric!.id, 'mean')).toEqual(want.mean);
  expect(await measures(tenants.admin, metric!.id, 'count')).toEqual(want.count);
  return metric!.id;
}

const write = (caller: Caller, query: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
  caller.request('POST', `/metric/v1/influxdb/write?${query}`, body, { 'content-type': 'text/plain', ...headers });

async function gnocchiError(res: Response): Promise<{ status: number; description: { cause?: string; detail?: string; reason?: string } | string }> {
  const body = (await res.json()) as { description: { cause?: string; detail?: string; reason?: string } | string };
  return { status: res.status, description: body.description };
}

beforeAll(async () => {
  tenants = await startApiTenants();
  const policy = await tenants.admin.post('/metric/v1/archive_policy', {
    name: `itest-1s-${SUFFIX}`,
    back_window: 0,
    aggregation_methods: ['mean', 'count', 'max'],
    definition: [{ granularity: '1 second', points: 86_400 }],
  });
  expect(policy.status, await policy.clone().text()).toBe(201);
  const rule = await tenants.admin.post('/metric/v1/archive_policy_rule', { name: `itest-rule-${SUFFIX}`, metric_pattern: `${PREFIX}*`, archive_policy_name: `itest-1s-${SUFFIX}` });
  expect(rule.status, await rule.clone().text()).toBe(201);
}, 60_000);
afterAll(async () => tenants?.stop());

describe('InfluxDB line protocol (POST /metric/v1/influxdb/write)', () => {
  it('pings, and creates the database as a resource type; other queries are not implemented', async () => {
    const ping = await tenants.admin.get('/metric/v1/influxdb/ping');
    expect(ping.status).toBe(204);
    expect(ping.headers.get('x-influxdb-version')).toBeTruthy();
    expect((await tenants.admin.request('POST', `/metric/v1/influxdb/query?q=${encodeURIComponent(`create database ${DB}`)}`)).status).toBe(204);
    // Again (Telegraf does it at every start): still 204; quoted names too.
    expect((await tenants.admin.request('POST', `/metric/v1/influxdb/query?q=${encodeURIComponent(`CREATE DATABASE "${DB}"`)}`)).status).toBe(204);
    const type = await tenants.admin.get(`/metric/v1/resource_type/${DB}`);
    expect(type.status).toBe(200);
    expect(await type.json()).toMatchObject({ name: DB, state: 'active', attributes: {} });
    const unknown = await gnocchiError(await tenants.admin.request('POST', '/metric/v1/influxdb/query?q=select+metrics+plz'));
    expect(unknown).toEqual({ status: 501, description: { cause: 'Not implemented error', detail: 'q', reason: 'Query not implemented' } });
  });

  it('maps each field to a metric of the host resource and stores the exact measures', async () => {
    const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
    const t = T0 * 1000;
    const body = [
      `${PREFIX}_cpu,host=controller-1,cpu=cpu0 usage_idle=97.5,usage_user=2i,up=true,note="ok" ${ns(t)}`,
      `${PREFIX}_cpu,cpu=cpu0,host=controller-1 usage_idle=95.25,usage_user=4i,up=false ${ns(t + 400)}`,
      '# a comment, then a blank line',
      '',
      `${PREFIX}_cpu,host=controller-1,cpu=cpu0 usage_idle=90,usage_user=10i,up=true ${ns(t + 2000)}`,
      `${PREFIX}_disk,host=controller-2,path=/var/lib free=1.5e9 ${ns(t + 1000)}`,
    ].join('\n');
    const res = await write(tenants.admin, `db=${DB}`, body);
    expect(res.status, await res.clone().text()).toBe(204);

    await expectMeasures(`${PREFIX}_cpu.usage_idle@cpu=cpu0`, [
      [t, 97.5],
      [t + 400, 95.25],
      [t + 2000, 90],
    ]);
    await expectMeasures(`${PREFIX}_cpu.usage_user@cpu=cpu0`, [
      [t, 2],
      [t + 400, 4],
      [t + 2000, 10],
    ]);
    await expectMeasures(`${PREFIX}_cpu.up@cpu=cpu0`, [
      [t, 1],
      [t + 400, 0],
      [t + 2000, 1],
    ]);
    // '/' becomes '_' in metric names; string fields make no metric.
    await expectMeasures(`${PREFIX}_disk.free@path=_var_lib`, [[t + 1000, 1.5e9]]);
    expect(await metricByName(tenants.admin, `${PREFIX}_cpu.note@cpu=cpu0`)).toBeUndefined();
    const metric = await metricByName(tenants.admin, `${PREFIX}_cpu.usage_idle@cpu=cpu0`);
    const shown = await (await tenants.admin.get(`/metric/v1/metric/${metric!.id}`)).json();
    expect(JSON.stringify(shown)).toContain(`itest-1s-${SUFFIX}`);
    // The resource, of the database's type.
    const resource = await tenants.admin.get(`/metric/v1/resource/${DB}/controller-1`);
    expect(resource.status).toBe(200);
    expect(await resource.json()).toMatchObject({ type: DB });
  });

  it('honours precision, gzip, the resource tag header, and stamps points without a timestamp', async () => {
    const t = (T0 + 10) * 1000;
    const gz = gzipSync(Buffer.from(`${PREFIX}_load,host=controller-3,rack=r1 load1=0.5 ${t / 1000}\n${PREFIX}_load,host=controller-3,rack=r1 load1=1.5 ${t / 1000 + 1}\n`));
    expect((await write(tenants.admin, `db=${DB}&precision=s`, gz, { 'content-encoding': 'gzip' })).status).toBe(204);
    await expectMeasures(`${PREFIX}_load.load1@rack=r1`, [
      [t, 0.5],
      [t + 1000, 1.5],
    ]);
    expect((await write(tenants.admin, `db=${DB}&precision=ms`, `${PREFIX}_temp,host=h1,sensor=s-9 celsius=41 ${t}`, { 'x-gnocchi-influxdb-tag-resource-id': 'sensor' })).status).toBe(204);
    // Bytes with no content type at all are line protocol too.
    expect((await tenants.admin.request('POST', `/metric/v1/influxdb/write?db=${DB}&precision=ms`, Buffer.from(`${PREFIX}_temp,host=h1,sensor=s-9 celsius=43 ${t + 100}`), { 'x-gnocchi-influxdb-tag-resource-id': 'sensor' })).status).toBe(204);
    await expectMeasures(`${PREFIX}_temp.celsius@host=h1`, [
      [t, 41],
      [t + 100, 43],
    ]);
    expect((await tenants.admin.get(`/metric/v1/resource/${DB}/s-9`)).status).toBe(200);

    const before = Date.now();
    expect((await write(tenants.admin, `db=${DB}`, `${PREFIX}_now,host=h2 v=7`)).status).toBe(204);
    const after = Date.now();
    const metric = await metricByName(tenants.admin, `${PREFIX}_now.v`);
    const points = await measures(tenants.admin, metric!.id, 'count');
    expect(points).toHaveLength(1);
    const stamped = Date.parse(points[0]![0]);
    expect(stamped).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(stamped).toBeLessThanOrEqual(after);
  });

  it('refuses bad bodies and parameters with a 400 naming line and column, or the field', async () => {
    const bad = await gnocchiError(await write(tenants.admin, `db=${DB}`, `${PREFIX}_x,host=a v=1\n${PREFIX}_x,host=a v=oops`));
    expect(bad.status).toBe(400);
    expect(bad.description).toMatchObject({ cause: 'Value error', detail: 'line', reason: expect.stringMatching(/^Unable to parse line 2, column \d+: expected a field value/) });
    const column = Number(/column (\d+)/.exec((bad.description as { reason: string }).reason)?.[1]);
    expect(column).toBe(`${PREFIX}_x,host=a v=`.length + 1);
    // Nothing of a refused body is written, not even its good first line.
    expect(await metricByName(tenants.admin, `${PREFIX}_x.v`)).toBeUndefined();
    expect(await gnocchiError(await write(tenants.admin, `db=${DB}`, `${PREFIX}_x,region=a v=1`))).toMatchObject({ status: 400, description: { detail: 'key', reason: expect.stringContaining("Unable to find key `host' in tags") } });
    expect(await gnocchiError(await write(tenants.admin, `db=${DB}`, Buffer.from([0x6d, 0x20, 0x76, 0x3d, 0xff, 0xfe])))).toMatchObject({ status: 400, description: { detail: 'body' } });
    expect(await gnocchiError(await write(tenants.admin, `db=${DB}`, Buffer.from('not gzip'), { 'content-encoding': 'gzip' }))).toMatchObject({ status: 400, description: { detail: 'body' } });
    const precision = await gnocchiError(await write(tenants.admin, `db=${DB}&precision=weeks`, 'm,host=a v=1'));
    expect(precision.status).toBe(400);
    expect(JSON.stringify(precision.description)).toMatch(/precision/);
    const unknownField = await gnocchiError(await write(tenants.admin, `db=${DB}&colour=red`, 'm,host=a v=1'));
    expect(unknownField.status).toBe(400);
    expect(JSON.stringify(unknownField.description)).toMatch(/colour/);
    const injected = await gnocchiError(await write(tenants.admin, `db=${encodeURIComponent("x' OR 1=1 --")}`, 'm,host=a v=1'));
    expect(injected.status).toBe(400);
    expect(JSON.stringify(injected.description)).toMatch(/db/);
    const noDb = await write(tenants.admin, `db=nodb_${SUFFIX}`, 'm,host=a v=1');
    expect(noDb.status).toBe(404);
  });

  it('keeps quotes, backslashes and SQL in tags and fields as data', async () => {
    const t = (T0 + 20) * 1000;
    const label = `o'brien\\ "x"; DROP TABLE measures; --`;
    const escaped = label.replace(/[\\, =]/g, (c) => `\\${c}`);
    const res = await write(tenants.admin, `db=${DB}&precision=ms`, `${PREFIX}_evil,host=db1,label=${escaped} v=3 ${t}`);
    expect(res.status, await res.clone().text()).toBe(204);
    await expectMeasures(`${PREFIX}_evil.v@label=${label}`, [[t, 3]]);
  });

  it('refuses members, whatever the payload', async () => {
    for (const member of [tenants.alpha, tenants.beta]) {
      expect((await write(member, `db=${DB}`, `${PREFIX}_member,host=mine v=1`)).status).toBe(403);
      expect((await member.request('POST', `/metric/v1/influxdb/query?q=${encodeURIComponent('create database member_db')}`)).status).toBe(403);
    }
    expect(await metricByName(tenants.admin, `${PREFIX}_member.v`)).toBeUndefined();
    // What an operator pushed is not a project member's to read.
    const metric = await metricByName(tenants.admin, `${PREFIX}_cpu.usage_idle@cpu=cpu0`);
    expect((await tenants.alpha.get(`/metric/v1/metric/${metric!.id}`)).status).toBe(404);
  });
});

describe('Prometheus remote write (POST /metric/v1/prometheus/write)', () => {
  // The WriteRequest as prometheus/prompb defines it, written here for the test.
  const WriteRequest = protobuf
    .parse(
      `syntax = "proto3";
       message WriteRequest { repeated TimeSeries timeseries = 1; }
       message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
       message Label { string name = 1; string value = 2; }
       message Sample { double value = 1; int64 timestamp = 2; }`,
    )
    .root.lookupType('WriteRequest');
  const payload = (timeseries: object[]) => compressSync(Buffer.from(WriteRequest.encode(WriteRequest.fromObject({ timeseries })).finish()));
  const post = (caller: Caller, body: Uint8Array) =>
    caller.request('POST', '/metric/v1/prometheus/write', body, { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' });
  const labels = (pairs: Record<string, string>) => Object.entries(pairs).map(([name, value]) => ({ name, value }));

  it('creates a prometheus resource per job and instance and one metric per series, with the exact measures', async () => {
    const t = (T0 + 30) * 1000;
    const body = payload([
      { labels: labels({ __name__: `${PREFIX}_up`, job: 'node', instance: 'controller-1:9100' }), samples: [{ value: 1, timestamp: t }, { value: 1, timestamp: t + 15_000 }] },
      {
        labels: labels({ __name__: `${PREFIX}_cpu_seconds_total`, job: 'node', instance: 'controller-1:9100', mode: 'idle', cpu: '0' }),
        samples: [
          { value: 100.25, timestamp: t },
          { value: 101.75, timestamp: t + 500 },
          { value: Number.NaN, timestamp: t + 1000 },
          { value: 103, timestamp: t + 2000 },
        ],
      },
      { labels: labels({ __name__: `${PREFIX}_cpu_seconds_total`, job: 'node', instance: 'controller-1:9100', mode: 'user', cpu: '0' }), samples: [{ value: 7, timestamp: t }] },
      { labels: labels({ __name__: `${PREFIX}_up`, job: 'node', instance: 'controller-2:9100' }), samples: [{ value: 0, timestamp: t }] },
    ]);
    const res = await post(tenants.admin, body);
    expect(res.status, await res.clone().text()).toBe(202);

    await expectMeasures(`${PREFIX}_cpu_seconds_total@cpu=0,mode=idle`, [
      [t, 100.25],
      [t + 500, 101.75],
      [t + 2000, 103],
    ]);
    await expectMeasures(`${PREFIX}_cpu_seconds_total@cpu=0,mode=user`, [[t, 7]]);
    const up = await metricByName(tenants.admin, `${PREFIX}_up`);
    expect(up).toBeDefined();
    const resource = await tenants.admin.get('/metric/v1/resource/prometheus/node@controller-1:9100');
    expect(resource.status).toBe(200);
    expect(await resource.json()).toMatchObject({ type: 'prometheus', job: 'node', instance: 'controller-1:9100' });
    const type = await tenants.admin.get('/metric/v1/resource_type/prometheus');
    expect(await type.json()).toMatchObject({ name: 'prometheus', attributes: { job: { type: 'string', required: true }, instance: { type: 'string', required: true } } });
  });

  it('adds to existing metrics on a later write', async () => {
    const t = (T0 + 60) * 1000;
    expect((await post(tenants.admin, payload([{ labels: labels({ __name__: `${PREFIX}_later`, job: 'node', instance: 'controller-1:9100' }), samples: [{ value: 2, timestamp: t }] }]))).status).toBe(202);
    expect((await post(tenants.admin, payload([{ labels: labels({ __name__: `${PREFIX}_later`, job: 'node', instance: 'controller-1:9100' }), samples: [{ value: 4, timestamp: t + 1000 }, { value: 6, timestamp: t + 1200 }] }]))).status).toBe(202);
    await expectMeasures(`${PREFIX}_later`, [
      [t, 2],
      [t + 1000, 4],
      [t + 1200, 6],
    ]);
  });

  it("answers Gnocchi's 409 when the resource id belongs to a resource of another type", async () => {
    const conflict = await gnocchiError(await write(tenants.admin, `db=${DB}`, `${PREFIX}_c,host=node@controller-1:9100 v=1`));
    expect(conflict.status).toBe(409);
    expect(conflict.description).toMatchObject({ cause: 'Resource already exists', detail: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(await metricByName(tenants.admin, `${PREFIX}_c.v`)).toBeUndefined();
  });

  it('refuses what is not a snappy WriteRequest, and series without a name', async () => {
    expect(await gnocchiError(await post(tenants.admin, Buffer.from(`${PREFIX}_x,host=a v=1`)))).toMatchObject({ status: 400, description: { cause: 'Value error', detail: 'body', reason: expect.stringMatching(/snappy/) } });
    expect(await gnocchiError(await post(tenants.admin, compressSync(Buffer.from([0x0a, 0xff, 0xff, 0x01]))))).toMatchObject({ status: 400, description: { detail: 'body', reason: expect.stringMatching(/WriteRequest/) } });
    const unnamed = payload([{ labels: labels({ job: 'node' }), samples: [{ value: 1, timestamp: T0 * 1000 }] }]);
    expect(await gnocchiError(await post(tenants.admin, unnamed))).toMatchObject({ status: 400, description: { detail: 'timeseries[0].labels' } });
  });

  it('refuses members', async () => {
    const body = payload([{ labels: labels({ __name__: `${PREFIX}_member`, job: 'j', instance: 'i' }), samples: [{ value: 1, timestamp: T0 * 1000 }] }]);
    for (const member of [tenants.alpha, tenants.beta]) expect((await post(member, body)).status).toBe(403);
    expect(await metricByName(tenants.admin, `${PREFIX}_member`)).toBeUndefined();
  });

  it('documents every ingest route in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${tenants.url}/docs/json`)).json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    for (const [path, method] of [
      ['/metric/v1/influxdb/write', 'post'],
      ['/metric/v1/influxdb/query', 'post'],
      ['/metric/v1/influxdb/ping', 'get'],
      ['/metric/v1/prometheus/write', 'post'],
    ] as const) {
      expect(doc.paths[path]?.[method]?.tags, path).toEqual(['ingest']);
    }
  });
});
