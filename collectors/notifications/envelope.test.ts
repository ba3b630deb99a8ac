import { describe, expect, it } from 'vitest';
import { MAX_NOTIFICATION_BYTES, MalformedNotificationError, normaliseTimestamp, openEnvelope } from './envelope.ts';

const message = (overrides: Record<string, unknown> = {}) => ({
  message_id: 'a0f2c8d4-1111-4222-8333-944455556666',
  publisher_id: 'compute.compute-1',
  event_type: 'compute.instance.create.end',
  priority: 'INFO',
  payload: { instance_id: 'i-1', vcpus: 2 },
  timestamp: '2026-01-02 03:04:05.123456',
  _unique_id: 'abc',
  _context_request_id: 'req-1',
  _context_user_id: 'u-1',
  _context_project_id: 'p-1',
  _context_roles: ['member'],
  ...overrides,
});

const v2 = (inner: unknown, version: unknown = '2.0') => Buffer.from(JSON.stringify({ 'oslo.version': version, 'oslo.message': typeof inner === 'string' ? inner : JSON.stringify(inner) }));
const v1 = (inner: unknown) => Buffer.from(JSON.stringify(inner));

function codeOf(body: Buffer): string {
  try {
    openEnvelope(body);
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedNotificationError);
    expect((err as MalformedNotificationError).httpStatus).toBe(400);
    return (err as MalformedNotificationError).code;
  }
  throw new Error('expected openEnvelope to throw');
}

