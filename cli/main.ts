import { parseArgs } from 'node:util';
import { CumulusError, WarpClock, createLogger, loadConfig } from '../core/index.ts';
import { collectCommand } from './collect.ts';
import { startCollectorStage } from './collector.ts';
import { startPipelineStage } from './pipeline.ts';
import { runCloudCommand } from '../cloud/deployment/cli.ts';
import { parseSimulateOptions, simulateCommand, warp } from './simulate.ts';
import { startPlatform } from './platform.ts';
import { exportDashboards } from '../dashboards/index.ts';
import { reportCommand } from './report.ts';

const USAGE = `cumulus <command> [options]

Commands (stable unless marked):
  up         run the whole platform in one process (embedded default: in-process bus and stream, chDB)
  simulate   (experimental) build N days of history with seeded tenants, through the whole pipeline, then stop
  collector  run the collection stage alone: RabbitMQ (AMQP_URL) -> Kafka (KAFKA_BROKERS) [--queue NAME]
  pipeline   run the pipeline stage alone: Kafka (KAFKA_BROKERS) -> ClickHouse (CLICKHOUSE_URL, else chDB in the data folder)
             [--group NAME] [--max-batch N]; workers with the same group share the partitions
  collect    map captured notifications (JSON lines) to Ceilometer samples offline:
             collect --input FILE --output FILE [--meters meters.yaml] [--dead FILE] [--strict]
  cloud      (experimental) the cloud's deployment and fault injection, over the admin API:
             cloud deployment
             cloud fault <stop|kill|start|restart|slow|fail-host|recover-host> --host H [--process P] [--latency-ms N] [--url URL]
             cloud fault list [--host H] [--limit N]
  dashboards Grafana dashboards and provisioning files, as JSON/YAML:
             dashboards export --output DIR [--clickhouse-url URL] [--prometheus-url URL]
               [--clickhouse-database DB] [--clickhouse-user USER] [--dashboards-path PATH]
             defaults: http://localhost:8123, http://localhost:9090, default, grafana,
             /var/lib/grafana/dashboards/cumulus (where Grafana sees DIR); password: CLICKHOUSE_PASSWORD in Grafana's env
  report     (experimental) reports from a running Cumulus:
             report capacity --format html|pdf|csv|json --output FILE [--scope cloud|az:Z|aggregate:A|host:H]
               [--horizon-days N] [--history-days N] [--url URL]  (credentials: OS_* env, else the data folder's admin)
  help       this text

Options of "up" and "simulate":
  --port N          API port (env CUMULUS_PORT, default 8000)
  --data-dir DIR    data folder (env CUMULUS_DATA_DIR, default ./data)
  --config FILE     YAML/JSON config file (env CUMULUS_CONFIG)
  --days N          simulate: days of history to build (default 30); up --simulate: days to warp first (default 7)
  --seed S          simulator seed (default 42): the same seed plays the same history
  --tenants T       simulated tenants (default 8)
  --simulate        up: warp history first, then keep tenants playing in real time

Services mode: set AMQP_URL (RabbitMQ), KAFKA_BROKERS (Kafka) and/or CLICKHOUSE_URL.`;

const COMMON_OPTIONS = {
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  days: { type: 'string' },
  seed: { type: 'string' },
  tenants: { type: 'string' },
  simulate: { type: 'boolean' },
} as const;

function configFrom(values: { port?: string; 'data-dir'?: string; config?: string }) {
  const overrides: Record<string, unknown> = {};
  if (values.port !== undefined) overrides.port = values.port;
  if (values['data-dir'] !== undefined) overrides.dataDir = values['data-dir'];
  return loadConfig({ file: values.config, overrides });
}

async function simulate(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: COMMON_OPTIONS, strict: true });
  const config = configFrom(values);
  const options = parseSimulateOptions(values, { days: 30, seed: 42, tenants: 8 });
  await simulateCommand({ ...config, port: values.port === undefined ? 0 : config.port }, options, createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel }));
}

async function collector(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, 'data-dir': { type: 'string' }, queue: { type: 'string' } }, strict: true });
  const config = configFrom(values);
  const logger = createLogger({ level: config.logLevel });
  const stage = await startCollectorStage(config, logger, { queue: values.queue });
  runUntilSignalled(stage, logger, 'collector');
}

