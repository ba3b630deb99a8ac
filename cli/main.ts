import { parseArgs } from 'node:util';
import { CumulusError, createLogger, loadConfig } from '../core/index.ts';
import { startPlatform } from './platform.ts';

const USAGE = `cumulus <command> [options]

Commands (stable unless marked):
  up        run the whole platform in one process (embedded default: in-process bus and stream, chDB)
  help      this text

Options of "up":
  --port N          API port (env CUMULUS_PORT, default 8000)
  --data-dir DIR    data folder (env CUMULUS_DATA_DIR, default ./data)
  --config FILE     YAML/JSON config file (env CUMULUS_CONFIG)

Services mode: set AMQP_URL (RabbitMQ), KAFKA_BROKERS (Kafka) and/or CLICKHOUSE_URL.`;

async function up(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, config: { type: 'string' } }, strict: true });
  const overrides: Record<string, unknown> = {};
  if (values.port !== undefined) overrides.port = values.port;
  if (values['data-dir'] !== undefined) overrides.dataDir = values['data-dir'];
  const config = loadConfig({ file: values.config, overrides });
  const logger = createLogger({ level: config.logLevel });
  const platform = await startPlatform(config, { logger });
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

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      return up(rest);
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
