import { ConfigError } from '../../core/index.ts';

/**
 * Heat's settings as the embedded control plane runs it: the defaults of a stock
 * heat-engine (heat/common/config.py) where Heat has one. Stable.
 */

/** The control exchange heat's oslo.messaging notifier publishes to. */
export const HEAT_EXCHANGE = 'heat';

/** heat/engine/notification: event types are `orchestration.<event>`, publisher `orchestration.<host>`. */
export const NOTIFICATION_SERVICE = 'orchestration';

/** The catalog path of the API (type `orchestration`, name `heat`); `{project_id}` is filled per token. */
export const API_PREFIX = '/heat-api';

/** How often a server resource asks the compute service whether its server is ACTIVE yet. */
export const DEFAULT_POLL_INTERVAL_MS = 50;

/**
 * How long one resource may take to become ready before it fails with "Create timed out".
 * Heat's own limit is per stack (`stack_action_timeout`, 3600 s); one per resource keeps
 * a stuck build from holding a stack for an hour in the simulator.
 */
export const DEFAULT_RESOURCE_TIMEOUT_MS = 10 * 60 * 1000;

/** `max_template_size`: characters of a template. */
export const MAX_TEMPLATE_SIZE = 524_288;

/** `max_resources_per_stack`. */
export const MAX_RESOURCES_PER_STACK = 1000;

/** `max_stacks_per_tenant`; admins are not counted against it, as in Heat. */
export const DEFAULT_MAX_STACKS_PER_PROJECT = 512;

/** The metadata key servers (and, through the creators, other resources) get, naming their stack. */
export const METERING_STACK_KEY = 'metering.stack';

/** The template versions heat-engine registers (setup.cfg `heat.templates`), HOT only. */
export const HOT_VERSIONS: readonly string[] = [
  '2013-05-23', '2014-10-16', '2015-04-30', '2015-10-15', '2016-04-08', '2016-10-14', 'newton', '2017-02-24', 'ocata',
  '2017-09-01', 'pike', '2018-03-02', 'queens', '2018-08-31', 'rocky', '2021-04-16', 'wallaby',
];

/** Tunables of the engine, resolved from the factory's options. */
export interface HeatSettings {
  /** The engine's host name: `publisher_id` is `orchestration.<host>`. */
  host: string;
  pollIntervalMs: number;
  resourceTimeoutMs: number;
  maxStacksPerProject: number;
}

const positiveInteger = (field: string, value: number | undefined, fallback: number): number => {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved <= 0) throw new ConfigError(`heat.${field} must be a positive integer; got ${String(value)}`);
  return resolved;
};

export function resolveSettings(options: { host?: string; pollIntervalMs?: number; resourceTimeoutMs?: number; maxStacksPerProject?: number }, defaultHost: string): HeatSettings {
  const host = options.host ?? defaultHost;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(host)) throw new ConfigError(`heat.host must be a host name (letters, digits, ".", "_", "-"); got ${JSON.stringify(host)}`);
  return {
    host,
    pollIntervalMs: positiveInteger('pollIntervalMs', options.pollIntervalMs, DEFAULT_POLL_INTERVAL_MS),
    resourceTimeoutMs: positiveInteger('resourceTimeoutMs', options.resourceTimeoutMs, DEFAULT_RESOURCE_TIMEOUT_MS),
    maxStacksPerProject: positiveInteger('maxStacksPerProject', options.maxStacksPerProject, DEFAULT_MAX_STACKS_PER_PROJECT),
  };
}
