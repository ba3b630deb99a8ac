import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from '../context.ts';
import { callerOf, rejectUnknownQueryFields, requireToken, TOKEN_SECURITY, useErrorStyle } from '../http.ts';
import { createPdfRenderer } from '../pdf.ts';
import {
  CAPACITY_RESOURCES,
  DEFAULT_PROVIDER_LOOKBACK_MS,
  RESOURCE_KEY,
  hostInventoryOf,
  parseScope,
  placementCapacity,
  providersIn,
  readHostCpuUtilisation,
  readObservedFlavors,
  readProviders,
  readUsageHistory,
  readProjectUsage,
  scopeText,
  usedOf,
  type CapacityResource,
  type CapacityScope,
  type ProviderState,
} from './data.ts';
import {
  CapacityError,
  capacityReport,
  extrapolateExhaustion,
  findExhaustion,
  fitByMonth,
  fitEachFlavor,
  forecast,
  projectGrowth,
  resolveCapacityFactors,
  totals,
  hostCapacity,
  type CapacityFactors,
  type CapacityFactorsInput,
  type CapacityTotals,
  type Flavor,
  type FlavorFit,
  type HostCapacity,
  type HostInventory,
  type HostRoom,
  type Resources,
} from './index.ts';
import { registerCapacityReportRoute } from './report/routes.ts';

const tags = ['capacity'];
const DAY_MS = 86_400_000;

/** How far ahead a forecast may look, and how much history it reads. */
export const DEFAULT_HORIZON_DAYS = 30;
export const MAX_HORIZON_DAYS = 365;
export const DEFAULT_HISTORY_DAYS = 90;
/** Raw measures are kept 400 days at least: no use asking for more. */
export const MAX_HISTORY_DAYS = 400;
/** Months of flavor fit ahead. */
export const DEFAULT_FIT_MONTHS = 6;
export const MAX_FIT_MONTHS = 24;
/** Flavors sized from instances seen in this window when the caller names none. */
export const OBSERVED_FLAVOR_LOOKBACK_MS = 7 * DAY_MS;
/** Hosts one what-if may add (per entry). */
export const MAX_WHAT_IF_HOSTS = 10_000;

export interface CapacityRouteOptions {
  /** The cloud's planning factors (OS overhead, hyperthreading, and ratios for hosts Placement gives none). */
  factors?: CapacityFactorsInput;
}

// ---------------------------------------------------------------------------------------
// Views: the API speaks Placement's resource names (vcpu, memory_mb, disk_gb).

type ResourceView = Record<CapacityResource, number>;
const view = (r: Resources): ResourceView => ({ vcpu: r.vcpus, memory_mb: r.memoryMb, disk_gb: r.diskGb });
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function totalsView(t: CapacityTotals) {
  return { hosts: t.hosts, capacity: view(t.capacity), used: view(t.used), free: view(t.free), utilisation: { vcpu: t.utilisation.vcpus, memory_mb: t.utilisation.memoryMb, disk_gb: t.utilisation.diskGb } };
}

function factorsView(f: CapacityFactors) {
  return { cpu_allocation_ratio: f.cpuAllocationRatio, ram_allocation_ratio: f.ramAllocationRatio, disk_allocation_ratio: f.diskAllocationRatio, hyperthreading_factor: f.hyperthreadingFactor, os_overhead: view(f.osOverhead) };
}

const fitView = (fits: readonly FlavorFit[]) => fits.map((f) => ({ flavor: f.flavor, count: f.count, limited_by: f.limitedBy === null ? null : (CAPACITY_RESOURCES.find((r) => RESOURCE_KEY[r] === f.limitedBy) ?? null) }));

// ---------------------------------------------------------------------------------------
// Schemas (the OpenAPI document is built from them)

