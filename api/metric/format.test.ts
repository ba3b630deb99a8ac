import { describe, expect, it } from 'vitest';
import { isoBucket } from './format.ts';

describe('isoBucket', () => {
  it("writes Gnocchi's form: seconds with +00:00, milliseconds only when there are some, the same text read after read", () => {
    expect(isoBucket(Date.UTC(2026, 10, 24, 20, 5))).toBe('2026-11-24T20:05:00+00:00');
    expect(isoBucket(Date.UTC(2026, 10, 24, 20, 5, 1, 250))).toBe('2026-11-24T20:05:01.250+00:00');
    expect(isoBucket(Date.UTC(2026, 10, 24, 20, 5))).toBe('2026-11-24T20:05:00+00:00');
    expect(isoBucket(-500)).toBe('1969-12-31T23:59:59.500+00:00');
    expect(isoBucket(0)).toBe('1970-01-01T00:00:00+00:00');
    // Past 9999 JavaScript writes the extended year form.
    expect(isoBucket(Date.UTC(10000, 0, 1))).toBe('+010000-01-01T00:00:00+00:00');
  });
});
