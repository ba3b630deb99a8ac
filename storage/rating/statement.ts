/**
 * Statements: what a project (or a domain's projects) owes for one calendar month (UTC),
 * built from `rated_usage`, numbered when issued. Shared by the API (rendering, on demand)
 * and the pipeline's monthly job. Stable model; the JSON form is what the API answers.
 *
 * Money follows ./money.ts: each line's amount is its exact frame sum rounded to the
 * currency's minor unit (half-up); a service's total is the sum of its rounded lines, and
 * the statement's total the sum of the service totals, so a printed statement adds up.
 */
import { createHash } from 'node:crypto';
import { CumulusError } from '../../core/index.ts';
import type { ClickHouseDriver } from '../driver.ts';
import { selectDailyCosts, selectStatementLines, type DailyCostRow, type RatedRange, type StatementLineRow } from '../queries/statements.ts';
import { DEFAULT_CURRENCY, money, shownAmount, sumAmounts } from './money.ts';

/** A month's statements are issued from this long after it ends (late frames get rated first); before, they are drafts. */
export const DEFAULT_STATEMENT_CLOSE_DELAY_MS = 6 * 3_600_000;

export const STATEMENT_ROUNDING_RULE =
  "Each line's amount is the exact sum of its rated frames rounded half-up to 2 decimal places; a service's total is the sum of its rounded lines; the statement's total is the sum of the service totals.";

/** A calendar month in UTC: [start, end). */
export interface StatementMonth extends RatedRange {
  /** `YYYY-MM`. */
  readonly month: string;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** `YYYY-MM` as a month, or null when it is not one. */
export function parseMonth(text: string): StatementMonth | null {
  const m = MONTH.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  const index = Number(m[2]) - 1;
  return { month: text, start: new Date(Date.UTC(year, index, 1)), end: new Date(Date.UTC(year, index + 1, 1)) };
}

/** The month `date` falls in (UTC); `offset` months later (negative: earlier). */
export function monthOf(date: Date, offset = 0): StatementMonth {
  const start = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1));
  return parseMonth(`${String(start.getUTCFullYear()).padStart(4, '0')}-${String(start.getUTCMonth() + 1).padStart(2, '0')}`) as StatementMonth;
}

/** Whose statement: one project, or a domain's projects (listed, since the usage data does not say a project's domain). */
export interface StatementScope {
  readonly type: 'project' | 'domain';
  readonly id: string;
  /** Sorted, unique; `[id]` for a project. */
  readonly projectIds: readonly string[];
}

export const projectScope = (projectId: string): StatementScope => ({ type: 'project', id: projectId, projectIds: [projectId] });
export const domainScope = (domainId: string, projectIds: readonly string[]): StatementScope => ({ type: 'domain', id: domainId, projectIds: [...new Set(projectIds)].sort() });

export interface StatementLine {
  readonly project_id: string;
  readonly service: string;
  readonly resource_id: string;
  readonly resource_type: string;
  /** From the resource's metadata (display_name, else name); null when absent. */
  readonly display_name: string | null;
  /** Exact decimal text, in `unit`. */
  readonly quantity: string;
  readonly unit: string;
  /** Exact decimal text, per `unit`. */
  readonly unit_price: string;
  /** Rounded to the minor unit: what is owed for this line. */
  readonly amount: string;
  /** The exact sum of the line's frames (9 decimal places, as rated). */
  readonly exact_amount: string;
  /** ISO 8601 (UTC): the first frame's start and the last frame's end. */
  readonly from: string;
  readonly to: string;
}

export interface StatementService {
  readonly service: string;
  readonly lines: readonly StatementLine[];
  /** Sum of the rounded lines. */
  readonly total: string;
}

/** What a statement says: the digest covers exactly this, so the same content keeps its number. */
export interface StatementContent {
  readonly scope: { readonly type: 'project' | 'domain'; readonly id: string; readonly project_ids: readonly string[] };
  readonly period: { readonly month: string; readonly start: string; readonly end: string };
  readonly currency: string;
  readonly services: readonly StatementService[];
  readonly total: string;
  /** Cost per UTC day, each rounded from its exact sum (a chart, not a sum to add up). */
  readonly daily: ReadonlyArray<{ readonly date: string; readonly amount: string }>;
}

