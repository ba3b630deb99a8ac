/**
 * The alerts stage inside the platform: the notifier (routing, silences, outbox, receivers)
 * and the evaluator that feeds it, plus what they add to the API under /alarming/v2. Only
 * cli/ sees both the API and the alerts stage, so the wiring lives here.
 */
import type { AlarmingHooks } from '../api/index.ts';
import {
  createAlarmEvaluator,
  createBuiltinRules,
  createNotifier,
  createProber,
  defaultRoutingConfig,
  fastChecksOf,
  loadRoutingConfig,
  registerSilenceRoutes,
  registerStatusRoutes,
  type AlarmEvaluator,
  type BuiltinRules,
  type Notifier,
  type Prober,
  type RoutingConfig,
} from '../alerts/index.ts';
import type { Clock, CumulusConfig, Lifecycle, Logger, StateDatabase, Stream, TelemetryRegistry } from '../core/index.ts';
import type { AlarmStore, ClickHouseDriver, ResourceTypeStore } from '../storage/index.ts';

export interface AlertsOptions {
  /** The routing tree and receivers (default: alerts.routingFile, else a tree that sends nothing). */
  routing?: RoutingConfig;
  /** The evaluator's cron schedule (default alerts.evaluationSchedule, else every 10 s). */
  evaluationSchedule?: string;
  /** Run the evaluator's schedule, the notifier's loop and the built-in rules (default: when periodic tasks run); tests drive them by hand. */
  loops?: boolean;
  /** Run the synthetic checks (default alerts.syntheticChecks, only with the loops). */
  syntheticChecks?: boolean;
}

export interface AlertsStage {
  readonly evaluator: AlarmEvaluator;
  readonly notifier: Notifier;
  /** The synthetic availability checks (runs only when enabled). */
  readonly prober: Prober;
  /** Controller health, brute force from CADF, short outages. */
  readonly builtinRules: BuiltinRules;
  /** What the API mounts under /alarming/v2, and hears about removed alarms. */
  readonly hooks: AlarmingHooks;
  /** The parts to run with the loops on, in start order (the platform stops them in reverse); after the API listens: the prober calls it. */
  lifecycles(options: AlertsOptions): Lifecycle[];
}

export interface AlertsDeps {
  config: CumulusConfig;
  /** The platform's own URL (the prober's transactions go through its public API) and its region. */
  url: string;
  region: string;
  adminPassword: string;
  /** The monitoring user's password (persisted with the platform's other secrets). */
  monitoringPassword: string;
  alarms: AlarmStore;
  db: StateDatabase;
  store: ClickHouseDriver;
  stream: Stream;
  resourceTypes: ResourceTypeStore;
  clock: Clock;
  logger: Logger;
  telemetry: TelemetryRegistry;
}

export function createAlertsStage(options: AlertsOptions, deps: AlertsDeps): AlertsStage {
  const { config } = deps;
  const routing = options.routing ?? (config.alerts.routingFile !== undefined ? loadRoutingConfig(config.alerts.routingFile) : defaultRoutingConfig());
  const notifier = createNotifier(routing, { db: deps.db, store: deps.store, clock: deps.clock, logger: deps.logger.child({ component: 'alerts.notifier' }), telemetry: deps.telemetry.component('alerts.notifier') });
  const schedule = options.evaluationSchedule ?? config.alerts.evaluationSchedule;
  const evaluator = createAlarmEvaluator(schedule !== undefined ? { schedule } : {}, {
    alarms: deps.alarms,
    db: deps.db,
    store: deps.store,
    stream: deps.stream,
    sink: notifier,
    clock: deps.clock,
    logger: deps.logger.child({ component: 'alerts.evaluator' }),
    telemetry: deps.telemetry.component('alerts.evaluator'),
    transitionTelemetry: deps.telemetry.component('alerts.transitions'),
    resourceTypes: deps.resourceTypes,
  });
  const prober = createProber(
    {
      authUrl: `${deps.url}/identity/v3`,
      deploymentUrl: `${deps.url}/cloud-admin/v1`,
      region: deps.region,
      admin: { username: 'admin', password: deps.adminPassword, projectName: 'admin' },
      monitoring: { password: deps.monitoringPassword },
    },
    { store: deps.store, clock: deps.clock, logger: deps.logger.child({ component: 'alerts.prober' }), telemetry: deps.telemetry.component('alerts.prober') },
  );
  const builtinRules = createBuiltinRules(
    { shortOutage: { checks: fastChecksOf(prober) } },
    { store: deps.store, stateDb: deps.db, sink: notifier, clock: deps.clock, logger: deps.logger.child({ component: 'alerts.builtin' }), telemetry: deps.telemetry.component('alerts.builtin') },
  );
  const hooks: AlarmingHooks = {
    extensions: [
      // Alertmanager's paths (/silences, /silence/<id>) and the false-positive action, under /alarming/v2.
      (v2, view) =>
        void v2.register(
          async (scope) =>
            registerSilenceRoutes(scope, {
              silences: notifier.silences,
              markFalsePositive: (alarmId, by) => notifier.markFalsePositive(alarmId, by),
              callerName: (request) => view.identity(request).userName,
              projectOf: (request) => view.projectOf(request),
              alarmProject: (request, alarmId) => view.alarmProject(request, alarmId),
            }),
          { prefix: '/v2' },
        ),
      // The v2 scope already requires a token: nothing more to check per route.
      (v2) => registerStatusRoutes(v2, { store: deps.store, clock: deps.clock, builtinStates: () => builtinRules.states(), preHandler: async () => undefined }),
    ],
    alarmsRemoved: (alarmIds) => void notifier.forget(alarmIds),
  };
  return {
    evaluator,
    notifier,
    prober,
    builtinRules,
    hooks,
    // The notifier first: the evaluator and the built-in rules hand it transitions as soon as they run.
    lifecycles: (options) => [notifier, evaluator, builtinRules, ...((options.syntheticChecks ?? deps.config.alerts.syntheticChecks) ? [prober] : [])],
  };
}
