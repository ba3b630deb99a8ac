import { z } from 'zod';

/** Defaults, named with their units. Stable config keys unless marked experimental. */
export const DEFAULT_PORT = 8000;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_LOG_LEVEL = 'info';
export const DEFAULT_KAFKA_CLIENT_ID = 'cumulus';
/** Ceilometer's default polling interval. */
export const DEFAULT_COMPUTE_POLLSTER_INTERVAL_MS = 600_000;

const COMPUTE_POLLSTER_DEFAULTS = { enabled: true, intervalMs: DEFAULT_COMPUTE_POLLSTER_INTERVAL_MS, hardwareMeters: false, publishAs: 'samples' as const, username: 'admin', projectName: 'admin' };

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const url = (protocols: readonly string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

export const configSchema = z
  .object({
    /** HTTP port of the one API server (Keystone at /identity/v3, the rest under their prefixes); 0 picks a free one. */
    port: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORT),
    host: z.string().min(1).default(DEFAULT_HOST),
    /** chDB data, the control plane's state and generated secrets live here. */
    dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
    /** Password of `admin` in project `admin`; generated (and printed once) when unset. */
    adminPassword: z.string().min(8, 'must be at least 8 characters').optional(),
    logLevel: logLevel.default(DEFAULT_LOG_LEVEL),
    /** HMAC key for sample signatures (Ceilometer's telemetry_secret); generated into dataDir when unset. */
    meteringSecret: z.string().min(16, 'must be at least 16 characters').optional(),
    bus: z
      .object({
        kind: z.enum(['memory', 'amqp']).default('memory'),
        amqpUrl: url(['amqp:', 'amqps:']).optional(),
      })
      .default({ kind: 'memory' })
      .refine((bus) => bus.kind !== 'amqp' || bus.amqpUrl !== undefined, {
        message: 'bus.kind "amqp" needs bus.amqpUrl (env AMQP_URL)',
      }),
    stream: z
      .object({
        kind: z.enum(['memory', 'kafka']).default('memory'),
        brokers: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port')).default([]),
        clientId: z.string().min(1).default(DEFAULT_KAFKA_CLIENT_ID),
      })
      .default({ kind: 'memory', brokers: [], clientId: DEFAULT_KAFKA_CLIENT_ID })
      .refine((stream) => stream.kind !== 'kafka' || stream.brokers.length > 0, {
        message: 'stream.kind "kafka" needs stream.brokers (env KAFKA_BROKERS=host:port,...)',
      }),
    /** Experimental: the compute pollster (guest and host meters from the hypervisor layer). */
    pollsters: z
      .object({
        compute: z
          .object({
            enabled: z.boolean().default(true),
            intervalMs: z.coerce.number().int().min(1000).max(2_147_483_647).default(DEFAULT_COMPUTE_POLLSTER_INTERVAL_MS),
            hardwareMeters: z.boolean().default(false),
            /** samples (one signed record per measure, Ceilometer's model) or measure-batches (a host's poll as one signed record); docs/pollsters.md. */
            publishAs: z.enum(['samples', 'measure-batches']).default('samples'),
            /** in-process when embedded, http (the /cloud-admin API) in services mode, unless set. */
            source: z.enum(['in-process', 'http']).optional(),
            authUrl: url(['http:', 'https:']).optional(),
            adminUrl: url(['http:', 'https:']).optional(),
            username: z.string().min(1).default('admin'),
            password: z.string().min(1).optional(),
            projectName: z.string().min(1).default('admin'),
          })
          .strict()
          .default(COMPUTE_POLLSTER_DEFAULTS),
      })
      .strict()
      .default({ compute: COMPUTE_POLLSTER_DEFAULTS }),
    store: z
      .object({
        clickhouseUrl: url(['http:', 'https:']).optional(),
        clickhouseUser: z.string().optional(),
        clickhousePassword: z.string().optional(),
        clickhouseDatabase: z.string().optional(),
        /** Experimental: a ClickHouse cluster (its remote_servers name, env CLICKHOUSE_CLUSTER); migrations then run as ON CLUSTER DDL with replicated, sharded tables (docs/scale-out.md). */
        clickhouseCluster: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a ClickHouse identifier (letters, digits, _)').optional(),
      })
      .default({}),
    api: z
      .object({
        /** An oslo.policy-style YAML/JSON file whose rules override the API's defaults (env CUMULUS_POLICY_FILE); docs/api.md lists them. */
        policyFile: z.string().min(1).optional(),
        /** A bearer token Prometheus must send to read /metrics (env CUMULUS_METRICS_TOKEN); none: /metrics is open like the health probes (docs/operations.md). */
        metricsBearerToken: z.string().min(16, 'must be at least 16 characters').optional(),
        /**
         * Memory for recently written metrics' rollups, which single-metric reads then take
         * from memory (MiB, env CUMULUS_HOT_READS_MIB; 0 turns it off). Used by `cumulus up`
         * only, where every writer of measures runs in the API's process (docs/archive-policies.md).
         */
        hotReadsMiB: z.number().int('must be a whole number of MiB').min(0).max(1_048_576).default(256),
      })
      .strict()
      .default({ hotReadsMiB: 256 }),
    /** Alarms and notifications (docs/alerts.md). Experimental keys. */
    alerts: z
      .object({
        /** The routing tree, receivers and inhibition rules: a YAML/JSON file (env CUMULUS_ALERT_ROUTING_FILE); without one, only Aodh's alarm actions are delivered. */
        routingFile: z.string().min(1).optional(),
        /** How often alarms are evaluated: a cron expression, seconds field allowed (env CUMULUS_ALARM_EVALUATION_SCHEDULE; default every 10 s). */
        evaluationSchedule: z.string().min(1).optional(),
        /** Synthetic availability checks from a dedicated monitoring project (env CUMULUS_SYNTHETIC_CHECKS; default on). */
        syntheticChecks: z.union([z.boolean(), z.enum(['0', '1', 'true', 'false', 'on', 'off', 'yes', 'no']).transform((v) => ['1', 'true', 'on', 'yes'].includes(v))]).default(true),
      })
      .strict()
      .default({ syntheticChecks: true }),
    /** Capacity planning (docs/capacity.md). Experimental keys. */
    capacity: z
      .object({
        /** When the capacity planning report is written to <data>/reports: a cron expression in UTC (env CUMULUS_CAPACITY_REPORT_SCHEDULE; default 06:00 on the 1st). */
        reportSchedule: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    /** Showback and chargeback (docs/rating.md). Experimental keys; the processor checks ranges and names the key. */
    rating: z
      .object({
        /** Seconds per rated period (env CUMULUS_RATING_PERIOD_SECONDS; default 3600: hourly). */
        periodSeconds: z.coerce.number().int().positive().optional(),
        /** When the processor runs: a cron expression (env CUMULUS_RATING_SCHEDULE; default "15 * * * *"). */
        schedule: z.string().min(1).optional(),
        /** How long after its end a period may still receive data, in seconds (default 600). */
        settleDelaySeconds: z.coerce.number().int().nonnegative().optional(),
        /** The ISO 4217 code rated frames and statements are in (env CUMULUS_RATING_CURRENCY; default EUR). */
        currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code of three capital letters (EUR, USD, CHF...)').optional(),
        /** The rated services file (env CUMULUS_RATING_SERVICES_FILE; default pipeline/rating/services.yaml). */
        servicesFile: z.string().min(1).optional(),
        /** When monthly statements are issued: a cron expression (env CUMULUS_STATEMENT_SCHEDULE; default 07:00 on the 1st). */
        statementSchedule: z.string().min(1).optional(),
        /** The IANA time zone the statement schedule is read in (default UTC). */
        statementTimezone: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export type CumulusConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