const resourceTriple = { type: 'object', properties: { vcpu: { type: 'number' }, memory_mb: { type: 'number' }, disk_gb: { type: 'number' } } } as const;
const nullableTriple = { type: 'object', properties: { vcpu: { type: 'number', nullable: true }, memory_mb: { type: 'number', nullable: true }, disk_gb: { type: 'number', nullable: true } } } as const;
const totalsSchema = { type: 'object', properties: { hosts: { type: 'integer' }, capacity: resourceTriple, used: resourceTriple, free: resourceTriple, utilisation: nullableTriple } } as const;
const factorsSchema = {
  type: 'object',
  properties: { cpu_allocation_ratio: { type: 'number' }, ram_allocation_ratio: { type: 'number' }, disk_allocation_ratio: { type: 'number' }, hyperthreading_factor: { type: 'number' }, os_overhead: resourceTriple },
} as const;
const fitSchema = { type: 'array', items: { type: 'object', properties: { flavor: { type: 'string' }, count: { type: 'integer' }, limited_by: { type: 'string', nullable: true } } } } as const;
const exhaustionSchema = {
  type: 'object',
  description: "When the forecast's point value (and its 95% interval bounds) reaches the capacity",
  properties: { status: { type: 'string', enum: ['now', 'within-horizon', 'not-within-horizon'] }, at: { type: 'string', nullable: true }, earliest: { type: 'string', nullable: true }, latest: { type: 'string', nullable: true }, level: { type: 'integer' } },
} as const;
const trendSchema = {
  type: 'object',
  nullable: true,
  description: "The deseasonalised trend extrapolated to the capacity, beyond the forecast's horizon",
  properties: { slope_per_day: { type: 'number' }, at: { type: 'string', nullable: true }, earliest: { type: 'string', nullable: true }, latest: { type: 'string', nullable: true } },
} as const;
const resourceParam = { type: 'string', enum: [...CAPACITY_RESOURCES], description: 'Placement resource class, in lower case' } as const;
const scopeParam = { type: 'string', default: 'cloud', minLength: 1, maxLength: 300, description: 'cloud, az:<zone>, aggregate:<aggregate uuid> or host:<host name>' } as const;
const horizonParam = { type: 'integer', minimum: 1, maximum: MAX_HORIZON_DAYS, default: DEFAULT_HORIZON_DAYS, description: 'Days to forecast' } as const;
const historyParam = { type: 'integer', minimum: 3, maximum: MAX_HISTORY_DAYS, default: DEFAULT_HISTORY_DAYS, description: 'Days of hourly history the forecast reads' } as const;
const flavorParam = {
  type: 'array',
  maxItems: 50,
  items: { type: 'string', pattern: '^[^:]+:[0-9.]+:[0-9.]+:[0-9.]+$' },
  description: 'name:vcpus:memory_mb:disk_gb (disk = root + ephemeral), repeatable; default: the flavors running instances use',
} as const;
const errorResponse = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, status: { type: 'integer' }, message: { type: 'string' } } } } } as const;
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse } as const;

/**
 * Capacity planning under /capacity/v1 (issue 9). Experimental.
 *
 * - Data: the Placement pollster's readings (latest per provider, polled within the hour)
 *   and their hourly history; see docs/capacity.md.
 * - Capacity per host is the model's (api/capacity/model): Placement's totals and
 *   reservations, the cloud's OS overhead, then Placement's allocation ratios; Placement's
 *   own (total - reserved) x ratio is shown beside it as `placement_capacity`.
 * - Access: `capacity:read` (admins by default): it shows every hypervisor and project.
 * - Errors: `{"error": {"code", "status", "message"}}`.
 */
export function registerCapacityRoutes(app: FastifyInstance, context: ApiContext, options: CapacityRouteOptions = {}): void {
  const factors = resolveCapacityFactors(options.factors ?? {});
  app.register(
    async (capacity) => {
      requireToken(capacity, context.auth);
      useErrorStyle(capacity, 'plain');
      rejectUnknownQueryFields(capacity);
      const routes = new CapacityRoutes(context, factors);
      routes.register(capacity);
      // The planning report (api/capacity/report): JSON, HTML, CSV, or PDF through Chromium, launched on the first PDF.
      const pdf = createPdfRenderer({ documents: 'PDF capacity reports', errorCode: 'CUMULUS_CAPACITY_PDF_UNAVAILABLE' });
      capacity.addHook('onClose', async () => pdf.close());
      registerCapacityReportRoute(capacity, context, { factors: options.factors ?? {}, pdf });
    },
    { prefix: '/capacity/v1' },
  );
}

