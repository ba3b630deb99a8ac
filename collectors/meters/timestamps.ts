/**
 * Ceilometer reads every time with oslo.utils' parse_isotime, i.e. the iso8601 library:
 * this is that library's grammar (dates alone, basic and extended forms, a space or `T`,
 * `,` or `.` before the fraction, a missing zone meaning UTC) with Python's datetime checks.
 */

// `$` in Python also matches before a final newline; (?![\s\S]) is JavaScript's true end.
const END = String.raw`(?=\n?(?![\s\S]))`;
const ISO8601 = new RegExp(
  String.raw`^(?<year>[0-9]{4})(((-(?<monthdash>[0-9]{1,2}))|(?<month>[0-9]{2})(?!${END}))(((-(?<daydash>[0-9]{1,2}))|(?<day>[0-9]{2}))` +
    String.raw`(((?<separator>[ T])(?<hour>[0-9]{2})(:{0,1}(?<minute>[0-9]{2})){0,1}(:{0,1}(?<second>[0-9]{1,2})([.,](?<fraction>[0-9]+)){0,1}){0,1}` +
    String.raw`(?<timezone>Z|((?<sign>[-+])(?<tzhour>[0-9]{2}):{0,1}(?<tzminute>[0-9]{2}){0,1})){0,1}){0,1})){0,1}){0,1}${END}`,
);
// The forms OpenStack services write (oslo's `YYYY-MM-DD HH:MM:SS.ffffff`, isoformat() in UTC),
// read without the general grammar; any string this matches, the grammar reads the same way.
const COMMON = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:Z|\+00:00)?$/;

/** An instant to the microsecond, as Python's aware datetime holds it. */
export interface Instant {
  /** Whole seconds since the epoch (UTC). */
  seconds: number;
  /** 0 to 999,999. */
  micro: number;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leap = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
const daysIn = (year: number, month: number) => (month === 2 && leap(year) ? 29 : (DAYS[month - 1] as number));

/** int(Decimal('0.' + digits) * 1000000): the first six digits, the rest cut off. */
const microseconds = (fraction: string | undefined) => (fraction ? Number(`${fraction}000000`.slice(0, 6)) : 0);

function instant(year: number, month: number, day: number, hour: number, minute: number, second: number, micro: number, offsetMinutes: number): Instant | undefined {
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, 0);
  return { seconds: date.getTime() / 1000, micro };
}

/** `timeutils.parse_isotime(text)`; undefined where it raises (not a string, or not a valid time). */
export function parseIsoTime(text: unknown): Instant | undefined {
  if (typeof text !== 'string') return undefined;
  const c = COMMON.exec(text);
  if (c) return instant(Number(c[1]), Number(c[2]), Number(c[3]), Number(c[4]), Number(c[5]), Number(c[6]), microseconds(c[7]), 0);
  const g = ISO8601.exec(text)?.groups;
  if (!g) return undefined;
  const int = (v: string | undefined, fallback: number) => (v === undefined ? fallback : Number(v));
  let offsetMinutes = 0;
  if (g.timezone !== undefined && g.timezone !== 'Z') {
    offsetMinutes = int(g.tzhour, 0) * 60 + int(g.tzminute, 0);
    // datetime.timezone takes offsets strictly within a day.
    if (offsetMinutes >= 24 * 60) return undefined;
    if (g.sign === '-') offsetMinutes = -offsetMinutes;
  }
  return instant(int(g.year, 0), int(g.month ?? g.monthdash, 1), int(g.day ?? g.daydash, 1), int(g.hour, 0), int(g.minute, 0), int(g.second, 0), microseconds(g.fraction), offsetMinutes);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * The instant as Python's `isoformat()` writes a UTC datetime: microseconds only when not
 * zero, and an explicit `+00:00`.
 */
export function formatIsoTime(at: Instant): string {
  const date = new Date(at.seconds * 1000);
  const base = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `${base}${at.micro === 0 ? '' : `.${pad(at.micro, 6)}`}+00:00`;
}

/** `abs((end - start).total_seconds())`, as Ceilometer's timedelta plugin computes it. */
export function secondsBetween(start: Instant, end: Instant): number {
  // In whole microseconds first, then one division, as timedelta.total_seconds() does.
  return Math.abs((end.seconds - start.seconds) * 1_000_000 + (end.micro - start.micro)) / 1e6;
}