/** A statement as rendered: its content, its number (null for a draft) and when it was issued. */
export interface Statement extends StatementContent {
  readonly number: string | null;
  readonly revision: number | null;
  /** `draft` until the month is closed (it ended DEFAULT_STATEMENT_CLOSE_DELAY_MS ago); then `issued`. */
  readonly status: 'draft' | 'issued';
  readonly issued_at: string | null;
  /** The previous revision's number when this one re-issues the statement after a change. */
  readonly supersedes: string | null;
  readonly rounding: string;
}

export class StatementError extends CumulusError {
  constructor(code: string, httpStatus: number, message: string) {
    super(code, message, { httpStatus });
    this.name = 'StatementError';
  }
}

const iso = (stored: string): string => `${stored.replace(' ', 'T')}Z`;
const plain = (value: string): string => money(value).toFixed();

/** The statement's content from its rows (pure: the queries' answers in, the model out). */
export function buildStatementContent(scope: StatementScope, month: StatementMonth, rows: readonly StatementLineRow[], daily: readonly DailyCostRow[]): StatementContent {
  const currencies = [...new Set([...rows.map((r) => r.currency), ...daily.map((d) => d.currency)])].sort();
  if (currencies.length > 1) {
    throw new StatementError('CUMULUS_RATING_MIXED_CURRENCY', 409, `A statement is in one currency; the rated usage of ${scope.type} ${scope.id} in ${month.month} is in ${currencies.join(', ')}. Re-rate it in one currency.`);
  }
  const byService = new Map<string, StatementLine[]>();
  for (const row of rows) {
    const line: StatementLine = {
      project_id: row.project_id,
      service: row.service,
      resource_id: row.resource_id,
      resource_type: row.resource_type,
      display_name: row.display_name === '' ? null : row.display_name,
      quantity: plain(row.quantity),
      unit: row.unit,
      unit_price: plain(row.price),
      amount: shownAmount(row.cost),
      exact_amount: money(row.cost).toFixed(9),
      from: iso(row.first_start),
      to: iso(row.last_end),
    };
    const lines = byService.get(row.service) ?? [];
    lines.push(line);
    byService.set(row.service, lines);
  }
  const services = [...byService.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([service, lines]) => ({ service, lines: lines.sort(compareLines), total: sumAmounts(lines.map((l) => l.amount)).toFixed(2) }));
  return {
    scope: { type: scope.type, id: scope.id, project_ids: [...scope.projectIds] },
    period: { month: month.month, start: month.start.toISOString(), end: month.end.toISOString() },
    currency: currencies[0] ?? DEFAULT_CURRENCY,
    services,
    total: sumAmounts(services.map((s) => s.total)).toFixed(2),
    daily: daily.map((d) => ({ date: d.day, amount: shownAmount(d.cost) })),
  };
}

function compareLines(a: StatementLine, b: StatementLine): number {
  const keys: Array<keyof StatementLine> = ['project_id', 'resource_id', 'from', 'unit_price', 'unit'];
  for (const key of keys) {
    const x = String(a[key]);
    const y = String(b[key]);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** SHA-256 of the content as canonical JSON (keys sorted): equal content, equal digest. */
export function statementDigest(content: StatementContent): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
    return value;
  };
  return createHash('sha256').update(JSON.stringify(canonical(content))).digest('hex');
}

/** Reads the rated usage of the scope in the month and builds its content. */
export async function loadStatementContent(store: ClickHouseDriver, scope: StatementScope, month: StatementMonth): Promise<StatementContent> {
  const rated = { projectIds: scope.projectIds };
  const [rows, daily] = await Promise.all([store.query<StatementLineRow>(selectStatementLines(rated, month)), store.query<DailyCostRow>(selectDailyCosts(rated, month))]);
  return buildStatementContent(scope, month, rows, daily);
}

