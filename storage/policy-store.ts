/**
 * Archive policies and archive policy rules in the transactional store (SQLite), with
 * Gnocchi's rules for each change (gnocchi/indexer/sqlalchemy.py, gnocchi/rest/api.py),
 * and a synchronous, cached metric -> policy resolver for the pipeline's per-sample path.
 * Stable API.
 */
import { ConfigError, systemClock, migrateState, type Clock, type StateDatabase } from '../core/index.ts';
import {
  ArchivePolicyError,
  ArchivePolicyResolver,
  DEFAULT_ARCHIVE_POLICY_RULES,
  GNOCCHI_DEFAULT_METHODS,
  builtinArchivePolicies,
  compareArchivePolicyRules,
  parseArchivePolicy,
  parseArchivePolicyLevel,
  isAggregationMethod,
  parseName,
  type ArchivePolicy,
  type ArchivePolicyInput,
  type ArchivePolicyLevel,
  type ArchivePolicyRule,
} from './archive-policies.ts';

/** How often (at most) the resolver checks whether another connection changed the tables. */
export const DEFAULT_POLICY_REFRESH_INTERVAL_MS = 1000;

export interface PolicyStoreConfig {
  /** Gnocchi's `[archive_policy] default_aggregation_methods`; low, medium and high are seeded with them. */
  readonly defaultAggregationMethods?: readonly string[];
  readonly refreshIntervalMs?: number;
}

export interface PolicyStoreDeps {
  readonly db: StateDatabase;
  /** Whether any metric uses the policy (metrics live in ClickHouse); consulted before a delete. */
  readonly isPolicyInUse: (name: string) => Promise<boolean>;
  readonly clock?: Clock;
}

export interface PolicyStore {
  /**
   * The cached resolver the pipeline and the API share (pass it where an
   * ArchivePolicyResolver is expected); kept current by every change made here, and by
   * changes from other connections within refreshIntervalMs.
   */
  readonly resolver: ArchivePolicyResolver;
  /** Creates a policy from a Gnocchi POST body; 400 when invalid, 409 when the name exists. */
  createPolicy(input: ArchivePolicyInput): ArchivePolicy;
  /** 404 when absent. */
  getPolicy(name: string): ArchivePolicy;
  listPolicies(): ArchivePolicy[];
  /**
   * Gnocchi's PATCH: only `definition`, with exactly the same granularities (points and
   * timespan may change); 400 otherwise, 404 when absent.
   */
  updatePolicy(name: string, input: { definition?: unknown }): ArchivePolicy;
  /** 404 when absent; 400 while a rule or a metric uses it. */
  deletePolicy(name: string): Promise<void>;
  /** 400 when invalid or its policy does not exist, 409 when the name exists. */
  createRule(input: { name?: unknown; metric_pattern?: unknown; archive_policy_name?: unknown }): ArchivePolicyRule;
  getRule(name: string): ArchivePolicyRule;
  /** In the order Gnocchi tries them: pattern descending, then name. */
  listRules(): ArchivePolicyRule[];
  /** Gnocchi's rule PATCH: only `name` changes; 400 when the new name is taken. */
  renameRule(name: string, input: { name?: unknown }): ArchivePolicyRule;
  deleteRule(name: string): void;
  /** The policy the rules give `metricName` (400 when no rule matches); synchronous and cached. */
  policyForMetric(metricName: string): ArchivePolicy;
}

const MIGRATIONS = [
  `CREATE TABLE archive_policies (
    name TEXT PRIMARY KEY,
    back_window INTEGER NOT NULL CHECK (back_window >= 0),
    aggregation_methods TEXT NOT NULL,
    definition TEXT NOT NULL
  )`,
  // A rule keeps its policy alive: deleting a policy a rule names fails (Gnocchi's fk_apr_ap_name_ap_name).
  `CREATE TABLE archive_policy_rules (
    name TEXT PRIMARY KEY,
    metric_pattern TEXT NOT NULL,
    archive_policy_name TEXT NOT NULL REFERENCES archive_policies(name) ON DELETE RESTRICT
  )`,
  // Seeded once per database, so a deleted built-in stays deleted.
  'CREATE TABLE archive_policy_seed (seeded_at TEXT NOT NULL)',
];

