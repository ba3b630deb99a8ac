import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { loadConfig } from './load.ts';
import { DEFAULT_COMPUTE_POLLSTER_INTERVAL_MS, DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_KAFKA_CLIENT_ID, DEFAULT_LOG_LEVEL, DEFAULT_PORT } from './schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'cumulus-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Runs loadConfig expecting a ConfigError and returns it. */
function configError(options: Parameters<typeof loadConfig>[0]): ConfigError {
  try {
    loadConfig(options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('CUMULUS_CONFIG_INVALID');
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig', () => {
  it('gives the documented defaults with an empty environment and no file', () => {
    const config = loadConfig({ env: {} });
    expect(config).toEqual({
      port: DEFAULT_PORT,
      host: DEFAULT_HOST,
      dataDir: DEFAULT_DATA_DIR,
      logLevel: DEFAULT_LOG_LEVEL,
      bus: { kind: 'memory' },
      stream: { kind: 'memory', brokers: [], clientId: DEFAULT_KAFKA_CLIENT_ID },
      pollsters: { compute: { enabled: true, intervalMs: DEFAULT_COMPUTE_POLLSTER_INTERVAL_MS, hardwareMeters: false, publishAs: 'samples', username: 'admin', projectName: 'admin' } },
      store: {},
      api: { hotReadsMiB: 256 },
      alerts: { syntheticChecks: true },
      capacity: {},
      rating: {},
    });
    expect(config.port).toBe(8000);
    expect(config.adminPassword).toBeUndefined();
    expect(config.meteringSecret).toBeUndefined();
  });

  it('applies environment overrides, converting the port to a number', () => {
    const config = loadConfig({
      env: {
        CUMULUS_PORT: '9100',
        CUMULUS_HOST: '0.0.0.0',
        CUMULUS_DATA_DIR: '/var/lib/cumulus',
        CUMULUS_ADMIN_PASSWORD: 'correct horse',
        CUMULUS_LOG_LEVEL: 'debug',
        CUMULUS_METERING_SECRET: '0123456789abcdef0123',
        CLICKHOUSE_URL: 'http://ch:8123',
        CLICKHOUSE_USER: 'metering',
        CLICKHOUSE_PASSWORD: 'pw',
        CLICKHOUSE_DATABASE: 'cumulus',
      },
    });
    expect(config.port).toBe(9100);
    expect(config.host).toBe('0.0.0.0');
    expect(config.dataDir).toBe('/var/lib/cumulus');
    expect(config.adminPassword).toBe('correct horse');
    expect(config.logLevel).toBe('debug');
    expect(config.meteringSecret).toBe('0123456789abcdef0123');
    expect(config.store).toEqual({ clickhouseUrl: 'http://ch:8123', clickhouseUser: 'metering', clickhousePassword: 'pw', clickhouseDatabase: 'cumulus' });
  });

  it('reads the rating and alerts keys from the environment, and names a bad one', () => {
    const config = loadConfig({ env: { CUMULUS_RATING_PERIOD_SECONDS: '86400', CUMULUS_RATING_CURRENCY: 'CHF', CUMULUS_STATEMENT_SCHEDULE: '0 6 1 * *', CUMULUS_SYNTHETIC_CHECKS: 'off', CUMULUS_ALARM_EVALUATION_SCHEDULE: '*/5 * * * * *' } });
    expect(config.rating).toEqual({ periodSeconds: 86400, currency: 'CHF', statementSchedule: '0 6 1 * *' });
    expect(config.alerts).toEqual({ syntheticChecks: false, evaluationSchedule: '*/5 * * * * *' });
    expect(() => loadConfig({ env: { CUMULUS_RATING_CURRENCY: 'euro' } })).toThrow(/rating\.currency.*ISO 4217/);
  });

  it('ignores empty environment values', () => {
    const config = loadConfig({ env: { CUMULUS_PORT: '', AMQP_URL: '', KAFKA_BROKERS: '' } });
    expect(config.port).toBe(DEFAULT_PORT);
    expect(config.bus.kind).toBe('memory');
    expect(config.stream.kind).toBe('memory');
  });

  it('selects the amqp bus when AMQP_URL is set', () => {
    const config = loadConfig({ env: { AMQP_URL: 'amqp://guest:guest@rabbit:5672' } });
    expect(config.bus).toEqual({ kind: 'amqp', amqpUrl: 'amqp://guest:guest@rabbit:5672' });
    expect(config.stream.kind).toBe('memory');
  });

  it('keeps an explicit CUMULUS_BUS=memory even when AMQP_URL is set', () => {
    const config = loadConfig({ env: { AMQP_URL: 'amqp://rabbit:5672', CUMULUS_BUS: 'memory' } });
    expect(config.bus.kind).toBe('memory');
  });

  it('selects the kafka stream when KAFKA_BROKERS is set, and splits and trims the list', () => {
    const config = loadConfig({ env: { KAFKA_BROKERS: 'k1:9092, k2:9093 ,,k3:9094' } });
    expect(config.stream.kind).toBe('kafka');
    expect(config.stream.brokers).toEqual(['k1:9092', 'k2:9093', 'k3:9094']);
    expect(config.bus.kind).toBe('memory');
  });

  it('reads a YAML file, and the environment wins over it', () => {
    const file = writeConfig(
      'cumulus.yaml',
      ['port: 8100', 'host: 10.0.0.1', 'logLevel: warn', 'bus:', '  amqpUrl: amqps://rabbit.example:5671', 'stream:', '  brokers: ["kafka:9092"]', '  clientId: metering'].join('\n'),
    );
    const fromFile = loadConfig({ env: {}, file });
    expect(fromFile.port).toBe(8100);
    expect(fromFile.host).toBe('10.0.0.1');
    expect(fromFile.logLevel).toBe('warn');
    expect(fromFile.bus).toEqual({ kind: 'amqp', amqpUrl: 'amqps://rabbit.example:5671' });
    expect(fromFile.stream).toEqual({ kind: 'kafka', brokers: ['kafka:9092'], clientId: 'metering' });

    const overridden = loadConfig({ env: { CUMULUS_PORT: '8200' }, file });
    expect(overridden.port).toBe(8200);
    expect(overridden.host).toBe('10.0.0.1');
  });

  it('finds the file through CUMULUS_CONFIG', () => {
    const file = writeConfig('via-env.yaml', 'port: 8300\n');
    expect(loadConfig({ env: { CUMULUS_CONFIG: file } }).port).toBe(8300);
  });

  it('treats an empty file as no settings', () => {
    const file = writeConfig('empty.yaml', '');
    expect(loadConfig({ env: {}, file }).port).toBe(DEFAULT_PORT);
  });

  it('lets overrides win over env and file', () => {
    const file = writeConfig('ov.yaml', 'port: 8100\n');
    expect(loadConfig({ env: { CUMULUS_PORT: '8200' }, file, overrides: { port: 8400, 'bus.kind': 'memory' } }).port).toBe(8400);
  });

  describe('refuses bad values with CUMULUS_CONFIG_INVALID, naming the key and its env variable', () => {
    it.each([['not-a-number'], ['-1'], ['70000'], ['80.5']])('bad port %s', (port) => {
      const err = configError({ env: { CUMULUS_PORT: port } });
      expect(err.message).toContain('port');
      expect(err.message).toContain('CUMULUS_PORT');
    });

    it('bad AMQP URL', () => {
      const err = configError({ env: { AMQP_URL: 'http://rabbit:5672' } });
      expect(err.message).toContain('bus.amqpUrl');
      expect(err.message).toContain('AMQP_URL');
      expect(err.message).toMatch(/amqp:\/\//);
    });

    it('unparseable AMQP URL', () => {
      const err = configError({ env: { AMQP_URL: 'not a url' } });
      expect(err.message).toContain('bus.amqpUrl');
      expect(err.message).toContain('AMQP_URL');
    });

    it('bus.kind amqp without a URL', () => {
      const err = configError({ env: { CUMULUS_BUS: 'amqp' } });
      expect(err.message).toContain('bus.amqpUrl');
      expect(err.message).toContain('AMQP_URL');
    });

    it('stream.kind kafka without brokers', () => {
      const err = configError({ env: { CUMULUS_STREAM: 'kafka' } });
      expect(err.message).toContain('stream.brokers');
      expect(err.message).toContain('KAFKA_BROKERS');
    });

    it('a broker that is not host:port', () => {
      const err = configError({ env: { KAFKA_BROKERS: 'kafka' } });
      expect(err.message).toContain('stream.brokers');
      expect(err.message).toContain('host:port');
    });

    it('unknown bus kind', () => {
      const err = configError({ env: { CUMULUS_BUS: 'zeromq' } });
      expect(err.message).toContain('bus.kind');
      expect(err.message).toContain('CUMULUS_BUS');
    });

    it('unknown key in the file', () => {
      const file = writeConfig('unknown.yaml', 'port: 8000\nportt: 8001\n');
      const err = configError({ env: {}, file });
      expect(err.message).toContain('portt');
    });

    it('short admin password', () => {
      const err = configError({ env: { CUMULUS_ADMIN_PASSWORD: 'short' } });
      expect(err.message).toContain('adminPassword');
      expect(err.message).toContain('CUMULUS_ADMIN_PASSWORD');
      expect(err.message).toContain('8 characters');
    });

    it('short metering secret', () => {
      const err = configError({ env: { CUMULUS_METERING_SECRET: 'tooshort' } });
      expect(err.message).toContain('meteringSecret');
      expect(err.message).toContain('CUMULUS_METERING_SECRET');
    });

    it('bad log level', () => {
      const err = configError({ env: { CUMULUS_LOG_LEVEL: 'loud' } });
      expect(err.message).toContain('logLevel');
      expect(err.message).toContain('CUMULUS_LOG_LEVEL');
    });

    it('several problems at once are all named', () => {
      const err = configError({ env: { CUMULUS_PORT: 'x', CUMULUS_ADMIN_PASSWORD: 'short' } });
      expect(err.message).toContain('CUMULUS_PORT');
      expect(err.message).toContain('CUMULUS_ADMIN_PASSWORD');
    });

    it('a missing file', () => {
      const err = configError({ env: {}, file: join(dir, 'does-not-exist.yaml') });
      expect(err.message).toContain('does-not-exist.yaml');
    });

    it('a file that is not YAML', () => {
      const file = writeConfig('broken.yaml', 'port: [8000\n');
      const err = configError({ env: {}, file });
      expect(err.message).toContain(file);
    });

    it('a file that holds a list, not a mapping', () => {
      const file = writeConfig('list.yaml', '- port\n- host\n');
      const err = configError({ env: {}, file });
      expect(err.message).toContain('mapping');
    });
  });
});