/** A stage that runs until SIGINT/SIGTERM, then stops cleanly. */
function runUntilSignalled(stage: { stop(): Promise<void> }, logger: ReturnType<typeof createLogger>, name: string): void {
  logger.info(`${name} stage running`);
  const shutdown = () => {
    stage.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, `${name} shutdown failed`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

async function pipeline(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, 'data-dir': { type: 'string' }, group: { type: 'string' }, 'max-batch': { type: 'string' } }, strict: true });
  const config = configFrom(values);
  const logger = createLogger({ level: config.logLevel });
  const maxBatch = values['max-batch'] === undefined ? undefined : Number(values['max-batch']);
  if (maxBatch !== undefined && (!Number.isInteger(maxBatch) || maxBatch < 1)) throw new CumulusError('CUMULUS_CLI_BAD_OPTION', `--max-batch must be a whole number >= 1, got "${values['max-batch']}"`);
  const stage = await startPipelineStage(config, logger, { ...(values.group !== undefined ? { groupId: values.group } : {}), ...(maxBatch !== undefined ? { maxBatchRecords: maxBatch } : {}) });
  runUntilSignalled(stage, logger, 'pipeline');
}

async function up(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: COMMON_OPTIONS, strict: true });
  const config = configFrom(values);
  const logger = createLogger({ level: config.logLevel });
  const clock = new WarpClock();
  const platform = await startPlatform(config, { logger, clock });
  let simulating = false;
  if (values.simulate) {
    const options = parseSimulateOptions(values, { days: 7, seed: 42, tenants: 8 });
    const { simulator, startMs } = await warp(platform, clock, options, logger);
    simulating = true;
    void simulator.live(startMs, 60_000, () => simulating, () => clock.nowMs()).catch((err: unknown) => logger.error({ err }, 'the live simulation stopped'));
  }
  const modes = `bus=${config.bus.kind} stream=${config.stream.kind} store=${config.store.clickhouseUrl ? 'clickhouse-server' : 'chdb'}`;
  // The one place a secret is shown: the operator's own terminal, once, at start.
  process.stdout.write(
    [
      '',
      `Cumulus is up (${modes}); data in ${config.dataDir}`,
      `  Keystone (identity v3):  ${platform.url}/identity/v3`,
      `  Nova (compute v2.1):     ${platform.url}/compute/v2.1`,
      `  Gnocchi (metric v1):     ${platform.url}/metric/v1`,
      `  Health:                  ${platform.url}/healthz`,
      '',
      '  Admin credentials (user admin, project admin, domain Default):',
      `    export OS_AUTH_URL=${platform.url}/identity/v3 OS_USERNAME=admin OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3`,
      platform.adminPasswordGenerated || !config.adminPassword
        ? `    export OS_PASSWORD=${platform.adminPassword}   # generated; kept in ${config.dataDir}/secrets/admin-password`
        : '    OS_PASSWORD: the value of CUMULUS_ADMIN_PASSWORD',
      '',
    ].join('\n') + '\n',
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    simulating = false;
    logger.info({ signal }, 'shutting down');
    platform.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

async function dashboards(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  if (verb !== 'export') throw new CumulusError('CUMULUS_CLI_BAD_OPTION', `dashboards: expected the subcommand "export", got "${verb ?? ''}"`);
  const { values } = parseArgs({
    args: rest,
    options: { output: { type: 'string' }, 'clickhouse-url': { type: 'string' }, 'prometheus-url': { type: 'string' }, 'clickhouse-database': { type: 'string' }, 'clickhouse-user': { type: 'string' }, 'dashboards-path': { type: 'string' } },
    strict: true,
  });
  if (!values.output) throw new CumulusError('CUMULUS_CLI_BAD_OPTION', 'dashboards export: --output DIR is required (the folder to write the dashboards and provisioning files to)');
  const result = await exportDashboards(values.output, {
    clickhouseUrl: values['clickhouse-url'],
    prometheusUrl: values['prometheus-url'],
    clickhouseDatabase: values['clickhouse-database'],
    clickhouseUser: values['clickhouse-user'],
    dashboardsPath: values['dashboards-path'],
  });
  process.stdout.write([...result.dashboards.map((d) => `${d.file}  (${d.title})`), ...result.provisioning].join('\n') + '\n');
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      return up(rest);
    case 'simulate':
      return simulate(rest);
    case 'collector':
      return collector(rest);
    case 'pipeline':
      return pipeline(rest);
    case 'collect':
      process.exitCode = await collectCommand(rest);
      return;
    case 'cloud':
      process.exitCode = await runCloudCommand(rest, process.env);
      return;
    case 'dashboards':
      return dashboards(rest);
    case 'report': {
      // Where the platform is: the same --port/--data-dir/--config as `up` (the report command checks the rest).
      const option = (name: string) => (rest.includes(name) ? rest[rest.indexOf(name) + 1] : undefined);
      const config = configFrom({ port: option('--port'), 'data-dir': option('--data-dir'), config: option('--config') });
      return reportCommand(rest, config, { env: process.env, say: (line) => process.stderr.write(`${line}\n`) });
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}\n`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof CumulusError) process.stderr.write(`cumulus: ${err.code}: ${err.message}\n`);
  else process.stderr.write(`cumulus: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