class CapacityRoutes {
  constructor(
    private readonly context: ApiContext,
    private readonly factors: CapacityFactors,
  ) {}

  private authorize(request: FastifyRequest): void {
    this.context.access.enforce('capacity:read', callerOf(request), {});
  }

  private nowMs(): number {
    return this.context.clock.nowMs();
  }

  private async providers(): Promise<ProviderState[]> {
    return readProviders(this.context.store, { nowMs: this.nowMs(), lookbackMs: DEFAULT_PROVIDER_LOOKBACK_MS });
  }

  private capacities(providers: readonly ProviderState[], factors = this.factors): HostCapacity[] {
    return providers.map((p, i) => hostCapacity(hostInventoryOf(p), usedOf(p), factors, `providers[${i}] (${p.name})`));
  }

  /** The flavors to fit: the caller's, else those instances run with. */
  private async flavors(given: readonly string[] | undefined): Promise<Flavor[]> {
    if (given && given.length > 0) {
      return given.map((text) => {
        const [name, vcpus, memoryMb, diskGb] = text.split(':') as [string, string, string, string];
        return { name, vcpus: Number(vcpus), memoryMb: Number(memoryMb), diskGb: Number(diskGb) };
      });
    }
    return readObservedFlavors(this.context.store, { nowMs: this.nowMs(), lookbackMs: OBSERVED_FLAVOR_LOOKBACK_MS });
  }

  /** Hourly history of the allocated amount over a scope: every provider ever polled for the cloud, else today's members. */
  private history(resource: CapacityResource, scope: CapacityScope, members: readonly ProviderState[], historyDays: number) {
    const nowMs = this.nowMs();
    return readUsageHistory(this.context.store, { resource, providerIds: scope.kind === 'cloud' ? null : members.map((p) => p.uuid), fromMs: nowMs - historyDays * DAY_MS, toMs: nowMs });
  }

  /** Forecast, exhaustion and trend of one resource over a scope. */
  private async outlook(resource: CapacityResource, scope: CapacityScope, providers: readonly ProviderState[], horizonDays: number, historyDays: number) {
    const members = providersIn(providers, scope);
    const key = RESOURCE_KEY[resource];
    const scopeTotals = totals(this.capacities(members));
    const capacityNow = scopeTotals.capacity[key];
    const series = await this.history(resource, scope, members, historyDays);
    const known = series.values.filter((v) => v !== null).length;
    if (known < 2) {
      throw new CapacityError('CUMULUS_CAPACITY_SERIES_TOO_SHORT', `${resource} over ${scopeText(scope)}: ${known} hour(s) of Placement history in the last ${historyDays} days; a forecast needs at least 2 (is the Placement pollster running?)`);
    }
    const result = forecast(series, { horizonPoints: Math.max(1, Math.round((horizonDays * 86_400) / series.stepSeconds)) });
    const exhaustion = findExhaustion(result.points, capacityNow, { level: 95, lastObserved: result.lastObserved });
    let trend: { slope_per_day: number; at: string | null; earliest: string | null; latest: string | null } | null = null;
    try {
      const t = extrapolateExhaustion(series, capacityNow);
      trend = { slope_per_day: t.slopePerDay, at: iso(t.atMs), earliest: iso(t.earliestMs), latest: iso(t.latestMs) };
    } catch (err) {
      if (!(err instanceof CapacityError)) throw err;
    }
    const chosen = result.backtest.candidates.find((c) => c.model === result.model);
    return {
      resource,
      scope: scopeText(scope),
      hosts: members.length,
      capacity: capacityNow,
      placement_capacity: members.reduce((sum, p) => sum + placementCapacity(p.inventories[resource]), 0),
      used: scopeTotals.used[key],
      step_seconds: series.stepSeconds,
      history_points: series.values.length,
      model: result.model,
      mase: chosen?.mase ?? null,
      mape: chosen?.mape ?? null,
      interval_method: result.intervalMethod,
      last_observed: { at: iso(result.lastObserved.atMs), value: result.lastObserved.value },
      points: result.points.map((p) => ({ at: iso(p.atMs), value: p.value, lower80: p.lower80, upper80: p.upper80, lower95: p.lower95, upper95: p.upper95 })),
      exhaustion: { status: exhaustion.status, at: iso(exhaustion.atMs), earliest: iso(exhaustion.earliestMs), latest: iso(exhaustion.latestMs), level: exhaustion.level },
      trend,
      notes: [...result.notes, ...(result.gaps.note ? [result.gaps.note] : [])],
      forecast: result,
    };
  }

