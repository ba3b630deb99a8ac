import { describe, expect, it } from 'vitest';
import { cadfId, cadfTimestamp, maskToken, outcomeOfStatus, resourceUuid } from './cadf.ts';

describe('CADF primitives, as pycadf and Keystone make them', () => {
  it('masks like pycadf mask_value, with Python rounding (values checked against CPython)', () => {
    expect(maskToken('token')).toBe('t xxxxxxxx n');
    // 20 * 0.125 = 2.5 rounds to 2 in Python, 3 with Math.round.
    expect(maskToken('abcdefghijklmnopqrst')).toBe('ab xxxxxxxx st');
    expect(maskToken('abcdefghijkl')).toBe('ab xxxxxxxx kl');
    expect(maskToken('x'.repeat(300))).toBe(`${'x'.repeat(32)} xxxxxxxx ${'x'.repeat(32)}`);
    expect(maskToken('')).toBe(' xxxxxxxx ');
  });

  it('never shows a short token whole (pycadf would: value[-0:])', () => {
    expect(maskToken('abcd')).toBe(' xxxxxxxx ');
    expect(maskToken('abc')).not.toContain('abc');
  });

  it('leaves out the middle of a Keystone-sized token', () => {
    const token = 'Q2hlY2tpbmcgdGhhdCB0aGUgbWlkZGxlIGlzIGdvbmUgZm9yIGdvb2Q';
    const masked = maskToken(token);
    expect(masked).toBe(`${token.slice(0, 7)} xxxxxxxx ${token.slice(-7)}`);
    expect(masked).not.toContain(token.slice(7, -7));
  });

  it('formats eventTime as pycadf does (%Y-%m-%dT%H:%M:%S.%f%z, UTC)', () => {
    expect(cadfTimestamp(new Date('2026-01-01T10:00:00.123Z'))).toBe('2026-01-01T10:00:00.123000+0000');
    expect(cadfTimestamp(new Date('2026-01-01T10:00:00Z'))).toBe('2026-01-01T10:00:00.000000+0000');
  });

  it('generates version-5 UUIDs like pycadf generate_uuid', () => {
    const ids = new Set(Array.from({ length: 50 }, () => cadfId()));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("keeps Keystone ids and hashes other ids like keystone's resource_uuid (checked against CPython)", () => {
    expect(resourceUuid('0123456789abcdef0123456789abcdef')).toBe('0123456789abcdef0123456789abcdef');
    expect(resourceUuid('c8e6c1f4-8d5c-4f4e-9d54-0d1b4a8f8f11')).toBe('c8e6c1f4-8d5c-4f4e-9d54-0d1b4a8f8f11');
    expect(resourceUuid('admin')).toBe('db03747ae9c554d097b5e8c328115940');
    expect(() => resourceUuid('x'.repeat(65))).toThrow(RangeError);
  });

  it('counts 2xx and 3xx as success, everything else as failure', () => {
    expect([200, 202, 204, 302, 399].map(outcomeOfStatus)).toEqual(['success', 'success', 'success', 'success', 'success']);
    expect([100, 400, 401, 404, 500].map(outcomeOfStatus)).toEqual(['failure', 'failure', 'failure', 'failure', 'failure']);
  });
});
