/**
 * Timestamps as Ceilometer reads them: oslo's `timeutils.parse_isotime` (the `iso8601`
 * package, UTC when no zone is given) then `normalize_time` (to UTC). Everything that
 * package accepts is accepted here (`2026-01-02`, `20260102T1030`, `... 10:30:00,5+0100`),
 * and nothing more, so a value that fails a Ceilometer event fails ours.
 */

/** The iso8601 package's pattern; Python's `$` also matches before a final newline. */
const ISO8601 = new RegExp(
  '^(?<year>[0-9]{4})' +
    '(?:(?:-(?<monthdash>[0-9]{1,2})|(?<month>[0-9]{2})(?!\\n?$))' +
    '(?:(?:-(?<daydash>[0-9]{1,2})|(?<day>[0-9]{2}))' +
    '(?:[ T](?<hour>[0-9]{2})(?::?(?<minute>[0-9]{2}))?(?::?(?<second>[0-9]{1,2})(?:[.,](?<fraction>[0-9]+))?)?' +
    '(?<zone>Z|(?<sign>[-+])(?<zoneHour>[0-9]{2}):?(?<zoneMinute>[0-9]{2})?)?' +
    ')?)?)?(?=\\n?$)',
);

/** oslo's own notification timestamp, by far the most common form: read without the regular expression. */
const OSLO_NAIVE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:Z|\+00:00)?$/;

export interface UtcTime {
  /** ISO 8601 in UTC with microseconds: `2026-01-02T10:30:00.000000+00:00`. */
  iso: string;
  /** Seconds since the epoch (whole) and the microseconds past them, exact where a double would round. */
  seconds: number;
  micros: number;
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil), valid for any year. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function build(year: number, month: number, day: number, hour: number, minute: number, second: number, fraction: string | undefined, offsetMinutes: number): UtcTime | null {
  // datetime() refuses these; iso8601 turns that into a ParseError.
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return null;
  // Decimal('0.<digits>') * 1e6, truncated: digits past the sixth are dropped, not rounded.
  const micros = fraction === undefined ? 0 : Number(fraction.slice(0, 6).padEnd(6, '0'));
  const seconds = daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  const days = Math.floor(seconds / 86_400);
  const rest = seconds - days * 86_400;
  const [y, m, d] = offsetMinutes === 0 ? [year, month, day] : civilFromDays(days);
  // normalize_time subtracts the offset; past year 9999 or before year 1 Python overflows.
  if (y < 1 || y > 9999) return null;
  const iso = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}T${pad(Math.floor(rest / 3600), 2)}:${pad(Math.floor(rest / 60) % 60, 2)}:${pad(rest % 60, 2)}.${pad(micros, 6)}+00:00`;
  return { iso, seconds, micros };
}

/** parse_isotime + normalize_time; null where Python raises. Only a str is accepted, as iso8601 does. */
export function parseIsoTime(value: unknown): UtcTime | null {
  if (typeof value !== 'string') return null;
  const oslo = OSLO_NAIVE.exec(value);
  if (oslo) return build(Number(oslo[1]), Number(oslo[2]), Number(oslo[3]), Number(oslo[4]), Number(oslo[5]), Number(oslo[6]), oslo[7], 0);
  const match = ISO8601.exec(value);
  const g = match?.groups;
  if (!g) return null;
  let offsetMinutes = 0;
  if (g.sign !== undefined) {
    const magnitude = Number(g.zoneHour) * 60 + Number(g.zoneMinute ?? 0);
    // datetime.timezone takes only offsets strictly within a day.
    if (magnitude >= 24 * 60) return null;
    offsetMinutes = g.sign === '-' ? -magnitude : magnitude;
  }
  return build(
    Number(g.year),
    Number(g.month ?? g.monthdash ?? 1),
    Number(g.day ?? g.daydash ?? 1),
    Number(g.hour ?? 0),
    Number(g.minute ?? 0),
    Number(g.second ?? 0),
    g.fraction,
    offsetMinutes,
  );
}
