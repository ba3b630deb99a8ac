import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deriveId } from '../../core/index.ts';
import { MalformedNotificationError, openEnvelope, type Notification } from '../notifications/envelope.ts';
import { MalformedCadfError } from './errors.ts';
import { auditRecordId, toAuditRecord } from './mapper.ts';
import { auditStreamRecord } from './stream-record.ts';

/**
 * What cloud/audit emitted on the bus (registerAuditMiddleware on a fastify app, Keystone's
 * emitIdentity* through the Notifier and an InProcessBus), captured verbatim: the bodies
 * are read here exactly as the notification listener reads them.
 */
interface Capture {
  user: { id: string; name: string };
  project: { id: string };
  server_id: string;
  notifications: Array<{ case: string; exchange: string; routing_key: string; body: string }>;
}
const capture = JSON.parse(readFileSync(new URL('./testdata/cloud-audit.json', import.meta.url), 'utf8')) as Capture;

const CADF_URI = 'http://schemas.dmtf.org/cloud/audit/1.0/event';
const COMPUTE_SERVICE_ID = deriveId('service', 'compute');
const IDENTITY_SERVICE_ID = deriveId('service', 'identity');
const NOVA_URL = 'http://cloud.test:8000/compute/v2.1';

function notificationsOf(name: string): Notification[] {
  const found = capture.notifications.filter((n) => n.case === name).map((n) => openEnvelope(Buffer.from(n.body)));
  expect(found.length, `fixture case ${name}`).toBeGreaterThan(0);
  return found;
}

function one(name: string): Notification {
  const [notification] = notificationsOf(name);
  return notification as Notification;
}

function pair(name: string): { request: Notification; response: Notification } {
  const [request, response] = notificationsOf(name);
  expect(request?.event_type).toBe('audit.http.request');
  expect(response?.event_type).toBe('audit.http.response');
  return { request: request as Notification, response: response as Notification };
}

/** The parts of a captured CADF event the assertions read. */
interface Cadf {
  id: string;
  eventTime: string;
  tags?: string[];
  initiator: { id: string; request_id?: string; project_id?: string; name?: string; username?: string };
  target: { id: string; addresses?: unknown[] };
  [extra: string]: unknown;
}

function cadf(notification: Notification): Cadf {
  return notification.payload as unknown as Cadf;
}

type Spoil = (event: Record<string, unknown>) => void;
const initiatorOf = (event: Record<string, unknown>) => event.initiator as Record<string, unknown>;

/** A minimal notification around a CADF payload, for the malformed cases. */
function wrap(payload: object, eventType = 'audit.http.response', context: Record<string, unknown> = {}): Notification {
  return { message_id: 'm-1', publisher_id: 'nova', event_type: eventType, priority: 'INFO', payload: payload as Record<string, unknown>, timestamp: '2026-01-01 10:00:00.000000', context };
}

describe('toAuditRecord: keystonemiddleware audit.http events from cloud/audit', () => {
  it('maps a list request (pending) and its answer (success, 200) field by field', () => {
    const { request, response } = pair('list-servers');
    const event = cadf(request);
    const common = {
      action: 'read/list',
      type_uri: CADF_URI,
      event_time: '2026-01-01T10:00:00.123000+00:00',
      initiator_id: capture.user.id,
      initiator_type: 'service/security/account/user',
      initiator_name: 'alice',
      project_id: capture.project.id,
      initiator_address: '203.0.113.7',
      initiator_agent: 'python-novaclient',
      target_id: COMPUTE_SERVICE_ID,
      target_type: 'service/compute/servers',
      observer_id: 'target',
      observer_type: 'unknown',
      target_address: NOVA_URL,
      request_id: event.initiator.request_id,
    };
    expect(event.initiator.request_id).toMatch(/^req-[0-9a-f-]{36}$/);
    expect(toAuditRecord(request)).toEqual({ id: deriveId('audit', event.id, 'pending'), outcome: 'pending', event_type: 'audit.http.request', reason_code: null, ...common, raw: cadf(request) });
    expect(toAuditRecord(response)).toEqual({ id: deriveId('audit', event.id, 'success'), outcome: 'success', event_type: 'audit.http.response', reason_code: '200', ...common, raw: cadf(response) });
  });

  it('gives the two phases of one CADF event distinct, deterministic ids', () => {
    const { request, response } = pair('list-servers');
    const first = toAuditRecord(request);
    const second = toAuditRecord(response);
    expect(cadf(request).id).toBe(cadf(response).id);
    expect(first?.id).not.toBe(second?.id);
    expect(toAuditRecord(openEnvelope(Buffer.from(capture.notifications[0]?.body as string)))?.id).toBe(first?.id);
    expect(first?.id).toBe(auditRecordId(cadf(request).id, 'pending'));
  });

  it('maps a read of a missing server: the server is the target, failure with reason 404', () => {
    const { response } = pair('missing-server');
    expect(toAuditRecord(response)).toMatchObject({
      action: 'read',
      outcome: 'failure',
      reason_code: '404',
      target_id: capture.server_id,
      target_type: 'service/compute/servers/server',
      target_address: NOVA_URL,
      event_time: '2026-01-01T10:00:01.123000+00:00',
    });
  });

  it('maps a server action by its body key', () => {
    const { request, response } = pair('server-action');
    for (const n of [request, response]) expect(toAuditRecord(n)).toMatchObject({ action: 'update/os-stop', target_id: capture.server_id, target_type: 'service/compute/servers/server/action' });
    expect(toAuditRecord(response)).toMatchObject({ outcome: 'success', reason_code: '202' });
  });

  it("maps a call without a token: pycadf's `unknown` initiator id is kept, its unknown name and project become null", () => {
    const { response } = pair('no-token');
    expect(toAuditRecord(response)).toMatchObject({
      initiator_id: 'unknown',
      initiator_type: 'service/security/account/user',
      initiator_name: null,
      project_id: null,
      initiator_address: '198.51.100.23',
      initiator_agent: 'curl/8.5.0',
      outcome: 'failure',
      reason_code: '401',
      request_id: cadf(response).initiator.request_id,
    });
  });

  it('keeps the raw CADF event, masked token and all, without copying it', () => {
    const { response } = pair('list-servers');
    const record = toAuditRecord(response);
    expect(record?.raw).toBe(response.payload);
    expect(JSON.stringify(record?.raw)).toContain(' xxxxxxxx ');
  });
});

