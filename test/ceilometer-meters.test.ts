import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startPlatform, type Platform } from '../cli/platform.ts';
import { DEFAULT_METERS_FILE, loadMeterDefinitions } from '../collectors/meters/definitions.ts';
import { compileJsonPath, matchPath, parseJsonPath } from '../collectors/meters/jsonpath/index.ts';
import { MeterMapper, type MeterMapperOptions } from '../collectors/meters/mapper.ts';
import { pyFloat } from '../collectors/meters/python.ts';
import { formatIsoTime, parseIsoTime } from '../collectors/meters/timestamps.ts';
import { MalformedNotificationError, openEnvelope } from '../collectors/notifications/envelope.ts';
import { loadConfig, silentLogger } from '../core/index.ts';
import {
  CEILOMETER_METERS_FILE,
  captureScenario,
  ceilometerAvailability,
  handBuiltCorpus,
  innerMessage,
  mapWithCeilometer,
  renderTree,
  runCeilometer,
  sampleFields,
  type PeerMapResult,
  type PeerSample,
  type SampleFields,
} from './support/ceilometer.ts';

/*
 * Cumulus' meter mapping against real Ceilometer 19 (python3-ceilometer, run with
 * /usr/bin/python3): the same notifications through both, the samples compared field by
 * field. Each difference allowed below is one listed in docs/collectors.md, "Where we
 * differ from Ceilometer", and is applied as a named transformation, never a loose match.
 */

const IN_CI = process.env.CI === 'true';
const peer = ceilometerAvailability();
if (!peer.available && !IN_CI) process.stdout.write(`\n[ceilometer-meters] skipped: /usr/bin/python3 cannot import Ceilometer (${peer.reason}); install python3-ceilometer\n`);

const SECRET = 'metering-secret-for-the-comparison';

/** What the pipeline's volume check leaves of a volume: the number Ceilometer's publishers send. */
const volumeNumber = (volume: unknown) => (typeof volume === 'string' ? pyFloat(volume) : typeof volume === 'boolean' ? Number(volume) : volume);

/** Difference 1: Cumulus writes every sample time in UTC (the same instant). */
const utc = (timestamp: string) => formatIsoTime(parseIsoTime(timestamp) as NonNullable<ReturnType<typeof parseIsoTime>>);

/** Difference 2: Cumulus drops the samples Ceilometer emits without a usable resource id, name, unit or type, or with an infinite volume. */
function cumulusKeeps(s: PeerSample): boolean {
  const usable = (v: unknown) => (typeof v === 'string' && v !== '') || typeof v === 'number' || typeof v === 'boolean';
  const volume = volumeNumber(s.volume);
  return usable(s.resource_id) && usable(s.name) && s.unit !== null && ['gauge', 'delta', 'cumulative'].includes(s.type as string) && typeof volume === 'number' && Number.isFinite(volume);
}

const theirs = (s: PeerSample): SampleFields => ({ ...s, volume: volumeNumber(s.volume), timestamp: utc(s.timestamp) });

/** Difference 3: the user and project fall back to the request context, as Ceilometer's code means to. */
function withContextFallback(s: SampleFields, body: string): SampleFields {
  const message = innerMessage(body);
  const first = (...keys: string[]) => keys.map((k) => message[`_context_${k}`]).find((v) => v !== null && v !== undefined) ?? null;
  return { ...s, user_id: s.user_id ?? first('user_id', 'user'), project_id: s.project_id ?? first('project_id', 'tenant_id') };
}

const CEILOMETER_IDENTITY_NAME = "$.payload.outcome - $.payload.outcome + 'identity.authenticate.' + $.payload.outcome";

/**
 * What Ceilometer's shipped definitions mean, where they fail to say it: differences 3
 * (context fallback), 4 (identity meter names) and 5 (volume attachments as real Cinder
 * writes them).
 */
