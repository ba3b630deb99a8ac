/**
 * Aodh's time constraints (aodh/evaluator/__init__.py within_time_constraint): an alarm
 * with constraints is evaluated only while `now` lies in one of their windows, a window
 * being [a start of the five-field cron, read in the constraint's time zone, that start
 * plus `duration` seconds]. No constraints: always.
 */
import cron from 'node-cron';
import type { TimeConstraint } from '../../storage/index.ts';

const MINUTE_MS = 60_000;
/** Longer windows are read as this long: a year of minutes is the most a scan looks back. */
const MAX_SCANNED_DURATION_S = 366 * 86_400;

interface CronFields {
  minute: Set<number>;
  hour: Set<number>;
  dayOfMonth: Set<number>;
  month: Set<number>;
  dayOfWeek: Set<number>;
  /** Cron's rule: with both day fields restricted, a day matching either one matches. */
  eitherDay: boolean;
}

function cronFields(start: string): CronFields {
  const parsed = cron.parse(start);
  const dayOfMonth = new Set(parsed.dayOfMonth.map(Number));
  const dayOfWeek = new Set(parsed.dayOfWeek.map((d) => Number(d) % 7));
  return { minute: new Set(parsed.minute), hour: new Set(parsed.hour), dayOfMonth, month: new Set(parsed.month), dayOfWeek, eitherDay: dayOfMonth.size < 31 && dayOfWeek.size < 7 };
}

/** Minutes east of UTC of `zone` at `ms` ('' = UTC). */
function offsetMinutes(zone: string, ms: number, formats: Map<string, Intl.DateTimeFormat>): number {
  if (zone === '' || zone === 'UTC') return 0;
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    formats.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute));
  return Math.round((wall - Math.floor(ms / MINUTE_MS) * MINUTE_MS) / MINUTE_MS);
}

function matches(fields: CronFields, wallMs: number): boolean {
  const d = new Date(wallMs);
  if (!fields.minute.has(d.getUTCMinutes()) || !fields.hour.has(d.getUTCHours()) || !fields.month.has(d.getUTCMonth() + 1)) return false;
  const dom = fields.dayOfMonth.has(d.getUTCDate());
  const dow = fields.dayOfWeek.has(d.getUTCDay());
  return fields.eitherDay ? dom || dow : dom && dow;
}

/** Whether the window of `tc` holds `nowMs`: some start minute m <= now with now <= m + duration. */
export function withinTimeConstraint(tc: TimeConstraint, nowMs: number, formats = new Map<string, Intl.DateTimeFormat>()): boolean {
  const fields = cronFields(tc.start);
  const current = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  const earliest = nowMs - Math.min(tc.duration, MAX_SCANNED_DURATION_S) * 1000;
  // Time zone offsets change on quarter hours at most: one lookup per quarter hour scanned.
  let offsetKey = Number.NaN;
  let offset = 0;
  // The current minute always counts (Aodh's exact match: a start within the minute of now);
  // an earlier start m counts while now <= m + duration.
  for (let m = current; m === current || m >= earliest; m -= MINUTE_MS) {
    const key = Math.floor(m / (15 * MINUTE_MS));
    if (key !== offsetKey) {
      offsetKey = key;
      offset = offsetMinutes(tc.timezone, m, formats);
    }
    if (matches(fields, m + offset * MINUTE_MS)) return true;
  }
  return false;
}

/** Whether an alarm with these constraints is evaluated at `nowMs` (no constraints: yes). */
export function withinTimeConstraints(constraints: readonly TimeConstraint[], nowMs: number): boolean {
  if (constraints.length === 0) return true;
  const formats = new Map<string, Intl.DateTimeFormat>();
  return constraints.some((tc) => withinTimeConstraint(tc, nowMs, formats));
}
