import { describe, expect, it } from 'vitest';
import type { TimeConstraint } from '../../storage/index.ts';
import { withinTimeConstraints } from './time-constraints.ts';

const tc = (start: string, duration: number, timezone = ''): TimeConstraint => ({ name: `${start}@${timezone}`, description: '', start, duration, timezone });
const at = (iso: string) => Date.parse(iso);

describe('time constraints (Aodh windows)', () => {
  it('no constraints: always evaluated', () => {
    expect(withinTimeConstraints([], at('2026-11-24T03:00:00Z'))).toBe(true);
  });

  it('a UTC window opens at the cron start and stays open duration seconds, both ends included', () => {
    const nightly = [tc('30 2 * * *', 600)];
    expect(withinTimeConstraints(nightly, at('2026-11-24T02:29:59Z'))).toBe(false);
    expect(withinTimeConstraints(nightly, at('2026-11-24T02:30:30Z'))).toBe(true);
    expect(withinTimeConstraints(nightly, at('2026-11-24T02:40:00Z'))).toBe(true);
    expect(withinTimeConstraints(nightly, at('2026-11-24T02:40:01Z'))).toBe(false);
  });

  it('reads the start in the constraint time zone, daylight saving included', () => {
    // Office hours in Ljubljana: 09:00-17:00 local, Monday to Friday. 2026-11-23 is a Monday (CET = UTC+1).
    const office = [tc('0 9 * * 1-5', 8 * 3600, 'Europe/Ljubljana')];
    expect(withinTimeConstraints(office, at('2026-11-23T07:59:00Z'))).toBe(false);
    expect(withinTimeConstraints(office, at('2026-11-23T08:00:00Z'))).toBe(true);
    expect(withinTimeConstraints(office, at('2026-11-23T16:00:00Z'))).toBe(true);
    expect(withinTimeConstraints(office, at('2026-11-23T16:00:01Z'))).toBe(false);
    // Saturday 2026-11-28: closed.
    expect(withinTimeConstraints(office, at('2026-11-28T10:00:00Z'))).toBe(false);
    // Summer (CEST = UTC+2): Monday 2026-07-06, 09:00 local is 07:00 UTC.
    expect(withinTimeConstraints(office, at('2026-07-06T06:59:00Z'))).toBe(false);
    expect(withinTimeConstraints(office, at('2026-07-06T07:00:00Z'))).toBe(true);
    expect(withinTimeConstraints(office, at('2026-07-06T14:30:00Z'))).toBe(true);
    expect(withinTimeConstraints(office, at('2026-07-06T15:30:00Z'))).toBe(false); // 17:30 CEST
  });

  it('a window may span midnight; any of several constraints is enough', () => {
    const late = tc('0 23 * * *', 2 * 3600, 'Asia/Tokyo'); // 23:00-01:00 Tokyo = 14:00-16:00 UTC
    const early = tc('0 6 * * *', 600);
    expect(withinTimeConstraints([late, early], at('2026-11-24T15:30:00Z'))).toBe(true);
    expect(withinTimeConstraints([late, early], at('2026-11-24T06:05:00Z'))).toBe(true);
    expect(withinTimeConstraints([late, early], at('2026-11-24T12:00:00Z'))).toBe(false);
  });

  it('with both day fields restricted, either day matches (cron rule)', () => {
    const firstOrMonday = [tc('0 0 1 * 1', 3600)];
    expect(withinTimeConstraints(firstOrMonday, at('2026-12-01T00:30:00Z'))).toBe(true); // a Tuesday, the 1st
    expect(withinTimeConstraints(firstOrMonday, at('2026-11-23T00:30:00Z'))).toBe(true); // a Monday
    expect(withinTimeConstraints(firstOrMonday, at('2026-11-24T00:30:00Z'))).toBe(false);
  });
});
