import { DashboardsConfigError } from './errors.ts';

/**
 * What the exported provisioning files point Grafana at. Dashboards never hold a URL
 * or a secret: they reference the datasources by uid, through datasource variables,
 * so one set of dashboard files serves every deployment.
 */
export interface DashboardsConfig {
  /** ClickHouse HTTP interface, e.g. http://clickhouse:8123 (the plugin speaks http or native; we provision http). */
  clickhouseUrl: string;
  /** ClickHouse database holding the Cumulus tables. */
  clickhouseDatabase: string;
  /** ClickHouse user Grafana reads as (a read-only user; its password comes from the environment). */
  clickhouseUser: string;
  /** Prometheus that scrapes Cumulus' /metrics. */
  prometheusUrl: string;
  /** Folder the dashboards appear in, in Grafana. */
  folder: string;
  /** Where Grafana reads the dashboard files (the exported folder as mounted in Grafana). */
  dashboardsPath: string;
}

export const DEFAULT_CLICKHOUSE_URL = 'http://localhost:8123';
export const DEFAULT_CLICKHOUSE_DATABASE = 'default';
export const DEFAULT_CLICKHOUSE_USER = 'grafana';
export const DEFAULT_PROMETHEUS_URL = 'http://localhost:9090';
export const DEFAULT_FOLDER = 'Cumulus';
/** Where Grafana finds the dashboard files, as the provisioning file says it (the container's mount point by default). */
export const DEFAULT_DASHBOARDS_PATH = '/var/lib/grafana/dashboards/cumulus';

/** Environment variable Grafana expands (`$__env{...}`) into the ClickHouse password at provisioning time. */
export const CLICKHOUSE_PASSWORD_ENV = 'CLICKHOUSE_PASSWORD';

export const DEFAULT_DASHBOARDS_CONFIG: DashboardsConfig = {
  clickhouseUrl: DEFAULT_CLICKHOUSE_URL,
  clickhouseDatabase: DEFAULT_CLICKHOUSE_DATABASE,
  clickhouseUser: DEFAULT_CLICKHOUSE_USER,
  prometheusUrl: DEFAULT_PROMETHEUS_URL,
  folder: DEFAULT_FOLDER,
  dashboardsPath: DEFAULT_DASHBOARDS_PATH,
};

/** The ClickHouse URL split the way the plugin's jsonData wants it. */
export interface ClickHouseEndpoint {
  host: string;
  port: number;
  secure: boolean;
  path: string;
}

/** Fills defaults and refuses what Grafana could not use; names the field at fault. */
export function resolveDashboardsConfig(partial: Partial<DashboardsConfig> = {}): DashboardsConfig {
  const config: DashboardsConfig = { ...DEFAULT_DASHBOARDS_CONFIG, ...definedOnly(partial) };
  clickhouseEndpoint(config.clickhouseUrl);
  httpUrl('prometheusUrl', config.prometheusUrl);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(config.clickhouseDatabase)) {
    throw new DashboardsConfigError('clickhouseDatabase', 'a ClickHouse identifier (letters, digits, _)', config.clickhouseDatabase);
  }
  if (config.clickhouseUser.trim() === '') throw new DashboardsConfigError('clickhouseUser', 'a non-empty user name', config.clickhouseUser);
  if (config.folder.trim() === '') throw new DashboardsConfigError('folder', 'a non-empty folder name', config.folder);
  if (!config.dashboardsPath.startsWith('/')) throw new DashboardsConfigError('dashboardsPath', 'an absolute path (as Grafana sees it)', config.dashboardsPath);
  return config;
}

export function clickhouseEndpoint(url: string): ClickHouseEndpoint {
  const parsed = httpUrl('clickhouseUrl', url);
  if (parsed.username !== '' || parsed.password !== '') {
    // Credentials in a URL would end up in a file; the password comes from the environment.
    throw new DashboardsConfigError('clickhouseUrl', `a URL without user or password (set ${CLICKHOUSE_PASSWORD_ENV} in Grafana's environment)`, redact(parsed));
  }
  const secure = parsed.protocol === 'https:';
  const port = parsed.port === '' ? (secure ? 8443 : 8123) : Number(parsed.port);
  return { host: parsed.hostname, port, secure, path: parsed.pathname === '/' ? '' : parsed.pathname };
}

function httpUrl(field: string, url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new DashboardsConfigError(field, 'an http(s) URL such as http://host:port', url, err);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new DashboardsConfigError(field, 'an http(s) URL such as http://host:port', url);
  return parsed;
}

function redact(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return `${copy.href} (credentials removed)`;
}

function definedOnly<T extends object>(partial: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}