interface PolicyRow {
  name: string;
  back_window: number;
  aggregation_methods: string;
  definition: string;
}

const fromRow = (row: PolicyRow): ArchivePolicy => ({
  name: row.name,
  back_window: row.back_window,
  aggregation_methods: JSON.parse(row.aggregation_methods) as string[],
  definition: JSON.parse(row.definition) as ArchivePolicyLevel[],
});

const notFound = (name: string) => new ArchivePolicyError('CUMULUS_PIPELINE_ARCHIVE_POLICY_NOT_FOUND', `Archive policy ${name} does not exist`);
const ruleNotFound = (name: string) => new ArchivePolicyError('CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_NOT_FOUND', `Archive policy rule ${name} does not exist`);
const inUse = (name: string, by: string) => new ArchivePolicyError('CUMULUS_PIPELINE_ARCHIVE_POLICY_IN_USE', `Archive policy ${name} is still in use (${by}); expected no rule and no metric to use it`);
const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';

function onlyKeys(input: unknown, keys: readonly string[], what: string, code: 'CUMULUS_PIPELINE_ARCHIVE_POLICY_INVALID' | 'CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID'): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ArchivePolicyError(code, `expected ${what} object {${keys.join(', ')}}, got ${JSON.stringify(input) ?? String(input)}`);
  const extra = Object.keys(input).filter((k) => !keys.includes(k));
  if (extra.length > 0) throw new ArchivePolicyError(code, `expected only ${keys.join(', ')} in ${what}; got also ${extra.join(', ')}`);
  return input as Record<string, unknown>;
}