describe('toAuditRecord: Keystone identity CADF events from cloud/audit', () => {
  it('maps a successful identity.authenticate', () => {
    const n = one('login-success');
    const event = cadf(n);
    expect(toAuditRecord(n)).toEqual({
      id: deriveId('audit', event.id, 'success'),
      action: 'authenticate',
      outcome: 'success',
      event_type: 'identity.authenticate',
      type_uri: CADF_URI,
      event_time: '2026-01-01T10:00:04.123000+00:00',
      initiator_id: capture.user.id,
      initiator_type: 'service/security/account/user',
      initiator_name: 'alice',
      project_id: null,
      initiator_address: '192.0.2.44',
      initiator_agent: 'openstacksdk/4.0.0 keystoneauth1/5.6.0',
      target_id: event.target.id,
      target_type: 'service/security/account/user',
      observer_id: IDENTITY_SERVICE_ID,
      observer_type: 'service/security',
      target_address: null,
      reason_code: null,
      request_id: event.initiator.request_id,
      raw: event,
    });
  });

  it('maps a wrong password: the user is known, the outcome is failure', () => {
    expect(toAuditRecord(one('login-wrong-password'))).toMatchObject({ outcome: 'failure', initiator_id: capture.user.id, initiator_name: 'alice', initiator_address: '198.51.100.99', reason_code: null });
  });

  it("maps Keystone's unknown-user form: the name asked for (user_name), the address, reason 404", () => {
    const n = one('login-unknown-user');
    const record = toAuditRecord(n);
    expect(record).toMatchObject({ action: 'authenticate', outcome: 'failure', initiator_id: cadf(n).initiator.id, initiator_name: 'mallory', initiator_address: '203.0.113.66', reason_code: '404' });
    expect(record?.initiator_id).not.toBe(capture.user.id);
  });

  it('maps identity.project.created in CADF format: the project is the target, the caller the initiator', () => {
    const n = one('project-created-cadf');
    expect(toAuditRecord(n)).toMatchObject({
      action: 'created.project',
      outcome: 'success',
      event_type: 'identity.project.created',
      initiator_id: capture.user.id,
      initiator_name: 'alice',
      project_id: capture.project.id,
      initiator_address: '10.0.0.5',
      target_id: capture.project.id,
      target_type: 'data/security/project',
      observer_id: IDENTITY_SERVICE_ID,
      request_id: cadf(n).initiator.request_id,
    });
  });

  it("ignores Keystone's basic-format notifications (no typeURI)", () => {
    expect(toAuditRecord(one('project-created-basic'))).toBeNull();
    expect(toAuditRecord(one('user-created-basic'))).toBeNull();
  });
});

describe("toAuditRecord: cloud/deployment's fault trail (cloud.fault.*)", () => {
  it('maps a fault asked through the API: who stopped which process, from where', () => {
    const n = one('fault-stop-api');
    const event = cadf(n);
    expect(toAuditRecord(n)).toEqual({
      id: deriveId('audit', event.id, 'success'),
      action: 'stop',
      outcome: 'success',
      event_type: 'cloud.fault.stop',
      type_uri: CADF_URI,
      event_time: '2026-01-01T10:00:10.123000+00:00',
      initiator_id: capture.user.id,
      initiator_type: 'service/security/account/user',
      initiator_name: 'alice',
      project_id: capture.project.id,
      initiator_address: '192.0.2.10',
      initiator_agent: null,
      target_id: event.target.id,
      target_type: 'service/database',
      observer_id: deriveId('service', 'cloud-admin'),
      observer_type: 'service/oss',
      target_address: '/cloud-admin/v1/faults',
      reason_code: null,
      request_id: 'req-0f0e0d0c-0b0a-4909-8807-060504030201',
      raw: event,
    });
  });

  it("maps a fault the system injected: no user, the context's request id", () => {
    const n = one('fault-fail-host-system');
    expect(toAuditRecord(n)).toMatchObject({ action: 'stop/fail', event_type: 'cloud.fault.fail-host', initiator_id: 'unknown', initiator_name: 'system', project_id: null, initiator_address: null, target_type: 'compute/machine', target_address: null, request_id: n.context.request_id });
    expect(n.context.request_id).toBe('req-f-2');
  });
});