  register(v1: FastifyInstance): void {
    v1.get(
      '/hosts',
      {
        schema: {
          tags,
          summary: 'Per hypervisor: Placement inventory and usage, planning capacity, used and free',
          security: TOKEN_SECURITY,
          querystring: { type: 'object', additionalProperties: false, properties: {} },
          response: {
            200: {
              type: 'object',
              properties: {
                factors: factorsSchema,
                hosts: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      uuid: { type: 'string' },
                      name: { type: 'string' },
                      availability_zone: { type: 'string' },
                      aggregates: { type: 'array', items: { type: 'string' } },
                      observed_at: { type: 'string' },
                      inventories: { type: 'object', additionalProperties: true, description: 'Placement inventory per class: total, reserved, allocation_ratio, min_unit, max_unit, used, placement_capacity' },
                      capacity: resourceTriple,
                      placement_capacity: resourceTriple,
                      used: resourceTriple,
                      free: resourceTriple,
                      max_unit: resourceTriple,
                      factors: factorsSchema,
                      measured: {
                        type: 'object',
                        description: "What the guests really use, from the compute pollster (mean of the last hour); null when it has not read the host",
                        properties: { cpu_percent: { type: 'number', nullable: true } },
                      },
                    },
                  },
                },
              },
            },
            ...errors,
          },
        },
      },
      async (request) => {
        this.authorize(request);
        const providers = await this.providers();
        const computed = this.capacities(providers);
        const cpu = await readHostCpuUtilisation(this.context.store, { nowMs: this.nowMs(), windowMs: DEFAULT_PROVIDER_LOOKBACK_MS });
        return {
          factors: factorsView(this.factors),
          hosts: providers.map((p, i) => {
            const c = computed[i] as HostCapacity;
            const inventories = Object.fromEntries(
              CAPACITY_RESOURCES.flatMap((r) => {
                const inv = p.inventories[r];
                return inv ? [[r, { total: inv.total, reserved: inv.reserved, allocation_ratio: inv.allocationRatio, min_unit: inv.minUnit, max_unit: inv.maxUnit, used: p.used[r], placement_capacity: placementCapacity(inv) }]] : [];
              }),
            );
            return {
              uuid: p.uuid,
              name: p.name,
              availability_zone: p.availabilityZone,
              aggregates: p.aggregates,
              observed_at: p.observedAt,
              inventories,
              capacity: view(c.capacity),
              placement_capacity: { vcpu: placementCapacity(p.inventories.vcpu), memory_mb: placementCapacity(p.inventories.memory_mb), disk_gb: placementCapacity(p.inventories.disk_gb) },
              used: view(c.used),
              free: view(c.free),
              max_unit: view(c.maxUnit),
              factors: factorsView(c.factors),
              measured: { cpu_percent: cpu.get(p.name) ?? null },
            };
          }),
        };
      },
    );

    v1.get(
      '/summary',
      {
        schema: {
          tags,
          summary: 'Capacity, used, free and utilisation per aggregate, availability zone, or for the whole cloud',
          security: TOKEN_SECURITY,
          querystring: { type: 'object', additionalProperties: false, properties: { group_by: { type: 'string', enum: ['aggregate', 'availability_zone', 'cloud'], default: 'cloud' } } },
          response: {
            200: {
              type: 'object',
              properties: { group_by: { type: 'string' }, groups: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, ...totalsSchema.properties } } } },
            },
            ...errors,
          },
        },
      },
      async (request) => {
        this.authorize(request);
        const { group_by: groupBy } = request.query as { group_by: 'aggregate' | 'availability_zone' | 'cloud' };
        const providers = await this.providers();
        const report = capacityReport(providers.map(hostInventoryOf), Object.fromEntries(providers.map((p) => [p.name, usedOf(p)])), this.factorsInput());
        const groups =
          groupBy === 'cloud'
            ? [{ name: 'cloud', ...totalsView(report.total) }]
            : Object.entries(groupBy === 'aggregate' ? report.aggregates : report.availabilityZones).map(([name, t]) => ({ name, ...totalsView(t) }));
        return { group_by: groupBy, groups };
      },
    );

    v1.get(
      '/forecast',
      {
        schema: {
          tags,
          summary: 'Forecast of the allocated amount of one resource over a scope, with intervals and the date it reaches capacity',
          description: 'Hourly history from the Placement pollster; the model is chosen by backtest (see api/capacity/forecast/README.md).',
          security: TOKEN_SECURITY,
          querystring: {
            type: 'object',
            additionalProperties: false,
            required: ['resource'],
            properties: { resource: resourceParam, scope: scopeParam, horizon_days: horizonParam, history_days: historyParam },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                resource: { type: 'string' },
                scope: { type: 'string' },
                hosts: { type: 'integer' },
                capacity: { type: 'number' },
                placement_capacity: { type: 'number' },
                used: { type: 'number' },
                step_seconds: { type: 'integer' },
                history_points: { type: 'integer' },
                model: { type: 'string' },
                mase: { type: 'number', nullable: true },
                mape: { type: 'number', nullable: true },
                interval_method: { type: 'string' },
                last_observed: { type: 'object', properties: { at: { type: 'string' }, value: { type: 'number' } } },
                points: {
                  type: 'array',
                  items: { type: 'object', properties: { at: { type: 'string' }, value: { type: 'number' }, lower80: { type: 'number' }, upper80: { type: 'number' }, lower95: { type: 'number' }, upper95: { type: 'number' } } },
                },
                exhaustion: exhaustionSchema,
                trend: trendSchema,
                notes: { type: 'array', items: { type: 'string' } },
              },
            },
            ...errors,
          },
        },
      },
      async (request) => {
        this.authorize(request);
        const q = request.query as { resource: CapacityResource; scope: string; horizon_days: number; history_days: number };
        const { forecast: _full, ...outlook } = await this.outlook(q.resource, parseScope(q.scope), await this.providers(), q.horizon_days, q.history_days);
        return outlook;
      },
    );

    v1.get(
      '/exhaustion',
      {
        schema: {
          tags,
          summary: 'When each resource of a scope runs out: forecast crossing within the horizon, and the trend beyond it',
          security: TOKEN_SECURITY,
          querystring: { type: 'object', additionalProperties: false, properties: { scope: scopeParam, horizon_days: horizonParam, history_days: historyParam } },
          response: {
            200: {
              type: 'object',
              properties: {
                scope: { type: 'string' },
                horizon_days: { type: 'integer' },
                resources: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      resource: { type: 'string' },
                      capacity: { type: 'number' },
                      used: { type: 'number' },
                      model: { type: 'string', nullable: true },
                      exhaustion: { ...exhaustionSchema, nullable: true },
                      trend: trendSchema,
                      note: { type: 'string', nullable: true },
                    },
                  },
                },
              },
            },
            ...errors,
          },
        },
      },
      async (request) => {
        this.authorize(request);
        const q = request.query as { scope: string; horizon_days: number; history_days: number };
        const scope = parseScope(q.scope);
        const providers = await this.providers();
        const members = providersIn(providers, scope);
        const scopeTotals = totals(this.capacities(members));
        const resources = [];
        for (const resource of CAPACITY_RESOURCES) {
          try {
            const o = await this.outlook(resource, scope, providers, q.horizon_days, q.history_days);
            resources.push({ resource, capacity: o.capacity, used: o.used, model: o.model, exhaustion: o.exhaustion, trend: o.trend, note: null });
          } catch (err) {
            if (!(err instanceof CapacityError)) throw err;
            // Not enough history for one resource: say so for it, answer for the others.
            const key = RESOURCE_KEY[resource];
            resources.push({ resource, capacity: scopeTotals.capacity[key], used: scopeTotals.used[key], model: null, exhaustion: null, trend: null, note: err.message });
          }
        }
        return { scope: scopeText(scope), horizon_days: q.horizon_days, resources };
      },
    );

    v1.get(
      '/flavor-fit',
      {
        schema: {
          tags,
          summary: 'How many more instances of each flavor fit now, and at the start of each coming month as usage grows',
          security: TOKEN_SECURITY,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { flavor: flavorParam, scope: scopeParam, months: { type: 'integer', minimum: 0, maximum: MAX_FIT_MONTHS, default: DEFAULT_FIT_MONTHS }, history_days: historyParam },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                scope: { type: 'string' },
                flavors: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, vcpu: { type: 'number' }, memory_mb: { type: 'number' }, disk_gb: { type: 'number' } } } },
                now: fitSchema,
                months: { type: 'array', items: { type: 'object', properties: { month: { type: 'string' }, growth: resourceTriple, fits: fitSchema } } },
                notes: { type: 'array', items: { type: 'string' } },
              },
            },
            ...errors,
          },
        },
      },
      async (request) => {
        this.authorize(request);
        const q = request.query as { flavor?: string[]; scope: string; months: number; history_days: number };
        const scope = parseScope(q.scope);
        const providers = await this.providers();
        const members = providersIn(providers, scope);
        const flavors = await this.flavors(q.flavor);
        const rooms: HostRoom[] = this.capacities(members).map((c) => ({ name: c.name, free: c.free, maxUnit: c.maxUnit }));
        const notes: string[] = [];
        const nowMs = this.nowMs();
        const now = new Date(nowMs);
        const monthStarts = Array.from({ length: q.months }, (_, i) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i + 1, 1));
        // Growth to each month's start: the forecast's point value there minus the use now (none when it falls).
        const growth = monthStarts.map(() => ({ vcpus: 0, memoryMb: 0, diskGb: 0 }));
        if (monthStarts.length > 0) {
          const horizonDays = Math.ceil(((monthStarts[monthStarts.length - 1] as number) - nowMs) / DAY_MS) + 1;
          for (const resource of CAPACITY_RESOURCES) {
            try {
              const o = await this.outlook(resource, scope, providers, horizonDays, q.history_days);
              monthStarts.forEach((atMs, i) => {
                const point = o.forecast.points.find((p) => p.atMs >= atMs) ?? o.forecast.points[o.forecast.points.length - 1];
                (growth[i] as { [k: string]: number })[RESOURCE_KEY[resource]] = Math.max(0, (point?.value ?? o.used) - o.used);
              });
            } catch (err) {
              if (!(err instanceof CapacityError)) throw err;
              notes.push(`${resource}: no forecast (${err.message}); its use is held at today's level`);
            }
          }
        }
        const nowFit = fitEachFlavor(rooms, flavors);
        const byMonth = fitByMonth(rooms, flavors, monthStarts.map((atMs, i) => ({ atMs, additionalUsed: growth[i] as Resources })));
        return {
          scope: scopeText(scope),
          flavors: flavors.map((f) => ({ name: f.name, vcpu: f.vcpus, memory_mb: f.memoryMb, disk_gb: f.diskGb })),
          now: fitView(nowFit),
          months: byMonth.map((m, i) => ({ month: new Date(m.atMs).toISOString().slice(0, 7), growth: view(growth[i] as Resources), fits: fitView(m.fits) })),
          notes,
        };
      },
    );

    v1.post(
      '/what-if',
      {
        schema: {
          tags,
          summary: 'Capacity, flavor fit and time to exhaustion if hosts were added or allocation ratios changed',
          security: TOKEN_SECURITY,
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              add_hosts: {
                type: 'array',
                maxItems: 100,
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['count', 'vcpus', 'memory_mb', 'disk_gb'],
                  properties: {
                    count: { type: 'integer', minimum: 1, maximum: MAX_WHAT_IF_HOSTS },
                    vcpus: { type: 'integer', minimum: 0, description: 'VCPU inventory total (logical CPUs), as Placement would list it' },
                    memory_mb: { type: 'integer', minimum: 0 },
                    disk_gb: { type: 'integer', minimum: 0 },
                    availability_zone: { type: 'string', minLength: 1, maxLength: 255 },
                    aggregates: { type: 'array', maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 255 } },
                  },
                },
              },
              cpu_allocation_ratio: { type: 'number', exclusiveMinimum: 0, description: 'Applies to every host, existing and added' },
              ram_allocation_ratio: { type: 'number', exclusiveMinimum: 0 },
              disk_allocation_ratio: { type: 'number', exclusiveMinimum: 0 },
              os_overhead: { type: 'number', minimum: 0, exclusiveMaximum: 1, description: 'Fraction of every resource kept for the host' },
              flavors: flavorParam,
              history_days: historyParam,
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                hosts_added: { type: 'integer' },
                factors: factorsSchema,
                before: totalsSchema,
                after: totalsSchema,
                flavor_fit: { type: 'object', properties: { before: fitSchema, after: fitSchema } },
                exhaustion: {
                  type: 'array',
                  description: 'Trend extrapolation of the cloud-wide history against the capacity before and after',
                  items: { type: 'object', properties: { resource: { type: 'string' }, before: { type: 'string', nullable: true }, after: { type: 'string', nullable: true }, note: { type: 'string', nullable: true } } },
                },
              },
            },
            ...errors,
          },
        },
      },
      async (request) => {
        this.authorize(request);
        const body = (request.body ?? {}) as {
          add_hosts?: Array<{ count: number; vcpus: number; memory_mb: number; disk_gb: number; availability_zone?: string; aggregates?: string[] }>;
          cpu_allocation_ratio?: number;
          ram_allocation_ratio?: number;
          disk_allocation_ratio?: number;
          os_overhead?: number;
          flavors?: string[];
          history_days?: number;
        };
        const providers = await this.providers();
        const before = this.capacities(providers);
        // The changed ratios replace every host's own (Placement's), as a new nova.conf would.
        const override: CapacityFactorsInput = {
          ...(body.cpu_allocation_ratio !== undefined ? { cpuAllocationRatio: body.cpu_allocation_ratio } : {}),
          ...(body.ram_allocation_ratio !== undefined ? { ramAllocationRatio: body.ram_allocation_ratio } : {}),
          ...(body.disk_allocation_ratio !== undefined ? { diskAllocationRatio: body.disk_allocation_ratio } : {}),
        };
        const cloudFactors = resolveCapacityFactors({ ...override, ...(body.os_overhead !== undefined ? { osOverhead: body.os_overhead } : {}) }, this.factors, 'what-if.');
        const existing: HostInventory[] = providers.map((p) => {
          const host = hostInventoryOf(p);
          return { ...host, factors: { ...host.factors, ...override } };
        });
        // New hosts take the ratios most existing hosts have in Placement, unless the what-if changes them.
        const common = commonRatios(providers);
        const added: HostInventory[] = (body.add_hosts ?? []).flatMap((spec, i) =>
          Array.from({ length: spec.count }, (_, k) => ({
            name: `what-if-${i + 1}-${k + 1}`,
            availabilityZone: spec.availability_zone ?? 'nova',
            aggregates: spec.aggregates ?? [],
            cores: spec.vcpus,
            threadsPerCore: 1,
            memoryMb: spec.memory_mb,
            diskGb: spec.disk_gb,
            factors: { ...common, ...override },
          })),
        );
        const used = Object.fromEntries(providers.map((p) => [p.name, usedOf(p)]));
        const after = [...existing, ...added].map((h, i) => hostCapacity(h, used[h.name], cloudFactors, `hosts[${i}] (${h.name})`));
        const flavors = await this.flavors(body.flavors);
        const room = (list: readonly HostCapacity[]): HostRoom[] => list.map((c) => ({ name: c.name, free: c.free, maxUnit: c.maxUnit }));
        const beforeTotals = totals(before);
        const afterTotals = totals(after);
        const exhaustion = [];
        const nowMs = this.nowMs();
        for (const resource of CAPACITY_RESOURCES) {
          const key = RESOURCE_KEY[resource];
          try {
            const series = await readUsageHistory(this.context.store, { resource, providerIds: null, fromMs: nowMs - (body.history_days ?? DEFAULT_HISTORY_DAYS) * DAY_MS, toMs: nowMs });
            exhaustion.push({ resource, before: iso(extrapolateExhaustion(series, beforeTotals.capacity[key]).atMs), after: iso(extrapolateExhaustion(series, afterTotals.capacity[key]).atMs), note: null });
          } catch (err) {
            if (!(err instanceof CapacityError)) throw err;
            exhaustion.push({ resource, before: null, after: null, note: err.message });
          }
        }
        return {
          hosts_added: added.length,
          factors: factorsView(cloudFactors),
          before: totalsView(beforeTotals),
          after: totalsView(afterTotals),
          flavor_fit: { before: fitView(fitEachFlavor(room(before), flavors)), after: fitView(fitEachFlavor(room(after), flavors)) },
          exhaustion,
        };
      },
    );

    v1.get(
      '/growth',
      {
        schema: {
          tags,
          summary: 'Growth of instance usage by project, fastest first (from the instances vcpus / memory gauges)',
          security: TOKEN_SECURITY,
          querystring: { type: 'object', additionalProperties: false, properties: { resource: { type: 'string', enum: ['vcpu', 'memory_mb'], default: 'vcpu' }, history_days: historyParam } },
          response: {
            200: {
              type: 'object',
              properties: {
                resource: { type: 'string' },
                projects: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      project_id: { type: 'string' },
                      rank: { type: 'integer' },
                      slope_per_month: { type: 'number' },
                      percent_per_month: { type: 'number', nullable: true },
                      mean_level: { type: 'number' },
                      share_of_growth: { type: 'number', nullable: true },
                    },
                  },
                },
              },
            },
            ...errors,
          },
        },
      },
      async (request) => {
        this.authorize(request);
        const q = request.query as { resource: 'vcpu' | 'memory_mb'; history_days: number };
        const nowMs = this.nowMs();
        const usage = await readProjectUsage(this.context.store, { resource: q.resource, fromMs: nowMs - q.history_days * DAY_MS, toMs: nowMs });
        const ranked = projectGrowth(usage);
        return {
          resource: q.resource,
          projects: ranked.map((g) => ({ project_id: g.projectId, rank: g.rank, slope_per_month: g.slopePerMonth, percent_per_month: g.percentPerMonth, mean_level: g.meanLevel, share_of_growth: g.shareOfGrowth })),
        };
      },
    );
  }

  /** The factors the summary uses: the cloud's (host overrides come from Placement per host). */
  private factorsInput(): CapacityFactorsInput {
    const f = this.factors;
    return { cpuAllocationRatio: f.cpuAllocationRatio, ramAllocationRatio: f.ramAllocationRatio, diskAllocationRatio: f.diskAllocationRatio, hyperthreadingFactor: f.hyperthreadingFactor, osOverhead: f.osOverhead };
  }
}

/** The allocation ratios most providers have (ties to the first seen): what a new host of this cloud would get. */
function commonRatios(providers: readonly ProviderState[]): CapacityFactorsInput {
  const mode = (values: number[]): number | undefined => {
    const counts = new Map<number, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  };
  const pick = (resource: CapacityResource) => mode(providers.flatMap((p) => (p.inventories[resource] ? [p.inventories[resource].allocationRatio] : [])));
  const cpu = pick('vcpu');
  const ram = pick('memory_mb');
  const disk = pick('disk_gb');
  return { ...(cpu !== undefined ? { cpuAllocationRatio: cpu } : {}), ...(ram !== undefined ? { ramAllocationRatio: ram } : {}), ...(disk !== undefined ? { diskAllocationRatio: disk } : {}) };
}

