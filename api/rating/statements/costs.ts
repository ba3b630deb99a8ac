import {
  DEFAULT_CURRENCY,
  FRAME_SCALE,
  StatementError,
  money,
  monthOf,
  selectApplicationCosts,
  selectFirstRatedPeriod,
  selectRatedThrough,
  selectRunningCosts,
  shownAmount,
  sumAmounts,
  type ApplicationCostRow,
  type ClickHouseDriver,
  type StatementMonth,
} from '../../../storage/index.ts';

/** The projection's look-back: the average daily cost of the last 7 rated days. */
export const PROJECTION_WINDOW_DAYS = 7;
const DAY_MS = 86_400_000;

export const PROJECTION_METHOD =
  'end_of_month = month_to_date + window_cost x remaining / window, where window is the last 7 days of rated usage ending at rated_through (shorter for a project rated for less than 7 days), and remaining the time from rated_through to the end of the month; exact decimals, rounded half-up to 2 places only for display';

const iso = (stored: string): Date => new Date(`${stored.replace(' ', 'T')}Z`);
const exact = (value: ReturnType<typeof money>) => value.toDecimalPlaces(FRAME_SCALE).toFixed(FRAME_SCALE);
const days = (ms: number) => money(ms).div(DAY_MS);

function oneCurrency(rows: ReadonlyArray<{ currency: string }>, what: string): string {
  const currencies = [...new Set(rows.map((r) => r.currency))].sort();
  if (currencies.length > 1) throw new StatementError('CUMULUS_RATING_MIXED_CURRENCY', 409, `${what} is rated in ${currencies.join(', ')}; costs are only summed in one currency.`);
  return currencies[0] ?? DEFAULT_CURRENCY;
}

/**
 * A project's month-to-date cost and its projected end-of-month cost, as of `now`:
 *
 * 1. rated_through: the end of the latest rated period of any project, not after now
 *    (rating runs behind the clock; usage not rated yet is neither counted nor projected
 *    as zero);
 * 2. month_to_date: the exact cost of the project's frames from the month's start to
 *    rated_through;
 * 3. the window: the 7 days before rated_through, starting later when the project's first
 *    rated frame is younger; its exact cost over its length is the daily average;
 * 4. end_of_month = month_to_date + window_cost x (month end - rated_through) / window
 *    length: one division, so the projection is exact to 40 significant digits.
 */
export async function runningCosts(store: ClickHouseDriver, projectId: string, now: Date) {
  const month: StatementMonth = monthOf(now);
  const windowMs = PROJECTION_WINDOW_DAYS * DAY_MS;
  // 1. how far rating has got
  const since = new Date(Math.min(month.start.getTime(), now.getTime() - windowMs) - DAY_MS);
  const [through] = await store.query<{ rated_through: string }>(selectRatedThrough(since, now));
  const [first] = await store.query<{ first_start: string }>(selectFirstRatedPeriod(projectId));
  const ratedThrough = through?.rated_through ? new Date(Math.min(iso(through.rated_through).getTime(), now.getTime())) : null;
  const firstStart = first?.first_start ? iso(first.first_start) : null;
  const end = ratedThrough ?? month.start;
  // 3. the window, clipped to the project's rated life
  const windowStart = new Date(Math.max(end.getTime() - windowMs, firstStart?.getTime() ?? end.getTime()));
  const windowLengthMs = Math.max(0, end.getTime() - windowStart.getTime());
  // 2. the sums
  const mtdEnd = new Date(Math.max(end.getTime(), month.start.getTime()));
  const rows = await store.query<{ currency: string; month_to_date: string; window_cost: string }>(selectRunningCosts(projectId, { start: month.start, end: mtdEnd }, { start: windowStart, end }));
  const currency = oneCurrency(rows, `The usage of project ${projectId}`);
  const monthToDate = sumAmounts(rows.map((r) => r.month_to_date));
  const windowCost = sumAmounts(rows.map((r) => r.window_cost));
  // 4. the projection
  const remainingMs = month.end.getTime() - mtdEnd.getTime();
  const projected = windowLengthMs === 0 ? monthToDate : monthToDate.plus(windowCost.times(remainingMs).div(windowLengthMs));
  const dailyAverage = windowLengthMs === 0 ? money(0) : windowCost.times(DAY_MS).div(windowLengthMs);
  return {
    project_id: projectId,
    currency,
    month: month.month,
    as_of: now.toISOString(),
    rated_through: ratedThrough?.toISOString() ?? null,
    month_to_date: shownAmount(monthToDate),
    month_to_date_exact: exact(monthToDate),
    projection: {
      method: PROJECTION_METHOD,
      window: { start: windowStart.toISOString(), end: end.toISOString(), days: days(windowLengthMs).toFixed() },
      window_cost: exact(windowCost),
      daily_average: exact(dailyAverage),
      remaining_days: days(remainingMs).toFixed(),
      end_of_month: shownAmount(projected),
      end_of_month_exact: exact(projected),
    },
  };
}

/** What `by` groups on: `stack` is the Heat stack (`stack_id`), `tag:<name>` an operator's tag on the resources. */
export function applicationKey(by: string): string {
  return by === 'stack' ? 'stack_id' : by;
}

/**
 * Cost per application in a month: per application and service, the exact sum rounded
 * (the statement's rule); an application's total is the sum of its rounded services, the
 * grand total the sum of the applications'. Frames without the key are `application: null`.
 */
export async function applicationCosts(store: ClickHouseDriver, projectIds: readonly string[] | null, month: StatementMonth, by: string) {
  const key = applicationKey(by);
  const rows = await store.query<ApplicationCostRow>(selectApplicationCosts({ projectIds }, month, key));
  const currency = oneCurrency(rows, `The usage in ${month.month}`);
  const groups = new Map<string, Array<{ service: string; amount: string; exact_amount: string }>>();
  for (const row of rows) {
    const services = groups.get(row.application) ?? [];
    services.push({ service: row.service, amount: shownAmount(row.cost), exact_amount: exact(money(row.cost)) });
    groups.set(row.application, services);
  }
  const applications = [...groups.entries()]
    .map(([application, services]) => ({ application: application === '' ? null : application, services, total: sumAmounts(services.map((s) => s.amount)).toFixed(2) }))
    // Named applications by id, the unassigned rest last.
    .sort((a, b) => (a.application === null ? 1 : b.application === null ? -1 : a.application < b.application ? -1 : a.application > b.application ? 1 : 0));
  return {
    month: month.month,
    by,
    key,
    project_id: projectIds?.length === 1 ? projectIds[0] : null,
    currency,
    applications,
    total: sumAmounts(applications.map((a) => a.total)).toFixed(2),
  };
}
