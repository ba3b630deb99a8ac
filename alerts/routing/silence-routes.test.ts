import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CumulusError, ManualClock, openStateDatabase, silentLogger } from '../../core/index.ts';
import { openTempStore, type TempStore } from '../../test/support/temp-store.ts';
import { parseRoutingConfig } from './config.ts';
import { createNotifier, type Notifier } from './notifier.ts';
import { registerSilenceRoutes } from './silence-routes.ts';

const H = 3_600_000;
const T0 = Math.floor(Date.now() / H) * H;
const iso = (ms: number) => new Date(ms).toISOString();

let temp: TempStore;
let app: FastifyInstance;
let notifier: Notifier;
const clock = new ManualClock(T0);
const ALARMS: Record<string, string> = { a1: 'p1', a2: 'p2' };

beforeAll(async () => {
  temp = await openTempStore('cumulus-silence-routes-');
  notifier = createNotifier(parseRoutingConfig({ route: { receiver: 'none' }, receivers: [{ name: 'none' }] }), { db: openStateDatabase(':memory:'), store: temp.store, clock, logger: silentLogger() });
  app = Fastify();
  // The host's error style, reduced to what the tests read: the code and the status.
  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof CumulusError) return reply.code(err.httpStatus).send({ code: err.code, message: err.message });
    return reply.code((err as { statusCode?: number }).statusCode ?? 500).send({ code: 'FASTIFY', message: (err as Error).message });
  });
  const project = (r: { headers: Record<string, unknown> }) => (typeof r.headers['x-project'] === 'string' ? r.headers['x-project'] : null);
  registerSilenceRoutes(app, {
    silences: notifier.silences,
    markFalsePositive: (id, by) => notifier.markFalsePositive(id, by),
    callerName: (r) => String(r.headers['x-user'] ?? 'admin'),
    projectOf: project,
    alarmProject: (r, id) => {
      const owner = ALARMS[id];
      const scope = project(r);
      if (owner === undefined || (scope !== null && scope !== owner)) throw new CumulusError('CUMULUS_ALARM_NOT_FOUND', `Alarm ${id} not found`, { httpStatus: 404 });
      return owner;
    },
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await notifier.stop();
  await temp.close();
});

const body = (matchers: object[], over: Record<string, unknown> = {}) => ({ matchers, startsAt: iso(T0), endsAt: iso(T0 + H), comment: 'maintenance', ...over });

describe('silence routes (Alertmanager v2 shapes)', () => {
  it('creates, reads, lists with a filter and expires a silence', async () => {
    const created = await app.inject({ method: 'POST', url: '/silences', payload: body([{ name: 'service', value: 'nova', isRegex: false }]), headers: { 'x-user': 'ops' } });
    expect(created.statusCode).toBe(200);
    const { silenceID } = created.json() as { silenceID: string };
    const one = await app.inject({ method: 'GET', url: `/silence/${silenceID}` });
    expect(one.json()).toMatchObject({ id: silenceID, createdBy: 'ops', comment: 'maintenance', status: { state: 'active' }, matchers: [{ name: 'service', value: 'nova', isRegex: false, isEqual: true }] });
    expect((await app.inject({ method: 'GET', url: '/silences?filter=service%3D%22nova%22' })).json()).toHaveLength(1);
    expect((await app.inject({ method: 'GET', url: '/silences?filter=service%3D%22glance%22' })).json()).toHaveLength(0);
    expect((await app.inject({ method: 'DELETE', url: `/silence/${silenceID}` })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: `/silence/${silenceID}` })).json()).toMatchObject({ status: { state: 'expired' } });
    expect((await app.inject({ method: 'GET', url: '/silence/nope' })).json()).toMatchObject({ code: 'CUMULUS_SILENCE_NOT_FOUND' });
    const bad = await app.inject({ method: 'POST', url: '/silences', payload: body([{ name: 'service', value: 'nova', isRegex: false }], { endsAt: iso(T0 - H) }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'CUMULUS_SILENCE_INVALID', message: expect.stringMatching(/^endsAt:/) });
  });

  it("keeps a project's members to their project's silences", async () => {
    const refused = await app.inject({ method: 'POST', url: '/silences', headers: { 'x-project': 'p1' }, payload: body([{ name: 'service', value: 'nova', isRegex: false }]) });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'CUMULUS_SILENCE_FORBIDDEN' });
    const ok = await app.inject({ method: 'POST', url: '/silences', headers: { 'x-project': 'p1' }, payload: body([{ name: 'project_id', value: 'p1', isRegex: false }, { name: 'service', value: 'nova', isRegex: false }]) });
    const id = (ok.json() as { silenceID: string }).silenceID;
    expect((await app.inject({ method: 'GET', url: `/silence/${id}`, headers: { 'x-project': 'p2' } })).statusCode).toBe(404);
    const mine = (await app.inject({ method: 'GET', url: '/silences', headers: { 'x-project': 'p1' } })).json() as { id: string }[];
    expect(mine.map((s) => s.id)).toEqual([id]);
  });

  it('marks an alarm as a false positive: a flagged silence on the alarm and its project', async () => {
    const res = await app.inject({ method: 'POST', url: '/alarms/a1/false-positive', headers: { 'x-project': 'p1', 'x-user': 'alice' }, payload: { comment: 'flaps on deploys', duration: '24h' } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ falsePositive: true, alarmId: 'a1', createdBy: 'alice', endsAt: iso(T0 + 24 * H), matchers: [{ name: 'alarm_id', value: 'a1' }, { name: 'project_id', value: 'p1' }] });
    expect((await app.inject({ method: 'POST', url: '/alarms/a2/false-positive', headers: { 'x-project': 'p1' }, payload: { comment: 'x' } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/alarms/a1/false-positive', payload: { comment: 'x', duration: 'soon' } })).json()).toMatchObject({ code: 'CUMULUS_SILENCE_INVALID' });
  });
});