function whatCeilometerMeans(s: SampleFields, body: string): SampleFields {
  const payload = innerMessage(body).payload;
  let out = withContextFallback(s, body);
  if (out.name === CEILOMETER_IDENTITY_NAME) out = { ...out, name: `identity.authenticate.${String(payload.outcome)}` };
  const attachment = (payload.volume_attachment as Array<Record<string, unknown>> | undefined)?.[0];
  const metadata = out.resource_metadata as Record<string, unknown>;
  if (out.name === 'volume.size' && metadata.instance_id === undefined && attachment?.instance_uuid) out = { ...out, resource_metadata: { ...metadata, instance_id: attachment.instance_uuid } };
  return out;
}

/** JSON with sorted keys, so that two samples compare as text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

interface Outcome {
  samples: string[];
  failed: boolean;
}

function mapOurs(mapper: MeterMapper, body: string): Outcome {
  try {
    return { samples: mapper.map(openEnvelope(Buffer.from(body))).map(sampleFields).map(canonical).sort(), failed: false };
  } catch (err) {
    if (err instanceof MalformedNotificationError) return { samples: [], failed: true };
    throw err;
  }
}

function expectedFrom(result: PeerMapResult, body: string, transform: (s: SampleFields, body: string) => SampleFields): Outcome {
  return { samples: result.samples.filter(cumulusKeeps).map(theirs).map((s) => canonical(transform(s, body))).sort(), failed: result.failed };
}

interface Corpus {
  titles: string[];
  bodies: string[];
}

/** Mismatches, one line per notification, so that a failure reads as a list. */
function compare(corpus: Corpus, got: (body: string) => Outcome, want: (index: number, body: string) => Outcome): string[] {
  const mismatches: string[] = [];
  corpus.bodies.forEach((body, i) => {
    const a = got(body);
    const b = want(i, body);
    if (a.failed === b.failed && JSON.stringify(a.samples) === JSON.stringify(b.samples)) return;
    const only = (x: string[], y: string[]) => x.filter((s) => !y.includes(s));
    mismatches.push(
      `${corpus.titles[i]} (${innerMessage(body).event_type}): Cumulus ${a.failed ? 'refused it' : `gave ${a.samples.length}`}, Ceilometer ${b.failed ? 'lost it' : `gave ${b.samples.length}`}` +
        `\n  only Cumulus:    ${only(a.samples, b.samples).join('\n                    ')}` +
        `\n  only Ceilometer: ${only(b.samples, a.samples).join('\n                    ')}`,
    );
  });
  return mismatches;
}

/** Every string a definition file hands to the jsonpath parser (Ceilometer parses every field). */
function jsonpathsOf(file: string): string[] {
  const doc = parseYaml(readFileSync(file, 'utf8'), { version: '1.1', merge: true }) as { metric: Array<Record<string, unknown>> };
  const out = new Set<string>();
  const add = (value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) value = (value as { fields?: unknown }).fields;
    if (typeof value === 'string') out.add(value);
    if (Array.isArray(value)) {
      if (value.length === 1) add(value[0]);
      else out.add(value.map((p) => `(${String(p)})`).join('|'));
    }
  };
  for (const meter of doc.metric) {
    for (const key of ['name', 'type', 'unit', 'volume', 'timestamp', 'user_id', 'project_id', 'resource_id', 'user_metadata']) add(meter[key]);
    for (const value of Object.values((meter.metadata as Record<string, unknown> | undefined) ?? {})) add(value);
  }
  return [...out];
}

