import { CumulusError } from '../core/index.ts';

/** One level of an archive policy: a bucket width and how many buckets are kept. */
export interface ArchivePolicyLevel {
  /** Seconds. */
  granularity: number;
  points: number;
}

export interface ArchivePolicy {
  name: string;
  /** Buckets of the coarsest granularity before the newest one that late measures may still update. */
  back_window: number;
  aggregation_methods: readonly string[];
  definition: readonly ArchivePolicyLevel[];
}

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;

/** Gnocchi's default aggregation methods (gnocchi/archive_policy.py). */
export const GNOCCHI_DEFAULT_METHODS = ['mean', 'min', 'max', 'sum', 'std', 'count'] as const;

const level = (granularity: number, timespan: number): ArchivePolicyLevel => ({ granularity, points: Math.round(timespan / granularity) });

/**
 * The built-in policies: Gnocchi's defaults (low, medium, high, bool) and the ones
 * Ceilometer's gnocchi publisher creates (ceilometer-*).
 */
export const BUILTIN_ARCHIVE_POLICIES: readonly ArchivePolicy[] = [
  { name: 'bool', back_window: 3600, aggregation_methods: ['last'], definition: [level(1, 365 * DAY)] },
  { name: 'low', back_window: 0, aggregation_methods: GNOCCHI_DEFAULT_METHODS, definition: [level(5 * MINUTE, 30 * DAY)] },
  { name: 'medium', back_window: 0, aggregation_methods: GNOCCHI_DEFAULT_METHODS, definition: [level(MINUTE, 7 * DAY), level(HOUR, 365 * DAY)] },
  { name: 'high', back_window: 0, aggregation_methods: GNOCCHI_DEFAULT_METHODS, definition: [level(1, HOUR), level(MINUTE, 7 * DAY), level(HOUR, 365 * DAY)] },
  { name: 'ceilometer-low', back_window: 0, aggregation_methods: ['mean'], definition: [level(5 * MINUTE, 30 * DAY)] },
  { name: 'ceilometer-low-rate', back_window: 0, aggregation_methods: ['mean', 'rate:mean'], definition: [level(5 * MINUTE, 30 * DAY)] },
  { name: 'ceilometer-high', back_window: 0, aggregation_methods: ['mean'], definition: [level(1, HOUR), level(MINUTE, DAY), level(HOUR, 365 * DAY)] },
  { name: 'ceilometer-high-rate', back_window: 0, aggregation_methods: ['mean', 'rate:mean'], definition: [level(1, HOUR), level(MINUTE, DAY), level(HOUR, 365 * DAY)] },
];

export interface ArchivePolicyRule {
  name: string;
  /** A metric name pattern; `*` matches any run of characters (Gnocchi's fnmatch rules). */
  metric_pattern: string;
  archive_policy_name: string;
}

/** Ceilometer's default: every metric it creates uses ceilometer-low unless a rule says otherwise. */
export const DEFAULT_ARCHIVE_POLICY_RULES: readonly ArchivePolicyRule[] = [{ name: 'default', metric_pattern: '*', archive_policy_name: 'ceilometer-low' }];

export class ArchivePolicyError extends CumulusError {
  constructor(message: string) {
    super('CUMULUS_PIPELINE_ARCHIVE_POLICY_UNKNOWN', message, { httpStatus: 400 });
    this.name = 'ArchivePolicyError';
  }
}

function patternToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/**
 * Picks a metric's policy as Gnocchi does: among the rules whose pattern matches the
 * metric name, the one with the longest pattern wins.
 */
export class ArchivePolicyResolver {
  private readonly policies: Map<string, ArchivePolicy>;
  private readonly rules: Array<ArchivePolicyRule & { regexp: RegExp }>;
  private readonly cache = new Map<string, ArchivePolicy>();

  constructor(policies: readonly ArchivePolicy[], rules: readonly ArchivePolicyRule[]) {
    this.policies = new Map(policies.map((p) => [p.name, p]));
    for (const rule of rules) {
      if (!this.policies.has(rule.archive_policy_name)) throw new ArchivePolicyError(`archive policy rule ${rule.name} names policy "${rule.archive_policy_name}", which does not exist`);
    }
    this.rules = [...rules].sort((a, b) => b.metric_pattern.length - a.metric_pattern.length).map((r) => ({ ...r, regexp: patternToRegExp(r.metric_pattern) }));
  }

  policy(name: string): ArchivePolicy {
    const found = this.policies.get(name);
    if (!found) throw new ArchivePolicyError(`archive policy "${name}" does not exist; known: ${[...this.policies.keys()].join(', ')}`);
    return found;
  }

  forMetric(metricName: string): ArchivePolicy {
    let policy = this.cache.get(metricName);
    if (!policy) {
      const rule = this.rules.find((r) => r.regexp.test(metricName));
      if (!rule) throw new ArchivePolicyError(`no archive policy rule matches metric "${metricName}"; add a rule (e.g. pattern "*")`);
      policy = this.policy(rule.archive_policy_name);
      this.cache.set(metricName, policy);
    }
    return policy;
  }
}
