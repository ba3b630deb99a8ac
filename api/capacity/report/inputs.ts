/**
 * Reads what a capacity planning report needs from the metering store: the providers
 * Placement reported last (inventories, allocations, zones), the hourly history of what is
 * allocated, the flavors instances run with and each project's vCPU series; then assembles
 * the report (./report.ts). The same reads the /capacity API answers from (../data.ts).
 */
import type { ClickHouseDriver } from '../../../storage/index.ts';
import { CAPACITY_RESOURCES, hostInventoryOf, providersIn, readObservedFlavors, readProjectUsage, readProviders, readUsageHistory, RESOURCE_KEY, scopeText, usedOf, type CapacityScope } from '../data.ts';
import { CapacityError } from '../errors.ts';
import { projectGrowth, type RegularSeries } from '../forecast/index.ts';
import { capacityReport, resolveCapacityFactors, type CapacityFactorsInput, type ResourceKey } from '../model/index.ts';
import { assembleCapacityReport, type CapacityPlanningReport } from './report.ts';

const DAY_MS = 86_400_000;
export const DEFAULT_REPORT_HORIZON_DAYS = 90;
export const DEFAULT_REPORT_HISTORY_DAYS = 42;
/** Projects listed under growth, fastest first. */
export const REPORT_GROWTH_ROWS = 10;

export interface ReportRequest {
  scope: CapacityScope;
  now: Date;
  horizonDays?: number;
  historyDays?: number;
  /** The cloud's planning factors (OS overhead, hyperthreading; Placement's ratios win per host). */
  factors?: CapacityFactorsInput;
}

export async function loadCapacityReport(store: ClickHouseDriver, request: ReportRequest): Promise<CapacityPlanningReport> {
  const nowMs = request.now.getTime();
  const horizonDays = request.horizonDays ?? DEFAULT_REPORT_HORIZON_DAYS;
  const historyDays = request.historyDays ?? DEFAULT_REPORT_HISTORY_DAYS;
  const members = providersIn(await readProviders(store, { nowMs }), request.scope);
  if (members.length === 0) {
    throw new CapacityError('CUMULUS_CAPACITY_SERIES_TOO_SHORT', `No resource provider in ${scopeText(request.scope)} was polled in the last hour: is the Placement pollster running, and is the scope's name right?`);
  }
  const hosts = members.map(hostInventoryOf);
  const model = capacityReport(hosts, Object.fromEntries(members.map((p) => [p.name, usedOf(p)])), request.factors ?? {});
  const fromMs = nowMs - historyDays * DAY_MS;
  const history = {} as Record<ResourceKey, RegularSeries>;
  for (const resource of CAPACITY_RESOURCES) {
    const series = await readUsageHistory(store, { resource, providerIds: request.scope.kind === 'cloud' ? null : members.map((p) => p.uuid), fromMs, toMs: nowMs });
    const known = series.values.filter((v) => v !== null).length;
    if (known < 2) throw new CapacityError('CUMULUS_CAPACITY_SERIES_TOO_SHORT', `${resource} over ${scopeText(request.scope)}: ${known} hour(s) of Placement history in the last ${historyDays} days; a report needs at least 2 (is the Placement pollster running?)`);
    history[RESOURCE_KEY[resource]] = { startMs: series.startMs, stepSeconds: series.stepSeconds, values: series.values };
  }
  const growth = projectGrowth(await readProjectUsage(store, { resource: 'vcpu', fromMs, toMs: nowMs }))
    .slice(0, REPORT_GROWTH_ROWS)
    .map((g) => ({ project: g.projectId, perMonth: g.slopePerMonth, percent: g.percentPerMonth }));
  const factors = resolveCapacityFactors(request.factors ?? {});
  return assembleCapacityReport({
    scope: scopeText(request.scope),
    now: request.now,
    factors: { cpuAllocationRatio: factors.cpuAllocationRatio, ramAllocationRatio: factors.ramAllocationRatio, diskAllocationRatio: factors.diskAllocationRatio, hyperthreadingFactor: factors.hyperthreadingFactor, ...Object.fromEntries(Object.entries(factors.osOverhead).map(([k, v]) => [`osOverhead.${k}`, v])) },
    totals: model.total,
    history,
    horizonDays,
    zones: Object.entries(model.availabilityZones).map(([zone, t]) => ({ zone, hosts: t.hosts, capacity: t.capacity, used: t.used })),
    rooms: model.hosts.map((h) => ({ name: h.name, free: h.free, maxUnit: h.maxUnit })),
    flavors: await readObservedFlavors(store, { nowMs, lookbackMs: historyDays * DAY_MS }),
    growth,
  });
}
