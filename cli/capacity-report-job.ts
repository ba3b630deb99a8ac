import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import type { CapacityFactorsInput } from '../api/capacity/index.ts';
import { capacityReportCsv, capacityReportHtml, loadCapacityReport } from '../api/capacity/report/index.ts';
import { createPdfRenderer, DEFAULT_CHROMIUM_PATH } from '../api/pdf.ts';
import { ConfigError, errorMessage, type Clock, type ComponentTelemetry, type Lifecycle, type Logger } from '../core/index.ts';
import type { ClickHouseDriver } from '../storage/index.ts';

/**
 * The scheduled capacity planning report: on its schedule (06:00 UTC on the 1st by
 * default), the whole cloud's report is written to `<data>/reports/` as HTML (with its
 * charts), CSV and, when Debian's chromium is there, PDF, named by date. Planners find last
 * month's report there without asking; `cumulus report capacity` makes one on demand.
 * Lives in cli/ because it joins the API's report code with the platform's store and
 * files. Experimental.
 */

export const DEFAULT_CAPACITY_REPORT_SCHEDULE = '0 6 1 * *';

export interface CapacityReportJobConfig {
  readonly schedule?: string;
  readonly directory: string;
  readonly factors?: CapacityFactorsInput;
  readonly chromiumPath?: string;
}

export interface CapacityReportJob extends Lifecycle {
  /** Writes the report now; resolves to the files written. */
  run(): Promise<string[]>;
}

export function createCapacityReportJob(config: CapacityReportJobConfig, deps: { store: ClickHouseDriver; clock: Clock; logger: Logger; telemetry: ComponentTelemetry }): CapacityReportJob {
  const schedule = config.schedule ?? DEFAULT_CAPACITY_REPORT_SCHEDULE;
  if (!cron.validate(schedule)) throw new ConfigError(`capacity.reportSchedule: expected a cron expression (e.g. "${DEFAULT_CAPACITY_REPORT_SCHEDULE}"), got ${JSON.stringify(schedule)}`);
  const chromium = config.chromiumPath ?? DEFAULT_CHROMIUM_PATH;
  let task: ScheduledTask | null = null;
  let running: Promise<unknown> = Promise.resolve();

  const run = async (): Promise<string[]> => {
    const started = deps.clock.nowMs();
    const now = deps.clock.now();
    const report = await loadCapacityReport(deps.store, { scope: { kind: 'cloud' }, now, ...(config.factors ? { factors: config.factors } : {}) });
    mkdirSync(config.directory, { recursive: true });
    const base = join(config.directory, `capacity-${now.toISOString().slice(0, 10)}`);
    const html = capacityReportHtml(report);
    const files = [`${base}.html`, `${base}.csv`];
    writeFileSync(`${base}.html`, html);
    writeFileSync(`${base}.csv`, capacityReportCsv(report));
    if (existsSync(chromium)) {
      const pdf = createPdfRenderer({ executablePath: chromium, documents: 'PDF capacity reports' });
      try {
        writeFileSync(`${base}.pdf`, await pdf.render(html));
        files.push(`${base}.pdf`);
      } finally {
        await pdf.close();
      }
    }
    deps.telemetry.accepted(files.length);
    deps.telemetry.observeBatch(deps.clock.nowMs() - started);
    deps.logger.info({ files }, 'capacity planning report written');
    return files;
  };

  return {
    run,
    async start() {
      if (task) return;
      task = cron.schedule(
        schedule,
        () => {
          running = run().catch((err: unknown) => {
            deps.telemetry.refused(1, 'report-failed');
            deps.logger.warn({ err: errorMessage(err) }, 'capacity planning report failed; `cumulus report capacity` makes one on demand');
          });
          return running;
        },
        { timezone: 'UTC', noOverlap: true, name: 'capacity-report' },
      );
    },
    async stop() {
      const current = task;
      task = null;
      if (current) await current.destroy();
      await running;
    },
  };
}
