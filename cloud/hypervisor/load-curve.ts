/**
 * The shape every guest's load follows over the week: a diurnal curve (peak at 14:00 local,
 * trough at 04:00) times a weekday factor (weekends lower). Piecewise linear within a day and
 * constant per day, so its integral has a closed form and counters built on it give the
 * same deltas however often they are polled.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;

/** (hour of the local day, factor); linear in between; 0 h and 24 h match so midnight is continuous. */
export const DIURNAL_KNOTS: ReadonlyArray<readonly [number, number]> = [
  [0, 0.42],
  [4, 0.25],
  [8, 0.55],
  [11, 0.9],
  [14, 1],
  [17, 0.88],
  [20, 0.7],
  [24, 0.42],
];

/** Monday first: business days at full load, weekends lower. */
export const WEEKDAY_FACTORS: readonly number[] = [1, 1, 1, 1, 1, 0.65, 0.6];

/** 1970-01-01 was a Thursday: day 0 is index 3 of a Monday-first week. */
const EPOCH_WEEKDAY = 3;

export class LoadCurve {
  /** The curve's lowest value (weekend trough): guests size their ripple from it. */
  static readonly MIN = Math.min(...WEEKDAY_FACTORS) * Math.min(...DIURNAL_KNOTS.map(([, v]) => v));
  /** The curve's highest value (weekday peak). */
  static readonly MAX = Math.max(...WEEKDAY_FACTORS) * Math.max(...DIURNAL_KNOTS.map(([, v]) => v));

  private readonly offsetMs: number;
  private readonly knotMs = DIURNAL_KNOTS.map(([hour]) => hour * HOUR_MS);
  private readonly knotValue = DIURNAL_KNOTS.map(([, value]) => value);
  /** The day's integral up to each knot (factor x ms). */
  private readonly knotIntegral: number[];
  /** The week's integral up to the start of each weekday. */
  private readonly weekdayIntegral: number[];
  private readonly weekIntegral: number;

  constructor(utcOffsetMinutes = 0) {
    this.offsetMs = utcOffsetMinutes * 60_000;
    this.knotIntegral = [0];
    for (let i = 1; i < this.knotMs.length; i++) {
      const width = (this.knotMs[i] as number) - (this.knotMs[i - 1] as number);
      this.knotIntegral.push((this.knotIntegral[i - 1] as number) + (width * ((this.knotValue[i] as number) + (this.knotValue[i - 1] as number))) / 2);
    }
    const day = this.knotIntegral[this.knotIntegral.length - 1] as number;
    this.weekdayIntegral = [0];
    for (let d = 1; d <= 7; d++) this.weekdayIntegral.push((this.weekdayIntegral[d - 1] as number) + (WEEKDAY_FACTORS[d - 1] as number) * day);
    this.weekIntegral = this.weekdayIntegral[7] as number;
  }

  /** The factor at an instant (epoch ms). */
  at(tMs: number): number {
    const { weekday, msOfDay } = this.position(tMs);
    return (WEEKDAY_FACTORS[weekday] as number) * this.diurnal(msOfDay);
  }

  /** The integral of the factor over [aMs, bMs], in factor x ms; exact (closed form). */
  integral(aMs: number, bMs: number): number {
    const a = this.position(aMs);
    const b = this.position(bMs);
    // Whole weeks apart times the week's integral, plus the difference within the week:
    // both terms stay small, so long spans keep their precision.
    return (b.week - a.week) * this.weekIntegral + (this.withinWeek(b) - this.withinWeek(a));
  }

  /** Which local week (counted from the epoch's), weekday and time of day an instant falls on. */
  private position(tMs: number): { week: number; weekday: number; msOfDay: number } {
    const local = tMs + this.offsetMs;
    const day = Math.floor(local / DAY_MS);
    const week = Math.floor((day + EPOCH_WEEKDAY) / 7);
    const weekday = day + EPOCH_WEEKDAY - week * 7;
    return { week, weekday, msOfDay: local - day * DAY_MS };
  }

  private withinWeek(p: { weekday: number; msOfDay: number }): number {
    return (this.weekdayIntegral[p.weekday] as number) + (WEEKDAY_FACTORS[p.weekday] as number) * this.diurnalIntegral(p.msOfDay);
  }

  private segment(msOfDay: number): number {
    let i = 0;
    while (i < this.knotMs.length - 2 && msOfDay >= (this.knotMs[i + 1] as number)) i++;
    return i;
  }

  private diurnal(msOfDay: number): number {
    const i = this.segment(msOfDay);
    const x0 = this.knotMs[i] as number;
    const v0 = this.knotValue[i] as number;
    const slope = ((this.knotValue[i + 1] as number) - v0) / ((this.knotMs[i + 1] as number) - x0);
    return v0 + slope * (msOfDay - x0);
  }

  /** The day's integral from midnight to `msOfDay`: the knots' sum plus a trapezoid. */
  private diurnalIntegral(msOfDay: number): number {
    const i = this.segment(msOfDay);
    const x0 = this.knotMs[i] as number;
    return (this.knotIntegral[i] as number) + ((msOfDay - x0) * ((this.knotValue[i] as number) + this.diurnal(msOfDay))) / 2;
  }
}
