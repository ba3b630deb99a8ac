import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deriveId } from '../../core/index.ts';
import type { Notification } from '../notifications/envelope.ts';
import { toAuditRecord } from './mapper.ts';

/**
 * Cross-check against pycadf itself (Debian's python3-pycadf): events built by pycadf the
 * way keystonemiddleware and Keystone build them must map like ours. In CI (CI=true) a
 * missing pycadf fails this file; elsewhere it is skipped with the reason printed.
 */
// The Debian interpreter, not a pyenv or venv one without the distro's packages; overridable to test this gate.
const PYTHON = process.env.CUMULUS_TEST_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./testdata/pycadf-events.py', import.meta.url));
const probe = spawnSync(PYTHON, ['-c', 'import pycadf'], { encoding: 'utf8' });
const missing = probe.status === 0 ? null : `pycadf is not importable by ${PYTHON} (${(probe.error?.message ?? probe.stderr ?? '').trim()}); install python3-pycadf`;
const inCi = process.env.CI === 'true';
if (missing !== null && !inCi) console.warn(`collectors/audit: skipping the pycadf cross-check: ${missing}`);

interface PycadfEvents {
  request: Record<string, unknown>;
  response: Record<string, unknown>;
  login: Record<string, unknown>;
}

function pycadfEvents(): PycadfEvents {
  if (missing !== null) throw new Error(`CI=true requires the pycadf cross-check: ${missing}`);
  const run = spawnSync(PYTHON, ['-W', 'ignore', SCRIPT], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${SCRIPT} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as PycadfEvents;
}

function notification(eventType: string, payload: Record<string, unknown>): Notification {
  return { message_id: 'm-1', publisher_id: 'nova-api', event_type: eventType, priority: 'INFO', payload, timestamp: '2026-01-01 10:00:00.000000', context: {} };
}

/** pycadf writes `%Y-%m-%dT%H:%M:%S.%f%z` in UTC: +0000 becomes +00:00, the microseconds stay. */
const utc = (cadfTime: unknown) => String(cadfTime).replace(/\+0000$/, '+00:00');

describe.skipIf(missing !== null && !inCi)('toAuditRecord on events built by pycadf', () => {
  const events = missing === null ? pycadfEvents() : null;
  const get = (): PycadfEvents => events ?? pycadfEvents();

  it("maps keystonemiddleware's request and response events field by field", () => {
    const { request, response } = get();
    const expected = {
      action: 'read',
      event_type: 'audit.http.request',
      type_uri: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
      event_time: utc(request.eventTime),
      initiator_id: '0a1b2c3d4e5f40718293a4b5c6d7e8f9',
      initiator_type: 'service/security/account/user',
      initiator_name: 'alice',
      project_id: '9f8e7d6c5b4a49382716f5e4d3c2b1a0',
      initiator_address: '203.0.113.7',
      initiator_agent: 'python-novaclient',
      target_id: '6a1e4c1b-2f7d-4b8e-9c3a-5d6e7f8a9b0c',
      target_type: 'service/compute/servers/server',
      observer_id: 'target',
      observer_type: 'unknown',
      target_address: 'http://controller:8774/v2.1',
      request_id: 'req-2b6c3f9e-8a41-4d7b-9e0c-5f1a2b3c4d5e',
    };
    expect(utc(request.eventTime)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
    expect(toAuditRecord(notification('audit.http.request', request))).toEqual({ ...expected, id: deriveId('audit', String(request.id), 'pending'), outcome: 'pending', reason_code: null, raw: request });
    expect(toAuditRecord(notification('audit.http.response', response))).toEqual({
      ...expected,
      id: deriveId('audit', String(request.id), 'failure'),
      event_type: 'audit.http.response',
      outcome: 'failure',
      reason_code: '404',
      raw: response,
    });
  });

  it("maps Keystone's failed login for an unknown user: user_name, address and reason", () => {
    const { login } = get();
    const initiator = login.initiator as Record<string, unknown>;
    expect(toAuditRecord(notification('identity.authenticate', login))).toMatchObject({
      action: 'authenticate',
      outcome: 'failure',
      initiator_id: initiator.id,
      initiator_name: 'mallory',
      initiator_address: '203.0.113.66',
      initiator_agent: 'curl/8.5.0',
      target_type: 'service/security/account/user',
      observer_type: 'service/security',
      reason_code: '404',
      request_id: 'req-0f0e0d0c-0b0a-4909-8807-060504030201',
      event_time: utc(login.eventTime),
    });
  });
});
