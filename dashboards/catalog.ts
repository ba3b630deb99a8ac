import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { alarmsDashboard } from './alarms.ts';
import { auditDashboard } from './audit.ts';
import { capacityDashboard } from './capacity.ts';
import { healthDashboard } from './health.ts';
import { logsDashboard } from './logs.ts';
import { showbackDashboard } from './showback.ts';

/** Every Cumulus dashboard, in the order Grafana's folder lists them. */
export const DASHBOARD_BUILDERS: readonly (() => Dashboard)[] = [showbackDashboard, capacityDashboard, alarmsDashboard, auditDashboard, logsDashboard, healthDashboard];

export function buildDashboards(): Dashboard[] {
  return DASHBOARD_BUILDERS.map((build) => build());
}
