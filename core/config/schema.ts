import { z } from 'zod';

/** Defaults, named with their units. Stable config keys unless marked experimental. */
export const DEFAULT_PORT = 8000;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_LOG_LEVEL = 'info';
export const DEFAULT_KAFKA_CLIENT_ID = 'cumulus';
/** Ceilometer's default polling interval. */
export const DEFAULT_COMPUTE_POLLSTER_INTERVAL_MS = 600_000;

const COMPUTE_POLLSTER_DEFAULTS = { enabled: true, intervalMs: DEFAULT_COMPUTE_POLLSTER_INTERVAL_MS, hardwareMeters: false, username: 'admin', projectName: 'admin' };

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
      })
      .strict()
      .default({}),
  })
  .strict();

export type CumulusConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