/** Paths probing jsonpath-rw-ext's grammar where it surprises: precedence, brackets, filters, errors. */
const GRAMMAR_PROBES = [
  '$.a * 2 + 1', '$.a.b|c.d', '1 + 2 * 3', '2 * $.a', '2 * 3', '$.a + 1 . b', '$.x + $.a * 2 . c', '$.a - 1', '$.a + 1 + $.b',
  'a where b[0]', 'a|b[0].c', 'a,b.c', "['a','b']", '[1:2]', '[:2]', '[-1]', '$.a[*]', '$.*', '$..*', '$.a..b.c|d', '$.a .. b .. c',
  '$.a where b.c', '$.a|b where c', 'a where b|c', 'a & b.c', 'a.b & c', 'a.b & c.d | e', '$.a where b where c',
  '$.a[1:]', '$.a[:]', '$.a[0][1]', '$.a.[0]', "$['payload']['x']", '$.a,b', '$.a[b,c]', '$.a[0:2].b', '$.a..b[0]', '$.a + $.b[0]',
  '$.a[?b]', '$.a[?b & c]', '$.a[?b=1 & c=2]', '$.a[?(b=1)]', '$.a[?(b)]', '$.a[?(b).c]', '$.a[?(b=1) & c]', '$.a[?(b=1 & c=2)]', '$.a[?((b=1))]',
  "$.a[?@.b~'x.*']", "$.a[?b != 'x']", '$.a[?b <= 3]', '$.a[?b >= -3]', '$.a[?b < 1.5]', '$.a[?b = true]', '$.a[?b==1]', "$.a[?b='x y']", '$.a[?b=true & c=false]',
  '$.a[?`len` > 1]', '$.a[?@.b.`len` > 1]', '$.a.`sorted`', '$.a[/b]', '$.a[\\b, /c]', '$.a[\\b]', '$.a[/b/c]', '`this`', '`parent`', '$.a.`len`', '$.a.`len` + 1',
  '$.a.`split(-, 1, -1)`', '$.a.`sub(/x(.)/, \\\\1y)`', '$.a where `this`', '$.a.`parent`.b', '(a)', '(a).b', '$.a.(b|c)', '$.a * (2 + $.b)', '($.a + 1) * 2',
  '@', '@a.b', 'a-b.c', '$.a-1', '$.a - -1', '2 - -1', '$."x y".z', "$.'a\\'b'", '$.whereabouts', '$.a.trueish', "$.a * 'x'", '$.a * x', "'x' * 3",
  '$.a[?b]\n.c', '$.a\n/b', '$.a / 2', '1 + 1.5', '1.5 + 2', '$.a + 1.5', '1 + 1.5 + $.a', '$.payload.true', 'true', '$.a[?b=c.d]', '$.a.`unknown`',
  '$.a.`split(#,0,1)`', '$.a.`sub(/a/,b)`', '', '$', '$.', '$.a.', '.a', 'a..', '$.a +', '+ 1', '$.a[?b]x',
];

