import { CumulusError } from '../core/index.ts';

/** A dashboards option Grafana could not use; names the option, what it must be and what came. */
export class DashboardsConfigError extends CumulusError {
  readonly field: string;

  constructor(field: string, expected: string, received: string, cause?: unknown) {
    super('CUMULUS_DASHBOARDS_BAD_CONFIG', `dashboards option "${field}" must be ${expected}, got "${received}"`, { httpStatus: 400, cause });
    this.name = 'DashboardsConfigError';
    this.field = field;
  }
}

/** The export could not write its output folder. */
export class DashboardsExportError extends CumulusError {
  constructor(path: string, cause: unknown) {
    super('CUMULUS_DASHBOARDS_EXPORT_FAILED', `could not write "${path}": check the --output folder exists or can be created and is writable`, { httpStatus: 500, cause });
    this.name = 'DashboardsExportError';
  }
}