export function createPolicyStore(config: PolicyStoreConfig, deps: PolicyStoreDeps): PolicyStore {
  const defaults = [...(config.defaultAggregationMethods ?? GNOCCHI_DEFAULT_METHODS)];
  if (defaults.length === 0 || !defaults.every(isAggregationMethod)) {
    throw new ConfigError(`archive policies: defaultAggregationMethods must be a non-empty list of aggregation methods (mean, 95pct, rate:sum...), got ${JSON.stringify(config.defaultAggregationMethods)}`);
  }
  const refreshIntervalMs = config.refreshIntervalMs ?? DEFAULT_POLICY_REFRESH_INTERVAL_MS;
  if (!Number.isFinite(refreshIntervalMs) || refreshIntervalMs < 0) throw new ConfigError(`archive policies: refreshIntervalMs must be a number of milliseconds >= 0, got ${refreshIntervalMs}`);
  const { db, isPolicyInUse } = deps;
  const clock = deps.clock ?? systemClock;

  migrateState(db, 'storage.archive-policies', MIGRATIONS);

  const statements = {
    insertPolicy: db.prepare('INSERT INTO archive_policies (name, back_window, aggregation_methods, definition) VALUES (?, ?, ?, ?)'),
    getPolicy: db.prepare('SELECT name, back_window, aggregation_methods, definition FROM archive_policies WHERE name = ?'),
    listPolicies: db.prepare('SELECT name, back_window, aggregation_methods, definition FROM archive_policies ORDER BY name'),
    setDefinition: db.prepare('UPDATE archive_policies SET definition = ? WHERE name = ?'),
    deletePolicy: db.prepare('DELETE FROM archive_policies WHERE name = ?'),
    rulesUsing: db.prepare('SELECT name FROM archive_policy_rules WHERE archive_policy_name = ? ORDER BY name'),
    insertRule: db.prepare('INSERT INTO archive_policy_rules (name, metric_pattern, archive_policy_name) VALUES (?, ?, ?)'),
    getRule: db.prepare('SELECT name, metric_pattern, archive_policy_name FROM archive_policy_rules WHERE name = ?'),
    listRules: db.prepare('SELECT name, metric_pattern, archive_policy_name FROM archive_policy_rules'),
    renameRule: db.prepare('UPDATE archive_policy_rules SET name = ? WHERE name = ?'),
    deleteRule: db.prepare('DELETE FROM archive_policy_rules WHERE name = ?'),
    seeded: db.prepare('SELECT count(*) AS n FROM archive_policy_seed'),
    markSeeded: db.prepare('INSERT INTO archive_policy_seed (seeded_at) VALUES (?)'),
  };

  const readPolicy = (name: string): ArchivePolicy | undefined => {
    const row = statements.getPolicy.get(name) as PolicyRow | undefined;
    return row ? fromRow(row) : undefined;
  };
  const readPolicies = () => (statements.listPolicies.all() as PolicyRow[]).map(fromRow);
  const readRules = () => (statements.listRules.all() as ArchivePolicyRule[]).sort(compareArchivePolicyRules);
  const writePolicy = (p: ArchivePolicy) => statements.insertPolicy.run(p.name, p.back_window, JSON.stringify(p.aggregation_methods), JSON.stringify(p.definition));

  // 1. seed the built-ins and the default rule once per database, atomically with the flag.
  db.transaction(() => {
    if ((statements.seeded.get() as { n: number }).n > 0) return;
    for (const policy of builtinArchivePolicies(defaults)) if (!readPolicy(policy.name)) writePolicy(policy);
    for (const rule of DEFAULT_ARCHIVE_POLICY_RULES) if (!statements.getRule.get(rule.name)) statements.insertRule.run(rule.name, rule.metric_pattern, rule.archive_policy_name);
    statements.markSeeded.run(new Date(clock.nowMs()).toISOString());
  })();

  // 2. the resolver, reloaded after our own changes and, when asked, if another connection
  // committed: the pipeline and the API call it directly, so it checks on every answer.
  let refreshIfStale = () => {};
  class StoreResolver extends ArchivePolicyResolver {
    override forMetric(metricName: string): ArchivePolicy {
      refreshIfStale();
      return super.forMetric(metricName);
    }
    override policy(name: string): ArchivePolicy {
      refreshIfStale();
      return super.policy(name);
    }
    override policies(): ArchivePolicy[] {
      refreshIfStale();
      return super.policies();
    }
    override rules(): ArchivePolicyRule[] {
      refreshIfStale();
      return super.rules();
    }
  }
  const resolver = new StoreResolver(readPolicies(), readRules());
  const dataVersion = () => db.pragma('data_version', { simple: true }) as number;
  let seenVersion = dataVersion();
  let checkedAtMs = clock.nowMs();
  const reload = () => {
    resolver.update(readPolicies(), readRules());
    seenVersion = dataVersion();
    checkedAtMs = clock.nowMs();
  };
  refreshIfStale = () => {
    const now = clock.nowMs();
    // abs: a warped clock may jump back, which must not stall the refresh.
    if (Math.abs(now - checkedAtMs) < refreshIntervalMs) return;
    checkedAtMs = now;
    // data_version moves only for commits by other connections; ours reload explicitly.
    if (dataVersion() !== seenVersion) reload();
  };

  return {
    resolver,

    createPolicy(input) {
      const policy = parseArchivePolicy(input, defaults);
      try {
        writePolicy(policy);
      } catch (err) {
        if (isUniqueViolation(err)) throw new ArchivePolicyError('CUMULUS_PIPELINE_ARCHIVE_POLICY_EXISTS', `Archive policy ${policy.name} already exists`, err);
        throw err;
      }
      reload();
      return policy;
    },

    getPolicy(name) {
      const policy = readPolicy(name);
      if (!policy) throw notFound(name);
      return policy;
    },

    listPolicies: readPolicies,

    updatePolicy(name, input) {
      const current = readPolicy(name);
      if (!current) throw notFound(name);
      const body = onlyKeys(input, ['definition'], 'an archive policy change', 'CUMULUS_PIPELINE_ARCHIVE_POLICY_INVALID');
      if (!Array.isArray(body.definition) || body.definition.length === 0) {
        throw new ArchivePolicyError('CUMULUS_PIPELINE_ARCHIVE_POLICY_INVALID', `definition: expected a non-empty list of {granularity, points | timespan} items, got ${JSON.stringify(body.definition) ?? 'nothing'}`);
      }
      // Gnocchi validates each item, then compares the sorted granularities with the stored ones.
      const next = body.definition.map((item, i) => parseArchivePolicyLevel(item, `definition[${i}]`));
      const before = current.definition.map((l) => l.granularity).sort((a, b) => a - b);
      const after = next.map((l) => l.granularity).sort((a, b) => a - b);
      const unsupported = (why: string) => new ArchivePolicyError('CUMULUS_PIPELINE_ARCHIVE_POLICY_CHANGE_UNSUPPORTED', `Archive policy ${name} does not support change: ${why}`);
      if (before.length !== after.length) throw unsupported(`Cannot add or drop granularities; expected ${before.length} level(s) with granularities ${before.join(', ')} s, got ${after.length}`);
      before.forEach((g, i) => {
        if (after[i] !== g) throw unsupported(`${g} granularity interval was changed; expected granularities ${before.join(', ')} s, got ${after.join(', ')} s`);
      });
      statements.setDefinition.run(JSON.stringify(next), name);
      reload();
      return { ...current, definition: next };
    },

    async deletePolicy(name) {
      if (!readPolicy(name)) throw notFound(name);
      const rulesUsing = () => (statements.rulesUsing.all(name) as Array<{ name: string }>).map((r) => r.name);
      // 1. rules first: cheap, and Gnocchi's foreign key refuses them as "in use" too.
      if (rulesUsing().length > 0) throw inUse(name, `rules ${rulesUsing().join(', ')}`);
      // 2. metrics, in ClickHouse; a metric created meanwhile is not seen (no shared transaction).
      if (await isPolicyInUse(name)) throw inUse(name, 'metrics');
      // 3. delete, re-checking the rules a concurrent call may have added during the await.
      db.transaction(() => {
        if (rulesUsing().length > 0) throw inUse(name, `rules ${rulesUsing().join(', ')}`);
        if (statements.deletePolicy.run(name).changes === 0) throw notFound(name);
      })();
      reload();
    },

    createRule(input) {
      const body = onlyKeys(input, ['name', 'metric_pattern', 'archive_policy_name'], 'an archive policy rule', 'CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID');
      const rule: ArchivePolicyRule = {
        name: parseName(body.name, 'name', 'CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID'),
        metric_pattern: parseName(body.metric_pattern, 'metric_pattern', 'CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID'),
        archive_policy_name: parseName(body.archive_policy_name, 'archive_policy_name', 'CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID'),
      };
      db.transaction(() => {
        // Gnocchi answers an unknown policy with 400 here (the rule is what is invalid), not 404.
        if (!readPolicy(rule.archive_policy_name)) throw new ArchivePolicyError('CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID', `Archive policy ${rule.archive_policy_name} does not exist; expected archive_policy_name to name an existing policy`);
        if (statements.getRule.get(rule.name)) throw new ArchivePolicyError('CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_EXISTS', `Archive policy rule ${rule.name} already exists`);
        statements.insertRule.run(rule.name, rule.metric_pattern, rule.archive_policy_name);
      })();
      reload();
      return rule;
    },

    getRule(name) {
      const rule = statements.getRule.get(name) as ArchivePolicyRule | undefined;
      if (!rule) throw ruleNotFound(name);
      return rule;
    },

    listRules: readRules,

    renameRule(name, input) {
      const body = onlyKeys(input, ['name'], 'an archive policy rule change', 'CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID');
      const newName = parseName(body.name, 'name', 'CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_INVALID');
      const renamed = db.transaction(() => {
        const rule = statements.getRule.get(name) as ArchivePolicyRule | undefined;
        if (!rule) throw ruleNotFound(name);
        if (newName !== name && statements.getRule.get(newName)) {
          throw new ArchivePolicyError('CUMULUS_PIPELINE_ARCHIVE_POLICY_RULE_CHANGE_UNSUPPORTED', `Archive policy rule ${name} does not support change: Archive policy rule ${newName} already exists.`);
        }
        statements.renameRule.run(newName, name);
        return { ...rule, name: newName };
      })();
      reload();
      return renamed;
    },

    deleteRule(name) {
      if (statements.deleteRule.run(name).changes === 0) throw ruleNotFound(name);
      reload();
    },

    policyForMetric: (metricName) => resolver.forMetric(metricName),
  };
}
