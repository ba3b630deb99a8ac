import { Decimal } from 'decimal.js';

/**
 * Money is exact: decimal.js with 40 significant digits, never binary floats.
 *
 * The rounding rule (docs/rating.md): a rated frame's cost is kept to FRAME_SCALE (9)
 * decimal places, half-even, as `rated_usage.cost` stores it. Amounts shown to people
 * (statement lines, totals, quotes) are rounded to the currency's minor unit
 * (CURRENCY_SCALE, 2) half-up, each line from the exact sum of its frames; a statement's
 * total is the sum of its rounded lines, so a printed statement always adds up.
 */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });
export type Money = InstanceType<typeof Money>;

export const FRAME_SCALE = 9;
export const CURRENCY_SCALE = 2;
export const DEFAULT_CURRENCY = 'EUR';

export const money = (value: Decimal.Value): Money => new Money(value);

/** A frame's cost as stored: FRAME_SCALE places, half-even, as fixed-point text. */
export const frameAmount = (value: Decimal.Value): string => (value instanceof Money ? value : new Money(value)).toFixed(FRAME_SCALE, Decimal.ROUND_HALF_EVEN);

/** An amount shown to people: CURRENCY_SCALE places, half-up, as fixed-point text. */
export const shownAmount = (value: Decimal.Value): string => new Money(value).toDecimalPlaces(CURRENCY_SCALE, Decimal.ROUND_HALF_UP).toFixed(CURRENCY_SCALE);

/** The exact sum of decimal texts. */
export const sumAmounts = (values: Iterable<Decimal.Value>): Money => {
  let total = new Money(0);
  for (const value of values) total = total.plus(value);
  return total;
};
