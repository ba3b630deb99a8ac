/**
 * alerts/evaluator: Aodh-compatible alarm evaluation (issue 8). Experimental API.
 * createAlarmEvaluator(config, deps) -> Lifecycle & { evaluateNow(), evaluateEvents() }.
 */
export { createAlarmEvaluator, type AlarmEvaluator, type AlarmEvaluatorDeps, type EvaluationRound, type SkipReason } from './evaluator.ts';
export {
  DEFAULT_EVALUATION_SCHEDULE,
  DEFAULT_EVENT_GROUP_ID,
  DEFAULT_INGESTION_LAG_SECONDS,
  DEFAULT_LEASE_MS,
  EVALUATOR_COMPONENT,
  resolveEvaluatorConfig,
  type AlarmEvaluatorConfig,
} from './config.ts';
export { withinTimeConstraints } from './time-constraints.ts';
export { selectCheckFailures, type CheckFailuresRow } from './queries.ts';