describe('toAuditRecord: what it reads and what it refuses', () => {
  const good = () => structuredClone(cadf(pair('list-servers').response));

  it('reads a CADF event under any other event type, and ignores other payloads there, typeURI or not', () => {
    expect(toAuditRecord(wrap(good(), 'barbican.secret.audit'))).toMatchObject({ event_type: 'barbican.secret.audit', action: 'read/list' });
    expect(toAuditRecord(wrap({ typeURI: 'http://example.com/other', id: 'x' }, 'compute.instance.create.end'))).toBeNull();
    expect(toAuditRecord(wrap({ instance_id: 'i-1' }, 'compute.instance.create.end'))).toBeNull();
  });

  it.each([
    ['eventTime', (e) => delete e.eventTime],
    ['eventTime', (e) => (e.eventTime = 'yesterday')],
    ['action', (e) => delete e.action],
    ['initiator', (e) => delete e.initiator],
    ['initiator.id', (e) => delete initiatorOf(e).id],
    ['id', (e) => (e.id = '')],
    ['outcome', (e) => delete e.outcome],
    ['target', (e) => delete e.target],
    ['observer', (e) => delete e.observer],
    ['typeURI', (e) => (e.typeURI = 'http://example.com/not-cadf')],
  ] satisfies Array<[string, Spoil]>)('refuses a CADF event with a bad %s: CUMULUS_COLLECTOR_MALFORMED_CADF naming the field', (field, spoil) => {
    const event: Record<string, unknown> = good();
    spoil(event);
    let caught: unknown;
    try {
      toAuditRecord(wrap(event));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MalformedCadfError);
    // The listener dead-letters every MalformedNotificationError.
    expect(caught).toBeInstanceOf(MalformedNotificationError);
    expect(caught).toMatchObject({ code: 'CUMULUS_COLLECTOR_MALFORMED_CADF', field, httpStatus: 400 });
    expect((caught as Error).message).toContain(field.split('.')[0]);
    expect((caught as Error).message).toContain('audit.http.response m-1');
  });

  it("accepts pycadf's reference form (initiatorId, targetId, observerId)", () => {
    const event: Record<string, unknown> = good();
    delete event.initiator;
    delete event.target;
    delete event.observer;
    Object.assign(event, { initiatorId: 'u-1', targetId: 't-1', observerId: 'o-1' });
    expect(toAuditRecord(wrap(event))).toMatchObject({ initiator_id: 'u-1', initiator_type: 'unknown', initiator_name: null, target_id: 't-1', target_type: 'unknown', observer_id: 'o-1', target_address: '/compute/v2.1/servers?limit=5' });
  });

  it('falls back for the request id: initiator, then the context, then the correlation tag', () => {
    const event = good();
    delete event.initiator.request_id;
    expect(toAuditRecord(wrap(event, 'audit.http.response', { request_id: 'req-from-context' }))?.request_id).toBe('req-from-context');
    const correlation = (event.tags?.[0] as string).slice('correlation_id?value='.length);
    expect(toAuditRecord(wrap(event, 'audit.http.response', { request_id: '' }))?.request_id).toBe(correlation);
    delete event.tags;
    expect(toAuditRecord(wrap(event))?.request_id).toBeNull();
  });

  it('falls back for the project: the initiator, then the context', () => {
    const event = good();
    event.initiator.project_id = 'unknown';
    expect(toAuditRecord(wrap(event, 'audit.http.response', { project_id: 'p-ctx' }))?.project_id).toBe('p-ctx');
  });

  it('names the initiator by username when there is no name, and takes the requestPath when the target has no address', () => {
    const event = good();
    delete event.initiator.name;
    event.initiator.username = 'bob';
    delete event.target.addresses;
    expect(toAuditRecord(wrap(event))).toMatchObject({ initiator_name: 'bob', target_address: '/compute/v2.1/servers?limit=5' });
  });

  it('turns a non-UTC eventTime into UTC', () => {
    const event = good();
    event.eventTime = '2026-01-01T15:30:00.250000+0530';
    expect(toAuditRecord(wrap(event))?.event_time).toBe('2026-01-01T10:00:00.250+00:00');
  });
});

describe('auditStreamRecord', () => {
  it('keys the record by its CADF event id, so both phases share a partition', () => {
    const { request, response } = pair('list-servers');
    const first = toAuditRecord(request);
    const second = toAuditRecord(response);
    if (!first || !second) throw new Error('both phases map to records');
    const a = auditStreamRecord(first);
    const b = auditStreamRecord(second);
    expect(a.key).toBe(cadf(request).id);
    expect(b.key).toBe(a.key);
    expect(JSON.parse(a.value.toString('utf8'))).toEqual(first);
  });
});
