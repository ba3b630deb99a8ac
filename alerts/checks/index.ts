/** alerts/checks: synthetic availability checks (the prober) and the built-in rules (issue 8). Experimental. */
export { createProber, fastChecksOf, SETUP_RETRY_MS, type Prober, type ProberDeps } from './prober.ts';
export * from './config.ts';
export { CHECK_ERROR_CODES, CheckConfigError, CheckFailure } from './errors.ts';
export { type Credentials, type CatalogEndpoint } from './cloud-client.ts';
export { type MonitoringSetup } from './monitoring-project.ts';
export { processCheckName, serviceOfCatalogType, serviceOfProcess } from './transactions.ts';
export { CHECK_RESULTS_TABLE, selectCheckWindowStats, selectLatestResults, storedRow, type CheckResultRow, type CheckWindowStats, type StoredCheckResult } from './queries.ts';
export {
  BUILTIN_PROJECT_ID,
  DEFAULT_BRUTE_FORCE_FAILURES,
  DEFAULT_BRUTE_FORCE_WINDOW_SECONDS,
  DEFAULT_EVALUATION_INTERVAL_MS,
  DEFAULT_HEALTH_FRESHNESS_SECONDS,
  DEFAULT_SHORT_OUTAGE_WINDOW_SECONDS,
  FAST_CHECK_MAX_INTERVAL_MS,
  builtinAlarm,
  createBuiltinRules,
  evaluateBruteForce,
  evaluateServiceHealth,
  evaluateShortOutage,
  type BuiltinFinding,
  type BuiltinRules,
  type BuiltinRulesDeps,
  type BuiltinRulesOptions,
  type RuleResult,
} from './builtin-rules.ts';
export { BUILTIN_RULE_KINDS, createBuiltinStateStore, type BuiltinAlarmRecord, type BuiltinRuleKind, type BuiltinState, type BuiltinStateStore } from './builtin-state.ts';
