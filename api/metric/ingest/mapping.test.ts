import { describe, expect, it } from 'vitest';
import { parseLineProtocol } from './line-protocol.ts';
import { MappingError, mapInfluxPoints, mapPrometheusSeries, type ResourceMeasures } from './mapping.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const view = (resources: ResourceMeasures[]) =>
  resources.map((r) => ({ name: r.name, attributes: r.attributes, metrics: Object.fromEntries([...r.metrics].map(([k, v]) => [k, v.map((m) => [m.timestamp.toISOString(), m.value])])) }));

/** A MappingError with these fields. */
const refused = (fields: Partial<MappingError>) => expect.objectContaining({ name: 'MappingError', ...fields }) as unknown as Error;

describe('mapInfluxPoints (Gnocchi influxdb.py)', () => {
  it('names metrics <measurement>.<field>@<sorted other tags>, one resource per host', () => {
    const points = parseLineProtocol(
      [
        'mymetric,host=foobar,mytag=myvalue field=123 1510581804179554816',
        'cpu,path=/foobar,host=foobar,b=2,a=1 idle=97.5,busy=2i,up=true,note="x" 1510581805000000000',
        'mem,host=other used=1u',
      ].join('\n'),
    );
    expect(view(mapInfluxPoints(points, { now: NOW }))).toEqual([
      {
        name: 'foobar',
        attributes: {},
        metrics: {
          'mymetric.field@mytag=myvalue': [['2017-11-13T14:03:24.179Z', 123]],
          'cpu.idle@a=1,b=2,path=_foobar': [['2017-11-13T14:03:25.000Z', 97.5]],
          'cpu.busy@a=1,b=2,path=_foobar': [['2017-11-13T14:03:25.000Z', 2]],
          'cpu.up@a=1,b=2,path=_foobar': [['2017-11-13T14:03:25.000Z', 1]],
        },
      },
      { name: 'other', attributes: {}, metrics: { 'mem.used': [[NOW.toISOString(), 1]] } },
    ]);
  });

  it('takes the resource from another tag when told, and refuses a point without it', () => {
    const points = parseLineProtocol('mymetric,host=foobar,mytag=myvalue field=123 1510581804179554816');
    expect(view(mapInfluxPoints(points, { tagResourceId: 'mytag', now: NOW }))[0]).toMatchObject({ name: 'myvalue', metrics: { 'mymetric.field@host=foobar': [['2017-11-13T14:03:24.179Z', 123]] } });
    expect(() => mapInfluxPoints(parseLineProtocol('a,host=h v=1\nb,region=x v=1'), { now: NOW })).toThrow(refused({ detail: 'key', reason: "Unable to find key `host' in tags (line 2)" }));
  });

  it("creates nothing for string-only points, and refuses '/' in resource ids and over-long names", () => {
    expect(mapInfluxPoints(parseLineProtocol('log,host=h msg="only text"'), { now: NOW })).toEqual([]);
    expect(() => mapInfluxPoints(parseLineProtocol('m,host=a/b v=1'), { now: NOW })).toThrow(refused({ detail: 'resource_id' }));
    expect(() => mapInfluxPoints(parseLineProtocol(`m,host=${'h'.repeat(256)} v=1`), { now: NOW })).toThrow(refused({ detail: 'resource_id' }));
    expect(() => mapInfluxPoints(parseLineProtocol(`m,host=h ${'f'.repeat(300)}=1`), { now: NOW })).toThrow(refused({ detail: 'name' }));
  });
});

describe('mapPrometheusSeries', () => {
  it('makes one <job>@<instance> resource, names series by __name__ and their other labels, and skips NaN', () => {
    const resources = mapPrometheusSeries([
      { labels: { __name__: 'scrape_samples_scraped', job: 'prometheus', instance: 'localhost:9090' }, samples: [{ value: 558, timestampMs: 1506146578352 }] },
      { labels: { __name__: 'node_cpu_seconds_total', job: 'prometheus', instance: 'localhost:9090', mode: 'idle', cpu: '0' }, samples: [{ value: 10, timestampMs: 1506146578352 }, { value: Number.NaN, timestampMs: 1506146593352 }] },
      { labels: { __name__: 'http_requests_total', handler: '/api/v1' }, samples: [{ value: 3, timestampMs: 1506146578000 }] },
      { labels: { __name__: 'stale', job: 'x' }, samples: [{ value: Number.NaN, timestampMs: 1 }, { value: Number.POSITIVE_INFINITY, timestampMs: 2 }] },
    ]);
    expect(view(resources)).toEqual([
      {
        name: 'prometheus@localhost:9090',
        attributes: { job: 'prometheus', instance: 'localhost:9090' },
        metrics: {
          scrape_samples_scraped: [['2017-09-23T06:02:58.352Z', 558]],
          'node_cpu_seconds_total@cpu=0,mode=idle': [['2017-09-23T06:02:58.352Z', 10]],
        },
      },
      { name: 'none@none', attributes: { job: 'none', instance: 'none' }, metrics: { 'http_requests_total@handler=_api_v1': [['2017-09-23T06:02:58.000Z', 3]] } },
    ]);
  });

  it('refuses a series without __name__, naming it', () => {
    expect(() => mapPrometheusSeries([{ labels: { __name__: 'ok' }, samples: [] }, { labels: { job: 'j' }, samples: [{ value: 1, timestampMs: 1 }] }])).toThrow(refused({ detail: 'timeseries[1].labels' }));
    expect(() => mapPrometheusSeries([{ labels: { __name__: 'm', instance: 'http://x/y' }, samples: [{ value: 1, timestampMs: 1 }] }])).toThrow(refused({ detail: 'resource_id' }));
  });
});
