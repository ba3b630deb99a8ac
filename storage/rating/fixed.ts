/**
 * Exact fixed-point decimals on BigInt (`units` x 10^-`scale`), for the rating engine's hot
 * path: each frame costs a few products, sums and comparisons, and decimal.js spent most of
 * the engine's time on them. Nothing is rounded here: products keep every digit (the scale
 * grows), and the one rounding is FRAME_SCALE places half-even when the cost is written,
 * the rule of money.ts. Everything else about money stays on decimal.js.
 */

export interface Fixed {
  readonly units: bigint;
  readonly scale: number;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const POWERS: bigint[] = [1n];
/** 10^n, cached. */
export function pow10(n: number): bigint {
  for (let i = POWERS.length; i <= n; i++) POWERS.push((POWERS[i - 1] as bigint) * 10n);
  return POWERS[n] as bigint;
}

export const FIXED_ZERO: Fixed = { units: 0n, scale: 0 };
export const FIXED_ONE: Fixed = { units: 1n, scale: 0 };

/** Decimal text (`12`, `-0.5`, `.25`, `1e3`, `2.5E-4`) to Fixed; null when it is not one. */
export function parseFixed(text: string): Fixed | null {
  const m = DECIMAL.exec(text.trim());
  if (!m) return null;
  const [, sign, whole = '', fraction = '', exponent] = m;
  if (whole === '' && fraction === '') return null;
  let units = BigInt(`${whole}${fraction}` || '0');
  let scale = fraction.length - (exponent === undefined ? 0 : Number(exponent));
  if (scale < 0) {
    units *= pow10(-scale);
    scale = 0;
  }
  return { units: sign === '-' ? -units : units, scale };
}

export const fixedTimes = (a: Fixed, b: Fixed): Fixed => ({ units: a.units * b.units, scale: a.scale + b.scale });

export function fixedPlus(a: Fixed, b: Fixed): Fixed {
  if (a.scale === b.scale) return { units: a.units + b.units, scale: a.scale };
  return a.scale > b.scale ? { units: a.units + b.units * pow10(a.scale - b.scale), scale: a.scale } : { units: a.units * pow10(b.scale - a.scale) + b.units, scale: b.scale };
}

/** -1, 0 or 1 as a is below, equal to or above b. */
export function fixedCompare(a: Fixed, b: Fixed): -1 | 0 | 1 {
  const [x, y] = a.scale === b.scale ? [a.units, b.units] : a.scale > b.scale ? [a.units, b.units * pow10(a.scale - b.scale)] : [a.units * pow10(b.scale - a.scale), b.units];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Fixed-point text with exactly `places` decimals, rounded half-even (as decimal.js toFixed with ROUND_HALF_EVEN). */
export function fixedText(value: Fixed, places: number): string {
  const negative = value.units < 0n;
  let units = negative ? -value.units : value.units;
  if (value.scale <= places) units *= pow10(places - value.scale);
  else {
    const divisor = pow10(value.scale - places);
    const quotient = units / divisor;
    const twice = (units % divisor) * 2n;
    units = twice > divisor || (twice === divisor && quotient % 2n === 1n) ? quotient + 1n : quotient;
  }
  const digits = units.toString().padStart(places + 1, '0');
  const text = places === 0 ? digits : `${digits.slice(0, digits.length - places)}.${digits.slice(digits.length - places)}`;
  // As decimal.js: a negative value keeps its sign when it rounds to zero (-0.000000000).
  return negative ? `-${text}` : text;
}

/** Every digit, for handing over to decimal.js where a division is needed. */
export const fixedExact = (value: Fixed): string => fixedText(value, value.scale);
