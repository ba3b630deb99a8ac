import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.ts';
import { configSchema, type CumulusConfig } from './schema.ts';

type Env = Readonly<Record<string, string | undefined>>;
type Tree = Record<string, unknown>;

/**
 * Environment variables and the config key each one sets. Env wins over the file, the
 * file over defaults. A service URL in the env also selects that transport, so
 * `AMQP_URL=... KAFKA_BROKERS=... npm start` runs in services mode with no other switch.
 */
const ENV_KEYS: ReadonlyArray<readonly [string, string, (value: string) => unknown]> = [
  ['CUMULUS_PORT', 'port', String],
  ['CUMULUS_HOST', 'host', String],
  ['CUMULUS_DATA_DIR', 'dataDir', String],
  ['CUMULUS_ADMIN_PASSWORD', 'adminPassword', String],
  ['CUMULUS_LOG_LEVEL', 'logLevel', String],
  ['CUMULUS_METERING_SECRET', 'meteringSecret', String],
  ['AMQP_URL', 'bus.amqpUrl', String],
  ['CUMULUS_BUS', 'bus.kind', String],
  ['KAFKA_BROKERS', 'stream.brokers', splitList],
  ['CUMULUS_STREAM', 'stream.kind', String],
  ['CLICKHOUSE_URL', 'store.clickhouseUrl', String],
  ['CLICKHOUSE_CLUSTER', 'store.clickhouseCluster', String],
  ['CUMULUS_POLICY_FILE', 'api.policyFile', String],
  ['CUMULUS_METRICS_TOKEN', 'api.metricsBearerToken', String],
  ['CUMULUS_HOT_READS_MIB', 'api.hotReadsMiB', Number],
  ['CUMULUS_ALERT_ROUTING_FILE', 'alerts.routingFile', String],
  ['CUMULUS_ALARM_EVALUATION_SCHEDULE', 'alerts.evaluationSchedule', String],
  ['CUMULUS_SYNTHETIC_CHECKS', 'alerts.syntheticChecks', (v) => v.trim().toLowerCase()],
  ['CUMULUS_CAPACITY_REPORT_SCHEDULE', 'capacity.reportSchedule', String],
  ['CUMULUS_RATING_PERIOD_SECONDS', 'rating.periodSeconds', String],
  ['CUMULUS_RATING_SCHEDULE', 'rating.schedule', String],
  ['CUMULUS_RATING_CURRENCY', 'rating.currency', String],
  ['CUMULUS_RATING_SERVICES_FILE', 'rating.servicesFile', String],
  ['CUMULUS_STATEMENT_SCHEDULE', 'rating.statementSchedule', String],
  ['CLICKHOUSE_USER', 'store.clickhouseUser', String],
  ['CLICKHOUSE_PASSWORD', 'store.clickhousePassword', String],
  ['CLICKHOUSE_DATABASE', 'store.clickhouseDatabase', String],
  ['CUMULUS_POLLSTER_ENABLED', 'pollsters.compute.enabled', (v) => !['0', 'false', 'no', 'off'].includes(v.trim().toLowerCase())],
  ['CUMULUS_POLLING_INTERVAL_MS', 'pollsters.compute.intervalMs', String],
  ['CUMULUS_POLLSTER_SOURCE', 'pollsters.compute.source', String],
];

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1] as string] = value;
}

function getPath(tree: Tree, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Tree | undefined)?.[key], tree);
}

function readFileTree(path: string): Tree {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, err);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML/JSON: ${(err as Error).message}`, err);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a mapping of keys, got ${Array.isArray(parsed) ? 'a list' : typeof parsed}`);
  }
  return parsed as Tree;
}

/**
 * Builds the validated config from (lowest first) defaults, the file named by `file` or
 * CUMULUS_CONFIG, the environment, and `overrides` (for tests and the CLI's flags).
 * Throws ConfigError naming each bad key and what it must be.
 */
export function loadConfig(options: { env?: Env; file?: string; overrides?: Tree } = {}): CumulusConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.CUMULUS_CONFIG;
  const tree: Tree = file ? readFileTree(file) : {};
  for (const [variable, path, convert] of ENV_KEYS) {
    const value = env[variable];
    if (value !== undefined && value !== '') setPath(tree, path, convert(value));
  }
  if (getPath(tree, 'bus.amqpUrl') !== undefined && getPath(tree, 'bus.kind') === undefined) setPath(tree, 'bus.kind', 'amqp');
  const brokers = getPath(tree, 'stream.brokers');
  if (Array.isArray(brokers) && brokers.length > 0 && getPath(tree, 'stream.kind') === undefined) setPath(tree, 'stream.kind', 'kafka');
  for (const [path, value] of Object.entries(options.overrides ?? {})) setPath(tree, path, value);

  const result = configSchema.safeParse(tree);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(root)';
      const variable = ENV_KEYS.find(([, path]) => path === key)?.[0];
      return `${key}${variable ? ` (env ${variable})` : ''}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}
