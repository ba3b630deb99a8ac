import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiTenants, type ApiTenants, type Caller } from './support/api-tenants.ts';
import { eventually } from './support/openstack-http.ts';

/** Panko v2 under /event/v2: filters, pages, RBAC with an admin and two project members, bad input. */

interface PankoEvent {
  message_id: string;
  event_type: string;
  generated: string;
  traits: Array<{ name: string; type: string; value: string }>;
  raw: Record<string, unknown>;
}

const RUN = `run-${Date.now().toString(36)}`;
// Recent times: rows expire by the server's clock (TTL). Whole seconds plus microseconds.
const T0 = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
/** Stored form (what the pipeline writes) and Panko's naive ISO form of T0 + seconds. */
const stored = (s: number, micros = 0) => `${new Date(T0 + s * 1000).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}`;
const panko = (s: number, micros = 0) => `${new Date(T0 + s * 1000).toISOString().slice(0, 19)}${micros ? `.${String(micros).padStart(6, '0')}` : ''}`;

const INJECTION = "' OR 1=1 --";
const BACKSLASH = 'back\\slash "quoted" \\\' ;';

interface Seed {
  id: string;
  type: string;
  project: string;
  seconds: number;
  micros: number;
  strings: Record<string, string>;
  ints: Record<string, string>;
  floats: Record<string, number>;
  times: Record<string, string>;
}

let tenants: ApiTenants;
let seeds: Seed[];

/** Panko's q lists, as python-pankoclient sends them: an op and a type for every filter (WSME pairs them by position). */
const q = (...filters: Array<[string, string, string?, string?]>) =>
  filters.map(([field, value, op = 'eq', type = '']) => `q.field=${encodeURIComponent(field)}&q.value=${encodeURIComponent(value)}&q.op=${op}&q.type=${type}`).join('&');
const mine = (extra = '') => `/event/v2/events?${q(['seed', RUN])}${extra ? `&${extra}` : ''}`;

async function list(caller: Caller, path: string): Promise<PankoEvent[]> {
  const res = await caller.get(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as PankoEvent[];
}
const ids = async (caller: Caller, path: string) => (await list(caller, path)).map((e) => e.message_id);
const seedIds = (pick: (s: Seed) => boolean) => seeds.filter(pick).map((s) => s.id);

async function fault(res: Response, status: number): Promise<string> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error_message: { faultcode: string; faultstring: string; debuginfo: null } };
  expect(body.error_message.faultcode).toBe(status < 500 ? 'Client' : 'Server');
  return body.error_message.faultstring;
}

beforeAll(async () => {
  tenants = await startApiTenants();
  const alpha = tenants.alpha.projectId;
  const beta = tenants.beta.projectId;
  const seed = (n: number, type: string, project: string, seconds: number, traits: Partial<Pick<Seed, 'strings' | 'ints' | 'floats' | 'times'>>): Seed => ({
    id: `${RUN}-e${n}`,
    type,
    project,
    seconds,
    micros: n === 2 ? 250_000 : 0,
    strings: { seed: RUN, ...(project ? { project_id: project } : {}), ...traits.strings },
    ints: traits.ints ?? {},
    floats: traits.floats ?? {},
    times: traits.times ?? {},
  });
  seeds = [
    seed(1, 'compute.instance.create.end', alpha, 10, { strings: { resource_id: 'vm-a1', state: INJECTION, user_id: tenants.alpha.userId }, ints: { vcpus: '2' }, floats: { load: 0.25 }, times: { launched_at: stored(5) } }),
    seed(2, 'compute.instance.create.end', alpha, 20, { strings: { resource_id: 'vm-a2' }, ints: { vcpus: '8' }, floats: { load: 1 }, times: { launched_at: stored(15, 500_000) } }),
    seed(3, 'compute.instance.delete.end', alpha, 30, { strings: { resource_id: 'vm-a1', note: BACKSLASH } }),
    // Beta's first event names its project by tenant_id only (older services): the project column still holds it.
    { ...seed(4, 'compute.instance.create.end', beta, 40, { strings: { resource_id: 'vm-b1', tenant_id: beta }, ints: { vcpus: '4' }, floats: { load: 0.5 } }), strings: { seed: RUN, resource_id: 'vm-b1', tenant_id: beta } },
    seed(5, 'volume.create.end', beta, 50, { strings: { resource_id: 'vol-b1' }, ints: { size: '9223372036854775807' } }),
    seed(6, 'identity.user.created', '', 60, { strings: { resource_id: 'user-x' } }),
  ];
  await tenants.platform.store.insert(
    'events',
    seeds.map((s) => ({
      message_id: s.id,
      event_type: s.type,
      generated: stored(s.seconds, s.micros),
      project_id: s.project,
      resource_id: s.strings.resource_id ?? '',
      traits_string: s.strings,
      traits_int: s.ints,
      traits_float: s.floats,
      traits_datetime: s.times,
      raw: JSON.stringify({ event_type: s.type, payload: { seed: s.id, text: INJECTION } }),
    })),
  );
}, 60_000);
afterAll(async () => tenants?.stop());

