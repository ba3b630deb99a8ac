import type { TraitType } from '../../core/index.ts';
import type { EventRow, TraitValueRow } from '../../storage/index.ts';

/**
 * Panko's wire forms. Panko (WSME) prints every trait value as text (`str()` of the
 * Python value), datetimes as naive UTC `isoformat()` and trait types by their long names.
 */

/** A trait as Panko answers it: the value always a string. */
export interface PankoTrait {
  name: string;
  type: PankoTraitType;
  value: string;
}

export interface PankoEvent {
  message_id: string;
  event_type: string;
  generated: string;
  traits: PankoTrait[];
  raw: Record<string, unknown>;
}

/** Panko's names of the trait types (`int` is `integer` on its API). */
export const PANKO_TRAIT_TYPES = ['string', 'integer', 'float', 'datetime'] as const;
export type PankoTraitType = (typeof PANKO_TRAIT_TYPES)[number];

export function pankoTraitType(type: TraitType): PankoTraitType {
  return type === 'int' ? 'integer' : type;
}

export function storedTraitType(type: PankoTraitType): TraitType {
  return type === 'integer' ? 'int' : type;
}

/**
 * A stored DateTime64 (`2026-01-01 10:00:00.123456`, UTC) as Python's naive
 * `datetime.isoformat()`: `2026-01-01T10:00:00.123456`, the fraction only when not zero.
 */
export function pankoTime(stored: string): string {
  const [date, time = '00:00:00'] = stored.split(/[ T]/);
  const [clock, fraction = ''] = time.split('.');
  const micros = fraction.padEnd(6, '0').slice(0, 6);
  return `${date}T${clock}${/^0*$/.test(micros) ? '' : `.${micros}`}`;
}

/**
 * Python's `str(float)` (`repr`): the shortest digits that read back to the same double,
 * fixed notation for exponents -4..15 (`1.0`, `0.0001`, `200.123456`), scientific outside
 * (`1e-05`, `1e+16`, `1.5e+300`), and `nan`, `inf`.
 */
export function pythonFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  // toExponential() without digits gives the shortest round-trip digits, as repr does.
  const [mantissa, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const rest = digits.slice(1);
    return `${sign}${digits[0]}${rest ? `.${rest}` : ''}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction || '0'}`;
}

/** A stored trait value (any of the four maps) as Panko prints it. */
export function pankoTraitValue(type: TraitType, value: string | number): string {
  switch (type) {
    case 'string':
      return String(value);
    case 'int':
      // Int64 arrives as a decimal string: kept exact.
      return String(value);
    case 'float':
      return pythonFloat(Number(value));
    case 'datetime':
      return pankoTime(String(value));
  }
}

/** An event row as Panko's Event: traits grouped by type (string, integer, float, datetime). */
export function pankoEvent(row: EventRow): PankoEvent {
  const traits: PankoTrait[] = [];
  const add = (type: TraitType, values: Record<string, string | number>) => {
    for (const [name, value] of Object.entries(values)) traits.push({ name, type: pankoTraitType(type), value: pankoTraitValue(type, value) });
  };
  add('string', row.traits_string);
  add('int', row.traits_int);
  add('float', row.traits_float);
  add('datetime', row.traits_datetime);
  let raw: Record<string, unknown> = {};
  if (row.raw !== '') raw = JSON.parse(row.raw) as Record<string, unknown>;
  return { message_id: row.message_id, event_type: row.event_type, generated: pankoTime(row.generated), traits, raw };
}

export function pankoTraitFromRow(row: TraitValueRow): PankoTrait {
  return { name: row.name, type: pankoTraitType(row.type), value: pankoTraitValue(row.type, row.value) };
}