/** Data for evaluation probes: the shapes payloads have, and the values that trip jsonpath-rw. */
const PROBE_DATA = {
  payload: {
    a: 1, f: 2.5, s: 'abc#def#ghi', n: null, t: true, e: '', z: 0, u: 'ab',
    list: [1, 2, 3], empty: [], strs: ['b', 'a', 'c'], mixed: [1, 'a'],
    objs: [{ k: 'x', v: 1, w: 'p' }, { k: 'y', v: 2 }, { k: 'x', v: '3' }, { k: null, v: 4 }, { v: [1] }],
    d: { b: 2, a: 1, c: { x: [1, { y: 5 }] } },
    metrics: [{ name: 'cpu.frequency', value: 1600, timestamp: '2026-01-02T03:04:05.000000' }, { name: 'cpu.percent', value: 0.07, timestamp: 't' }],
    glance_metadata: [{ key: 'image_id', value: 'img-1' }, { key: 'other', value: 'o' }],
    measurements: [{ result: 10, metric: { name: 'out', unit: 'B' } }, { result: 20, metric: { name: 'in', unit: 'B' } }],
    outcome: 'success', host: 'h1', nodename: 'n1',
  },
  ctxt: { user_id: 'u1', user: 'u2', project_id: null, tenant_id: 't1' },
};
const EVALUATION_PROBES = [
  '$.payload.a', 'payload.a', '$.payload.missing', '$.payload.n', '$.payload.list[0]', '$.payload.list[-1]', '$.payload.list[5]', '$.payload.empty[-1]', '$.payload.list[-5]',
  '$.payload.s[0]', '$.payload.d[0]', '$.payload.d[5]', '$.payload.n[0]', '$.payload.a[0]', '$.payload.list[*]', '$.payload.list[1:]', '$.payload.list[:-1]', '$.payload.list[-2:]',
  '$.payload.a[*]', '$.payload.s[*]', '$.payload.d[*]', '$.payload.f[*]', '$.payload.n[*]', '$.payload.t[*]', '$.payload.*', '$.payload.d.*', '$.payload.list.*', '$..y', '$.payload..x', '$.payload.d..b',
  '$.payload.objs[?k=x].v', '$.payload.objs[?k=x & v=1].w', '$.payload.objs[?v=3].k', '$.payload.objs[?v>1].k', '$.payload.objs[?k].v', "$.payload.objs[?(@.k='y')].v", "$.payload.objs[?k~'x'].v",
  '$.payload.objs[?k!=x].v', '$.payload.objs[?v>=1.5].k', '$.payload.objs[?k>a].v', '$.payload.a[?b]', "$.payload.objs[?v='3'].k", '$.payload.objs[?v=true].k', '$.payload.objs[?$.v=1].k',
  "$.payload.metrics[?(@.name='cpu.frequency')].value", "$.payload.metrics[?(@.name='cpu.percent')].value * 100", "$.payload.metrics[?(@.name='cpu.frequency')].timestamp",
  '$.payload.host + "_" + $.payload.nodename', CEILOMETER_IDENTITY_NAME, "'identity.authenticate.' + $.payload.outcome", '$.payload.glance_metadata[?key=image_id].value',
  '$.payload.measurements.[*].metric.[*].name', '$.payload.measurements.[*].result', '$.payload.s.`split(#, 0, 1)`', '$.payload.s.`split(#, 1, -1)`', '$.payload.s.`split(#, 5, -1)`', '$.payload.a.`split(#, 0, 1)`',
  '$.payload.s.`sub(/#(d)/, <\\1>)`', '$.payload.s.`sub(/zz/, y)`', '$.payload.a.`sub(/x/, y)`', '$.payload.strs.`sorted`', '$.payload.d.`sorted`', '$.payload.mixed.`sorted`', '$.payload.a.`sorted`',
  '$.payload.objs[/v]', '$.payload.objs[\\k]', '$.payload.list.`len`', '$.payload.s.`len`', '$.payload.a.`len`', '$.payload.d.`len`',
  'ctxt.user_id|ctxt.user', 'ctxt.project_id|ctxt.tenant_id', '(ctxt.user_id)|(ctxt.user)', '(ctxt.project_id)|(ctxt.tenant_id)',
  '$.payload.a + $.payload.f', '$.payload.u * 2', '$.payload.u * 2.0', '$.payload.list + $.payload.strs', '$.payload.a + $.payload.u', '$.payload.list[*] * 2', '$.payload.list[*] + $.payload.list[*]',
  '$.payload.list[*] + $.payload.strs[*]', '$.payload.t + 1', '2 * 3', '$.payload.a - 1 . x', '$.payload where a', '$.payload.list where `len`', '$.payload.d.`parent`', '$.payload.a & $.payload.f',
  '$.payload.list[0].`this`', '$.payload.objs[?k=x].`parent`', 'gauge', 'image.size', 'payload',
];

