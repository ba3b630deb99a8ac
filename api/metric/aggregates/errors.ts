/**
 * The /v1/aggregates refusals, worded as Gnocchi words them: an object description
 * `{cause, reason, detail}` that gnocchiclient shows and scripts match on, and a message
 * that says what was expected. Experimental.
 */
import { DescribedApiError } from '../../errors.ts';

/** A (name, aggregation) pair as Gnocchi lists it in error details. */
export type LookupKey = readonly [string, string];

/** The body's `operations` does not follow the grammar (Gnocchi's voluptuous "Invalid input"). */
export function invalidOperations(reason: string): DescribedApiError {
  return new DescribedApiError('CUMULUS_API_AGGREGATES_OPERATIONS_INVALID', 400, `Invalid input: operations: ${reason}`, { cause: 'Invalid input', reason, detail: ['operations'] });
}

/** The operations string is not a parenthesised expression. */
export function unparsableOperations(detail: string): DescribedApiError {
  return new DescribedApiError('CUMULUS_API_AGGREGATES_OPERATIONS_UNPARSABLE', 400, `Invalid operations: fail to parse the operations string: ${detail}`, {
    cause: 'Invalid operations',
    reason: 'Fail to parse the operations string',
    detail,
  });
}

export function operationsWithoutMetric(operations: unknown): DescribedApiError {
  return new DescribedApiError('CUMULUS_API_AGGREGATES_NO_METRIC', 400, "Operations is invalid: expected at least one (metric ...) in the operations, got none", {
    cause: 'Operations is invalid',
    reason: "At least one 'metric' is required",
    detail: operations,
  });
}

/** A query parameter Gnocchi's validate_qs refuses. */
export function argumentValueError(field: string, reason: string): DescribedApiError {
  return new DescribedApiError('CUMULUS_API_AGGREGATES_ARGUMENT_INVALID', 400, `Argument value error: ${field}: ${reason}`, { cause: 'Argument value error', detail: field, reason });
}

/** Gnocchi's UnAggregableTimeseries: the series exist but cannot be combined as asked. */
export function unaggregable(references: readonly unknown[], reason: string): DescribedApiError {
  return new DescribedApiError('CUMULUS_API_AGGREGATES_UNAGGREGABLE', 400, `Metrics can't being aggregated: ${reason}`, { cause: "Metrics can't being aggregated", reason, detail: references });
}

/** Metric ids that do not exist or that the caller may not see (the same answer for both). */
export function unknownMetrics(ids: readonly string[]): DescribedApiError {
  const sorted = [...ids].sort();
  return new DescribedApiError('CUMULUS_API_AGGREGATES_METRIC_NOT_FOUND', 404, `Unknown metrics: ${sorted.join(', ')} do not exist`, { cause: 'Unknown metrics', reason: "Provided metrics don't exists", detail: sorted });
}

export function invalidMetricReferences(reason: string, references: readonly LookupKey[]): DescribedApiError {
  return new DescribedApiError('CUMULUS_API_AGGREGATES_METRIC_REFERENCE_INVALID', 400, `Invalid metric references: ${reason}`, { cause: 'Invalid metric references', reason, detail: references });
}

/** A metric's archive policy does not keep the aggregation asked for. */
export function unknownAggregation(metricId: string, method: string): DescribedApiError {
  return new DescribedApiError('CUMULUS_API_AGGREGATES_AGGREGATION_NOT_FOUND', 404, `Metrics with unknown aggregation: metric ${metricId} has no aggregation ${method}`, {
    cause: 'Metrics with unknown aggregation',
    detail: [[metricId, method]],
  });
}

/** With resources: no matching resource has a metric of these names (Gnocchi 4.4 answers 400). */
export function metricsNotFound(names: readonly string[]): DescribedApiError {
  const sorted = [...new Set(names)].sort();
  return new DescribedApiError('CUMULUS_API_AGGREGATES_METRIC_NAME_NOT_FOUND', 400, `Metrics not found: no matching resource has a metric named ${sorted.join(', ')}`, { cause: 'Metrics not found', detail: sorted });
}
