/**
 * How busy tenants are at a given time: a diurnal curve (low at 04:00, high mid-afternoon),
 * a weekly one (weekends quieter) and month-on-month growth. Multiplies a tenant's base
 * demand; 1.0 is a weekday afternoon at the start of the simulation.
 */
export interface LoadModel {
  /** Hour of the tenants' local day at UTC midnight (their timezone offset, hours). */
  utcOffsetHours: number;
  /** Demand at the quietest hour relative to the busiest. */
  nightFloor: number;
  weekendFactor: number;
  /** Growth per 30 days, e.g. 0.08 = 8% a month. */
  monthlyGrowth: number;
}

export const DEFAULT_LOAD_MODEL: LoadModel = { utcOffsetHours: 0, nightFloor: 0.35, weekendFactor: 0.6, monthlyGrowth: 0.08 };

const DAY_MS = 86_400_000;

/** Diurnal factor in [nightFloor, 1]: a cosine peaking at 14:00 local time. */
export function diurnal(model: LoadModel, atMs: number): number {
  const hour = (((atMs / 3_600_000 + model.utcOffsetHours) % 24) + 24) % 24;
  const wave = (1 + Math.cos(((hour - 14) / 24) * 2 * Math.PI)) / 2;
  return model.nightFloor + (1 - model.nightFloor) * wave;
}

export function weekly(model: LoadModel, atMs: number): number {
  const day = new Date(atMs + model.utcOffsetHours * 3_600_000).getUTCDay();
  return day === 0 || day === 6 ? model.weekendFactor : 1;
}

export function growth(model: LoadModel, atMs: number, startMs: number): number {
  return (1 + model.monthlyGrowth) ** ((atMs - startMs) / (30 * DAY_MS));
}

export function demand(model: LoadModel, atMs: number, startMs: number): number {
  return diurnal(model, atMs) * weekly(model, atMs) * growth(model, atMs, startMs);
}