describe('openEnvelope', () => {
  it('opens the oslo.messaging v2 envelope', () => {
    const n = openEnvelope(v2(message()));
    expect(n).toEqual({
      message_id: 'a0f2c8d4-1111-4222-8333-944455556666',
      publisher_id: 'compute.compute-1',
      event_type: 'compute.instance.create.end',
      priority: 'INFO',
      payload: { instance_id: 'i-1', vcpus: 2 },
      timestamp: '2026-01-02 03:04:05.123456',
      context: { request_id: 'req-1', user_id: 'u-1', project_id: 'p-1', roles: ['member'] },
    });
  });

  it('reads the legacy v1 form, where the body is the message itself', () => {
    const n = openEnvelope(v1(message({ priority: 'ERROR' })));
    expect(n.event_type).toBe('compute.instance.create.end');
    expect(n.priority).toBe('ERROR');
    expect(n.payload).toEqual({ instance_id: 'i-1', vcpus: 2 });
    expect(n.context.user_id).toBe('u-1');
  });

  it('defaults a missing priority to INFO and a missing timestamp to empty', () => {
    const { priority: _p, timestamp: _t, ...rest } = message();
    const n = openEnvelope(v2(rest));
    expect(n.priority).toBe('INFO');
    expect(n.timestamp).toBe('');
  });

  it.each<[string, Buffer, string]>([
    ['an unknown oslo.version', v2(message(), '3.0'), 'CUMULUS_COLLECTOR_UNKNOWN_ENVELOPE_VERSION'],
    ['a numeric oslo.version', v2(message(), 2), 'CUMULUS_COLLECTOR_UNKNOWN_ENVELOPE_VERSION'],
    ['a body that is not JSON', Buffer.from('{"oslo.version": "2.0", '), 'CUMULUS_COLLECTOR_MALFORMED_JSON'],
    ['a body that is not UTF-8 JSON at all', Buffer.from([0xff, 0xfe, 0x00, 0x01]), 'CUMULUS_COLLECTOR_MALFORMED_JSON'],
    ['an inner message that is not JSON', v2('{not json'), 'CUMULUS_COLLECTOR_MALFORMED_JSON'],
    ['an inner message that is an object, not a string', Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': message() })), 'CUMULUS_COLLECTOR_MALFORMED_ENVELOPE'],
    ['an inner message that is a JSON list', v2('[1,2]'), 'CUMULUS_COLLECTOR_MALFORMED_ENVELOPE'],
    ['an inner message that is JSON null', v2('null'), 'CUMULUS_COLLECTOR_MALFORMED_ENVELOPE'],
    ['a body that is a JSON list', Buffer.from('[]'), 'CUMULUS_COLLECTOR_MALFORMED_ENVELOPE'],
    ['a body that is a JSON string', Buffer.from('"hello"'), 'CUMULUS_COLLECTOR_MALFORMED_ENVELOPE'],
    ['a missing event_type', v2(message({ event_type: undefined })), 'CUMULUS_COLLECTOR_MISSING_FIELD'],
    ['an empty event_type', v2(message({ event_type: '' })), 'CUMULUS_COLLECTOR_MISSING_FIELD'],
    ['a missing message_id', v2(message({ message_id: undefined })), 'CUMULUS_COLLECTOR_MISSING_FIELD'],
    ['a numeric publisher_id', v2(message({ publisher_id: 7 })), 'CUMULUS_COLLECTOR_MISSING_FIELD'],
    ['a payload that is a string', v2(message({ payload: 'x' })), 'CUMULUS_COLLECTOR_MISSING_FIELD'],
    ['a payload that is a list', v2(message({ payload: [] })), 'CUMULUS_COLLECTOR_MISSING_FIELD'],
    ['a null payload', v2(message({ payload: null })), 'CUMULUS_COLLECTOR_MISSING_FIELD'],
    ['a v1 message without payload', v1(message({ payload: undefined })), 'CUMULUS_COLLECTOR_MISSING_FIELD'],
  ])('refuses %s', (_what, body, code) => {
    expect(codeOf(body)).toBe(code);
  });

  it('names the missing field in the message', () => {
    expect(() => openEnvelope(v2(message({ event_type: undefined })))).toThrow(/event_type/);
  });

  it('refuses a message over the size limit before parsing it', () => {
    const body = Buffer.alloc(MAX_NOTIFICATION_BYTES + 1, 0x20);
    expect(codeOf(body)).toBe('CUMULUS_COLLECTOR_MESSAGE_TOO_LARGE');
  });

  it('accepts a message of exactly the size limit', () => {
    const base = v2(message());
    const padded = Buffer.concat([base, Buffer.alloc(MAX_NOTIFICATION_BYTES - base.length, 0x20)]);
    expect(padded.length).toBe(MAX_NOTIFICATION_BYTES);
    expect(openEnvelope(padded).event_type).toBe('compute.instance.create.end');
  });
});

describe('normaliseTimestamp', () => {
  it.each<[string, string]>([
    ['2026-01-02 03:04:05.123456', '2026-01-02T03:04:05.123456+00:00'],
    ['2026-01-02 03:04:05', '2026-01-02T03:04:05+00:00'],
    ['2026-01-02T03:04:05.123Z', '2026-01-02T03:04:05.123+00:00'],
    ['2026-01-02T03:04:05Z', '2026-01-02T03:04:05+00:00'],
    ['2026-01-02T03:04:05+00:00', '2026-01-02T03:04:05+00:00'],
    ['2026-01-02 03:04:05.123456+00:00', '2026-01-02T03:04:05.123456+00:00'],
    ['  2026-01-02 03:04:05  ', '2026-01-02T03:04:05+00:00'],
  ])('%s -> %s', (input, expected) => {
    expect(normaliseTimestamp(input)).toBe(expected);
  });

  it.each<[string, string]>([
    ['2026-01-02T03:04:05+02:00', '2026-01-02T01:04:05.000+00:00'],
    ['2026-01-02 03:04:05-05:30', '2026-01-02T08:34:05.000+00:00'],
    ['2026-01-02T03:04:05+0200', '2026-01-02T01:04:05.000+00:00'],
    ['2026-01-02T00:30:00+01:00', '2026-01-01T23:30:00.000+00:00'],
  ])('converts an offset to UTC: %s -> %s', (input, expected) => {
    expect(normaliseTimestamp(input)).toBe(expected);
  });

  it.each([['garbage'], [''], ['2026-01-02'], ['03:04:05'], ['2026/01/02 03:04:05'], ['2026-01-02 03:04:05.1234567'], ['1767323045']])('refuses %j', (input) => {
    expect(normaliseTimestamp(input)).toBeNull();
  });

  it.each([
    ['2026-13-02 03:04:05'],
    ['2026-02-30 03:04:05'],
    ['2026-01-02 25:04:05'],
    ['2026-01-02T03:61:05Z'],
    ['2026-13-02T03:04:05+02:00'],
    ['2026-02-30T03:04:05+02:00'],
  ])('refuses the impossible date %j instead of passing it into a sample', (input) => {
    // Matching the pattern is not enough: month 13, February 30 or hour 25 are not
    // instants, and must give null (-> CUMULUS_COLLECTOR_BAD_TIMESTAMP), not a string
    // ClickHouse cannot read, nor a silently rolled-over date.
    expect(normaliseTimestamp(input)).toBeNull();
  });
});