describe.skipIf(!peer.available && !IN_CI)('meter definitions against real Ceilometer 19', () => {
  it('has the reference: /usr/bin/python3 imports Ceilometer (CI fails here rather than skip)', () => {
    expect(peer, 'install python3-ceilometer (scripts/debian-packages.sh)').toMatchObject({ available: true });
  });

  describe('jsonpaths parse and evaluate as jsonpath-rw-ext does', () => {
    type Tree = { tree?: unknown; error?: string };
    const ourTree = (path: string): Tree => {
      try {
        return { tree: renderTree(parseJsonPath(path)) };
      } catch (err) {
        return { error: (err as Error).message };
      }
    };
    const sameTrees = (paths: string[]) => {
      const reference = runCeilometer<Tree[]>('parse', paths);
      return paths.flatMap((path, i) => {
        const want = reference[i] as Tree;
        const got = ourTree(path);
        const same = want.error ? got.error !== undefined : canonical(got.tree) === canonical(want.tree);
        return same ? [] : [`${JSON.stringify(path)}: Cumulus ${canonical(got)}, jsonpath-rw-ext ${canonical(want)}`];
      });
    };

    it('every jsonpath of Ceilometer\'s meters.yaml and of ours', () => {
      const paths = [...new Set([...jsonpathsOf(CEILOMETER_METERS_FILE), ...jsonpathsOf(DEFAULT_METERS_FILE)])];
      expect(paths.length).toBeGreaterThan(60);
      expect(sameTrees(paths)).toEqual([]);
    });

    it(`${GRAMMAR_PROBES.length} probes of the grammar, refusals included`, () => {
      expect(sameTrees(GRAMMAR_PROBES)).toEqual([]);
    });

    it(`${EVALUATION_PROBES.length} probes of evaluation: the values, their paths, and where Python raises`, () => {
      type Found = { values?: unknown[]; paths?: string[]; error?: string };
      const reference = runCeilometer<Found[]>('eval', EVALUATION_PROBES.map((path) => ({ path, data: PROBE_DATA })));
      const mismatches = EVALUATION_PROBES.flatMap((path, i) => {
        const want = reference[i] as Found;
        let got: Found;
        try {
          const compiled = compileJsonPath(path);
          const matches = compiled.find(PROBE_DATA);
          got = { values: matches.map((m) => m.value), paths: matches.map(matchPath) };
          if (canonical(compiled.values(PROBE_DATA)) !== canonical(got.values)) return [`${path}: the fast path disagrees with the evaluator`];
        } catch (err) {
          got = { error: (err as Error).message };
        }
        const same = want.error ? got.error !== undefined : canonical(got) === canonical(want);
        return same ? [] : [`${path}: Cumulus ${canonical(got)}, jsonpath-rw-ext ${canonical(want)}`];
      });
      expect(reference.filter((r) => r.error).length, 'some probes must raise in Python').toBeGreaterThan(10);
      expect(mismatches).toEqual([]);
    });
  });

  describe('notifications from the control plane and written by hand, mapped by both', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cumulus-ceilometer-'));
    const oursDir = mkdtempSync(join(tmpdir(), 'cumulus-meters-d-'));
    let platform: Platform | undefined;
    const corpus: Corpus = { titles: [], bodies: [] };
    let withCeilometerFile: PeerMapResult[] = [];
    let withOurFile: PeerMapResult[] = [];
    const mapper = (file: string, options: MeterMapperOptions = {}) => new MeterMapper(loadMeterDefinitions(file), SECRET, options);

    beforeAll(async () => {
      const config = loadConfig({ env: {}, overrides: { port: 0, dataDir, logLevel: 'silent', adminPassword: 'ceilometer-corpus-pw' } });
      platform = await startPlatform(config, { logger: silentLogger(), buildDelayMs: 5, periodicTasks: false });
      const captured = await captureScenario(platform);
      for (const c of captured) {
        corpus.titles.push(`control plane: ${c.exchange}`);
        corpus.bodies.push(c.body);
      }
      for (const c of handBuiltCorpus()) {
        corpus.titles.push(c.title);
        corpus.bodies.push(c.body);
      }
      copyFileSync(DEFAULT_METERS_FILE, join(oursDir, 'meters.yaml'));
      withCeilometerFile = mapWithCeilometer(corpus.bodies, dirname(CEILOMETER_METERS_FILE));
      withOurFile = mapWithCeilometer(corpus.bodies, oursDir);
    }, 180_000);

    afterAll(async () => {
      await platform?.stop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(oursDir, { recursive: true, force: true });
    });

    it('covers every service the control plane meters, every meter Ceilometer defines, and the ways a notification fails', () => {
      const eventTypes = new Set(corpus.bodies.map((b) => innerMessage(b).event_type));
      for (const family of ['compute.instance.', 'compute.metrics.', 'volume.', 'snapshot.', 'backup.', 'capacity.', 'image.', 'identity.authenticate', 'orchestration.stack.', 'objectstore.http.request', 'floatingip.', 'l3.meter', 'magnum.', 'dns.', 'trove.', 'share.']) {
        expect([...eventTypes].some((t) => t.startsWith(family)), family).toBe(true);
      }
      const names = new Set(withCeilometerFile.flatMap((r) => r.samples.map((s) => String(s.name))));
      const defined = loadMeterDefinitions(CEILOMETER_METERS_FILE).map((d) => d.name);
      const fromPayload = ['storage.objects.outgoing.bytes', 'storage.objects.incoming.bytes', 'memory.util', 'cpu.util'];
      expect(defined.filter((n) => !n.startsWith('$.') && !names.has(n))).toEqual([]);
      for (const n of fromPayload) expect(names.has(n), n).toBe(true);
      expect(withCeilometerFile.filter((r) => r.failed).length).toBeGreaterThanOrEqual(5);
      expect(withCeilometerFile.flatMap((r) => r.samples).length).toBeGreaterThan(150);
    });

    it('Ceilometer\'s meters.yaml: the same samples, the same notifications lost (differences 1 and 2 only)', () => {
      const m = mapper(CEILOMETER_METERS_FILE, { contextFallback: false });
      expect(compare(corpus, (body) => mapOurs(m, body), (i, body) => expectedFrom(withCeilometerFile[i] as PeerMapResult, body, (s) => s))).toEqual([]);
    });

    it('Ceilometer\'s meters.yaml with the context fallback Ceilometer means (difference 3)', () => {
      const m = mapper(CEILOMETER_METERS_FILE);
      expect(compare(corpus, (body) => mapOurs(m, body), (i, body) => expectedFrom(withCeilometerFile[i] as PeerMapResult, body, withContextFallback))).toEqual([]);
    });

    it('our meters.yaml: Ceilometer reads it the same way (differences 1 to 3)', () => {
      const strict = mapper(DEFAULT_METERS_FILE, { contextFallback: false });
      expect(compare(corpus, (body) => mapOurs(strict, body), (i, body) => expectedFrom(withOurFile[i] as PeerMapResult, body, (s) => s))).toEqual([]);
      const m = mapper(DEFAULT_METERS_FILE);
      expect(compare(corpus, (body) => mapOurs(m, body), (i, body) => expectedFrom(withOurFile[i] as PeerMapResult, body, withContextFallback))).toEqual([]);
    });

    it('our meters.yaml gives what Ceilometer\'s means, plus instance (differences 1 to 6)', () => {
      const m = mapper(DEFAULT_METERS_FILE);
      const withoutInstance = (body: string): Outcome => {
        const outcome = mapOurs(m, body);
        return { ...outcome, samples: outcome.samples.filter((s) => !s.includes('"name":"instance"')) };
      };
      expect(compare(corpus, withoutInstance, (i, body) => expectedFrom(withCeilometerFile[i] as PeerMapResult, body, whatCeilometerMeans))).toEqual([]);
      // Difference 6: instance goes with every metered compute.instance.* notification, with their fields.
      const strip = (samples: string[]) => samples.map((s) => JSON.parse(s) as Record<string, unknown>).map(({ name: _n, unit: _u, volume: _v, ...rest }) => canonical(rest));
      let instances = 0;
      for (const body of corpus.bodies) {
        const samples = mapOurs(m, body).samples;
        const named = (name: string) => samples.filter((s) => s.includes(`"name":"${name}"`));
        const instance = named('instance');
        instances += instance.length;
        if (instance.length === 0) continue;
        expect(innerMessage(body).event_type).toMatch(/^compute\.instance\./);
        expect(strip(instance)).toEqual(strip(named('memory').length ? named('memory') : named('vcpus')));
      }
      expect(instances).toBeGreaterThan(10);
    });
  });
});
