import cron, { type ScheduledTask } from 'node-cron';
import { ConfigError, errorMessage, type Clock, type ComponentTelemetry, type Lifecycle, type Logger } from '../../core/index.ts';
import { issueMonthStatements, monthOf, type ClickHouseDriver, type MonthIssue, type StatementMonth, type StatementStore } from '../../storage/index.ts';

/**
 * The monthly statement job: on its schedule (the 1st of each month, after the month
 * closed), issues the statement of every project with rated usage in the previous month
 * and records their numbers (storage/rating/statement-issue.ts, the path the API's
 * on-demand POST takes too, so a statement already rendered keeps its number). A run that
 * finds a statement changed by reprocessing issues its next revision. Experimental.
 */

/** 07:00 UTC on the 1st: an hour after the month closes (DEFAULT_STATEMENT_CLOSE_DELAY_MS). */
export const DEFAULT_STATEMENT_SCHEDULE = '0 7 1 * *';
export const DEFAULT_STATEMENT_TIMEZONE = 'UTC';

export interface StatementJobConfig {
  /** A cron expression (node-cron: 5 or 6 fields). */
  readonly schedule?: string;
  /** The IANA zone the schedule is read in. */
  readonly timezone?: string;
}

export interface StatementJobDeps {
  readonly store: ClickHouseDriver;
  readonly statements: StatementStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry: ComponentTelemetry;
}

export interface StatementJob extends Lifecycle {
  /** Issues the month's statements now (default: the month before the clock's). */
  run(month?: StatementMonth): Promise<MonthIssue>;
}

export function createStatementJob(config: StatementJobConfig, deps: StatementJobDeps): StatementJob {
  const schedule = config.schedule ?? DEFAULT_STATEMENT_SCHEDULE;
  const timezone = config.timezone ?? DEFAULT_STATEMENT_TIMEZONE;
  if (!cron.validate(schedule)) throw new ConfigError(`statements job: schedule must be a cron expression (e.g. "${DEFAULT_STATEMENT_SCHEDULE}"), got ${JSON.stringify(schedule)}`);
  const { logger, telemetry } = deps;
  let task: ScheduledTask | null = null;
  let running: Promise<unknown> = Promise.resolve();

  const run = async (month = monthOf(deps.clock.now(), -1)): Promise<MonthIssue> => {
    const startedMs = deps.clock.nowMs();
    const issue = await issueMonthStatements(deps, month, 'job');
    const issued = issue.statements.filter((s) => s.outcome === 'issued').length;
    telemetry.accepted(issued);
    telemetry.observeBatch(deps.clock.nowMs() - startedMs);
    logger.info({ month: issue.month, issued, unchanged: issue.statements.length - issued }, 'statements issued');
    return issue;
  };

  return {
    run,
    async start() {
      if (task) return;
      task = cron.schedule(
        schedule,
        () => {
          running = run().catch((err: unknown) => {
            telemetry.refused();
            logger.warn({ err: errorMessage(err) }, 'monthly statements failed; POST /rating/v1/statements/issue runs them again');
          });
          return running;
        },
        { timezone, noOverlap: true, name: 'rating-statements' },
      );
    },
    async stop() {
      const current = task;
      task = null;
      if (current) await current.destroy();
      // A run under way finishes: its numbers are given in one transaction each.
      await running;
    },
  };
}