describe('events: shapes and RBAC', () => {
  it("answers Panko's event shape: values as text, long type names, naive UTC times", async () => {
    const res = await tenants.admin.get(`/event/v2/events/${encodeURIComponent(seeds[1]!.id)}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      message_id: seeds[1]!.id,
      event_type: 'compute.instance.create.end',
      generated: panko(20, 250_000),
      traits: [
        { name: 'seed', type: 'string', value: RUN },
        { name: 'project_id', type: 'string', value: tenants.alpha.projectId },
        { name: 'resource_id', type: 'string', value: 'vm-a2' },
        { name: 'vcpus', type: 'integer', value: '8' },
        { name: 'load', type: 'float', value: '1.0' },
        { name: 'launched_at', type: 'datetime', value: panko(15, 500_000) },
      ],
      raw: { event_type: 'compute.instance.create.end', payload: { seed: seeds[1]!.id, text: INJECTION } },
    });
  });

  it('gives the admin every project, each member their own, oldest first', async () => {
    expect(await ids(tenants.admin, mine())).toEqual(seeds.map((s) => s.id));
    expect(await ids(tenants.alpha, mine())).toEqual(seedIds((s) => s.project === tenants.alpha.projectId));
    expect(await ids(tenants.beta, mine())).toEqual(seedIds((s) => s.project === tenants.beta.projectId));
  });

  it("answers 404 for another project's event exactly as for a missing one", async () => {
    const other = seeds[3]!.id;
    const foreign = await fault(await tenants.alpha.get(`/event/v2/events/${other}`), 404);
    const missing = await fault(await tenants.alpha.get(`/event/v2/events/${RUN}-nope`), 404);
    expect(foreign).toBe(`Event ${other} Not Found`);
    expect(missing).toBe(`Event ${RUN}-nope Not Found`);
    expect((await tenants.admin.get(`/event/v2/events/${other}`)).status).toBe(200);
    expect((await tenants.beta.get(`/event/v2/events/${other}`)).status).toBe(200);
    // A project filter cannot reach another project's events either.
    expect(await ids(tenants.alpha, mine(q(['project_id', tenants.beta.projectId])))).toEqual([]);
    expect(await ids(tenants.admin, mine(q(['project_id', tenants.beta.projectId])))).toEqual(seedIds((s) => s.project === tenants.beta.projectId));
  });

  it('lists event types and traits of the caller\'s events only', async () => {
    const adminTypes = (await (await tenants.admin.get('/event/v2/event_types')).json()) as string[];
    expect(adminTypes).toEqual(expect.arrayContaining(['compute.instance.create.end', 'compute.instance.delete.end', 'volume.create.end', 'identity.user.created']));
    expect(adminTypes).toEqual([...adminTypes].sort());
    const alphaTypes = (await (await tenants.alpha.get('/event/v2/event_types')).json()) as string[];
    expect(alphaTypes).toEqual(expect.arrayContaining(['compute.instance.create.end', 'compute.instance.delete.end']));
    expect(alphaTypes).not.toContain('volume.create.end');
    expect(alphaTypes).not.toContain('identity.user.created');

    const traits = async (caller: Caller, type: string) => (await (await caller.get(`/event/v2/event_types/${type}/traits`)).json()) as Array<{ name: string; type: string }>;
    expect(await traits(tenants.alpha, 'compute.instance.create.end')).toEqual(
      expect.arrayContaining([
        { name: 'vcpus', type: 'integer' },
        { name: 'load', type: 'float' },
        { name: 'launched_at', type: 'datetime' },
        { name: 'resource_id', type: 'string' },
      ]),
    );
    // tenant_id only exists on beta's event.
    expect((await traits(tenants.alpha, 'compute.instance.create.end')).map((t) => t.name)).not.toContain('tenant_id');
    expect((await traits(tenants.admin, 'compute.instance.create.end')).map((t) => t.name)).toContain('tenant_id');
    expect(await traits(tenants.beta, 'compute.instance.delete.end')).toEqual([]);
    expect(await traits(tenants.admin, 'no.such.type')).toEqual([]);

    const values = async (caller: Caller, type: string, name: string) => (await (await caller.get(`/event/v2/event_types/${type}/traits/${name}`)).json()) as Array<{ name: string; type: string; value: string }>;
    expect(await values(tenants.admin, 'compute.instance.create.end', 'vcpus')).toEqual(['2', '8', '4'].map((value) => ({ name: 'vcpus', type: 'integer', value })));
    expect(await values(tenants.alpha, 'compute.instance.create.end', 'vcpus')).toEqual(['2', '8'].map((value) => ({ name: 'vcpus', type: 'integer', value })));
    expect(await values(tenants.alpha, 'compute.instance.create.end', 'load')).toEqual(['0.25', '1.0'].map((value) => ({ name: 'load', type: 'float', value })));
    expect(await values(tenants.admin, 'volume.create.end', 'size')).toEqual([{ name: 'size', type: 'integer', value: '9223372036854775807' }]);
    expect(await values(tenants.alpha, 'volume.create.end', 'size')).toEqual([]);
    expect(await values(tenants.admin, 'compute.instance.create.end', 'nope')).toEqual([]);
    // Panko's unused route.
    expect((await tenants.admin.get('/event/v2/event_types/compute.instance.create.end')).status).toBe(404);
  });

  it('serves versions without a token and answers 401 in WSME form without one', async () => {
    const versions = (await (await fetch(`${tenants.url}/event/`)).json()) as { versions: { values: Array<{ id: string; status: string }> } };
    expect(versions.versions.values[0]).toMatchObject({ id: 'v2', status: 'stable' });
    expect(await fault(await fetch(`${tenants.url}/event/v2/events`), 401)).toMatch(/X-Auth-Token/);
    expect(await (await tenants.alpha.get('/event/v2/capabilities')).json()).toEqual({ api: { 'events:query:simple': true }, event_storage: { 'storage:production_ready': true } });
  });
});

describe('events: filters', () => {
  it('filters by event type, message id and time (start ge, end le, both inclusive)', async () => {
    expect(await ids(tenants.admin, mine(q(['event_type', 'compute.instance.create.end'])))).toEqual(seedIds((s) => s.type === 'compute.instance.create.end'));
    expect(await ids(tenants.admin, mine(q(['message_id', seeds[2]!.id, 'eq'])))).toEqual([seeds[2]!.id]);
    const from = `${panko(20)}.250000`;
    const to = panko(40);
    expect(await ids(tenants.admin, mine(q(['start_timestamp', from, 'ge'], ['end_timestamp', to, 'le'])))).toEqual(seedIds((s) => s.seconds >= 20 && s.seconds <= 40));
    // A zone is honoured: the same instant written at +02:00.
    const zoned = new Date(T0 + 30_000 + 2 * 3_600_000).toISOString().slice(0, 19) + '+02:00';
    expect(await ids(tenants.admin, mine(q(['start_timestamp', zoned, 'ge'])))).toEqual(seedIds((s) => s.seconds >= 30));
  });

  it('compares typed traits with every operator; an event without the trait never matches', async () => {
    const byOp = async (name: string, type: string, op: string, value: string) => ids(tenants.admin, mine(q([name, value, op, type])));
    const ints = seeds.filter((s) => s.ints.vcpus !== undefined);
    const cases: Array<[string, (v: number) => boolean]> = [
      ['eq', (v) => v === 4],
      ['ne', (v) => v !== 4],
      ['lt', (v) => v < 4],
      ['le', (v) => v <= 4],
      ['gt', (v) => v > 4],
      ['ge', (v) => v >= 4],
    ];
    for (const [op, keep] of cases) {
      expect(await byOp('vcpus', 'integer', op, '4'), op).toEqual(ints.filter((s) => keep(Number(s.ints.vcpus))).map((s) => s.id));
    }
    expect(await byOp('load', 'float', 'ge', '0.5')).toEqual(seedIds((s) => s.floats.load !== undefined && s.floats.load >= 0.5));
    expect(await byOp('launched_at', 'datetime', 'gt', panko(10))).toEqual([seeds[1]!.id]);
    expect(await byOp('launched_at', 'datetime', 'le', panko(5))).toEqual([seeds[0]!.id]);
    expect(await byOp('resource_id', 'string', 'eq', 'vm-a1')).toEqual(seedIds((s) => s.strings.resource_id === 'vm-a1'));
    expect(await byOp('resource_id', '', 'gt', 'vm-a1')).toEqual(seedIds((s) => (s.strings.resource_id ?? '') > 'vm-a1'));
    expect(await byOp('user_id', 'string', 'eq', tenants.alpha.userId)).toEqual([seeds[0]!.id]);
    // Two filters on one trait with different values: nothing has both.
    expect(await ids(tenants.admin, mine(q(['resource_id', 'vm-a1'], ['resource_id', 'vm-a2'])))).toEqual([]);
  });

  it('treats injection attempts in every filter as data', async () => {
    expect(await ids(tenants.admin, mine(q(['state', INJECTION])))).toEqual([seeds[0]!.id]);
    expect(await ids(tenants.admin, mine(q(['note', BACKSLASH])))).toEqual([seeds[2]!.id]);
    for (const text of [INJECTION, BACKSLASH, "x') OR 1=1 --", "'; DROP TABLE events; --", '\\', "%' OR '%'='"]) {
      expect(await ids(tenants.admin, mine(q(['event_type', text])))).toEqual([]);
      expect(await ids(tenants.admin, mine(q(['message_id', text])))).toEqual([]);
      expect(await ids(tenants.admin, mine(q([text, 'x'])))).toEqual([]);
      expect(await ids(tenants.admin, mine(q(['resource_id', text, 'ne'])))).toEqual(seedIds((s) => s.strings.resource_id !== undefined));
      expect(await ids(tenants.alpha, mine(q(['project_id', text])))).toEqual([]);
      const encoded = encodeURIComponent(text);
      expect((await tenants.admin.get(`/event/v2/events/${encoded}`)).status).toBe(404);
      expect(await (await tenants.admin.get(`/event/v2/event_types/${encoded}/traits`)).json()).toEqual([]);
      expect(await (await tenants.admin.get(`/event/v2/event_types/compute.instance.create.end/traits/${encoded}`)).json()).toEqual([]);
    }
    expect((await ids(tenants.admin, mine())).length).toBe(seeds.length);
  });
});

describe('events: pages', () => {
  it('sorts by generated and message_id, limits, and pages from a marker', async () => {
    const all = seeds.map((s) => s.id);
    expect(await ids(tenants.admin, mine('sort=generated:desc&limit=2'))).toEqual([...all].reverse().slice(0, 2));
    expect(await ids(tenants.admin, mine(`sort=generated:desc&limit=2&marker=${all[4]}`))).toEqual([all[3], all[2]]);
    expect(await ids(tenants.admin, mine('sort=message_id:desc'))).toEqual([...all].sort().reverse());
    expect(await ids(tenants.admin, mine(`sort=message_id&marker=${all[0]}&limit=2`))).toEqual([...all].sort().slice(1, 3));
    // Walking every page with the marker gives every event once.
    const walked: string[] = [];
    let marker = '';
    for (;;) {
      const page = await ids(tenants.beta, mine(`limit=1${marker ? `&marker=${marker}` : ''}`));
      if (page.length === 0) break;
      walked.push(...page);
      marker = page[page.length - 1]!;
    }
    expect(walked).toEqual(seedIds((s) => s.project === tenants.beta.projectId));
    // A marker the caller cannot see is refused like a missing one.
    expect(await fault(await tenants.alpha.get(mine(`marker=${all[3]}`)), 400)).toBe(`Invalid input for field/attribute marker. Value: '${all[3]}'. Marker ${all[3]} not found.`);
  });
});

describe('events: bad input', () => {
  it('answers 400 naming the field, in WSME form', async () => {
    const bad = async (query: string) => fault(await tenants.admin.get(`/event/v2/events?${query}`), 400);
    expect(await bad('limit=0')).toMatch(/querystring\.limit must be >= 1/);
    expect(await bad('limit=many')).toMatch(/querystring\.limit must be integer/);
    expect(await bad('bad_Stuff_here')).toMatch(/unknown field "bad_Stuff_here"/);
    expect(await bad('q.field=a&q.value=b&q.op=like')).toMatch(/querystring\.q\.op\[0\] must be one of/);
    expect(await bad('q.field=a&q.value=b&q.type=whats-up')).toMatch(/querystring\.q\.type\[0\] must be one of/);
    expect(await bad('q.field=vcpus&q.value=two&q.type=integer')).toBe('querystring.q.value[0]: Unable to convert the value two to the expected data type integer.');
    expect(await bad('q.field=event_type&q.value=x&q.op=ne')).toMatch(/Only `eq' operator is available for field event_type/);
    expect(await bad('q.field=start_timestamp&q.value=2026-01-01&q.op=gt')).toMatch(/Only `ge' operator is available for field start_timestamp/);
    expect(await bad('q.field=end_timestamp&q.value=soon&q.op=le')).toMatch(/q\.value\[0\].*datetime/);
    expect(await bad('q.field=a&q.field=b&q.value=1')).toMatch(/q\.value has 1 entries for 2 q\.field/);
    expect(await bad('sort=invalid_key:desc')).toMatch(/^Invalid input for field\/attribute sort\. Value: 'invalid_key:desc'/);
    expect(await bad('sort=message_id:bah')).toMatch(/^Invalid input for field\/attribute sort direction/);
  });
});

describe('events: end to end', () => {
  it('finds the event of a real control-plane action (a project created through Keystone)', async () => {
    const name = `${RUN}-e2e`;
    const res = await tenants.admin.post('/identity/v3/projects', { project: { name, domain_id: 'default' } });
    expect(res.status).toBe(201);
    const projectId = ((await res.json()) as { project: { id: string } }).project.id;
    await tenants.platform.drain();
    const found = await eventually(async () => {
      const events = await list(tenants.admin, `/event/v2/events?${q(['event_type', 'identity.project.created'])}&sort=generated:desc&limit=50`);
      return events.find((e) => JSON.stringify(e).includes(projectId));
    }, 'the identity.project.created event');
    expect(found.event_type).toBe('identity.project.created');
    expect(found.generated).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$/);
    // A member never sees it: it is the admin project's.
    expect((await tenants.alpha.get(`/event/v2/events/${encodeURIComponent(found.message_id)}`)).status).toBe(404);
  });
});
