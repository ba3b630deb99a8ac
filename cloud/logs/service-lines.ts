import type { LogLevel } from '../../core/index.ts';

/** What a service logs, before the writer stamps time, pid and context on it. */
export interface LineSpec {
  level: LogLevel;
  logger: string;
  message: string;
}

/** The project a process belongs to: nova-compute -> nova, neutron-server -> neutron. */
export function projectOf(service: string): string {
  return service.split('-', 1)[0] as string;
}

/** Where the eventlet API servers listened (the WSGI server name and port nova.wsgi logged). */
const API_LISTEN: Readonly<Record<string, { name: string; port: number }>> = {
  'nova-api': { name: 'osapi_compute', port: 8774 },
  'nova-metadata': { name: 'metadata', port: 8775 },
};

/**
 * The lines a process writes as it starts:
 * - nova-api (eventlet): nova.wsgi `osapi_compute listening on 0.0.0.0:8774`;
 * - other nova-* (nova/service.py): nova.service `Starting compute node (version 27.1.0)`,
 *   the topic being the process name without `nova-`;
 * - cinder-* (cinder/service.py): cinder.service `Starting cinder-volume node (version …)`;
 * - any other process: `<project>.service` `Starting <process> node (version …)`, our
 *   generic form in the same style.
 */
export function startLines(service: string, version: string): LineSpec[] {
  const project = projectOf(service);
  const listen = Object.hasOwn(API_LISTEN, service) ? API_LISTEN[service] : undefined;
  if (listen) return [{ level: 'INFO', logger: `${project}.wsgi`, message: `${listen.name} listening on 0.0.0.0:${listen.port}` }];
  const topic = project === 'nova' ? service.slice('nova-'.length) || service : service;
  return [{ level: 'INFO', logger: `${project}.service`, message: `Starting ${topic} node (version ${version})` }];
}

/**
 * The lines a process writes when it is stopped: oslo.service's launcher
 * `Caught SIGTERM, exiting`, then, for an eventlet API, nova.wsgi's server shutdown.
 */
export function stopLines(service: string, signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM'): LineSpec[] {
  const lines: LineSpec[] = [{ level: 'INFO', logger: 'oslo_service.service', message: `Caught ${signal}, exiting` }];
  if (Object.hasOwn(API_LISTEN, service)) {
    const logger = `${projectOf(service)}.wsgi`;
    lines.push({ level: 'INFO', logger, message: 'Stopping WSGI server.' }, { level: 'INFO', logger, message: 'WSGI server has stopped.' });
  }
  return lines;
}

/**
 * How each API writes its access line:
 * - `nova`: nova-api under eventlet, [wsgi] wsgi_log_format
 *   `%(client_ip)s "%(request_line)s" status: %(status_code)s len: %(body_length)s time: %(wall_seconds).7f`;
 * - `oslo-service`: APIs on oslo.service's wsgi server (cinder, neutron), the same with two spaces before `len:`;
 * - `eventlet`: eventlet's own default (glance)
 *   `%(client_ip)s - - [%(date_time)s] "%(request_line)s" %(status_code)s %(body_length)s %(wall_seconds).6f`;
 * - `requestlog`: nova-api under uwsgi (nova.api.openstack.requestlog)
 *   `%(REMOTE_ADDR)s "%(REQUEST_METHOD)s %(REQUEST_URI)s" status: %(status)s len: %(len)s microversion: %(microversion)s time: %(time).6f`;
 * - `placement`: placement.requestlog, the same without the time.
 * The eventlet styles print the path as the service's own server saw it (no devstack
 * prefix); the requestlog styles print SCRIPT_NAME + PATH_INFO, prefix included.
 */
export type AccessLogStyle = 'nova' | 'oslo-service' | 'eventlet' | 'requestlog' | 'placement';

export const ACCESS_LOG_STYLES: readonly AccessLogStyle[] = ['nova', 'oslo-service', 'eventlet', 'requestlog', 'placement'];

export interface AccessRecord {
  clientIp: string;
  method: string;
  /** Path and query as the style prints it. */
  uri: string;
  httpVersion: string;
  status: number;
  /** Response body bytes. */
  length: number;
  /** Wall time of the request. */
  seconds: number;
  /** The microversion the response carried, for the requestlog styles. */
  microversion?: string | null;
  /** When the line is written: eventlet's `date_time`. */
  time: Date;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** eventlet.wsgi's log_date_time_string: `24/Nov/2026 06:10:42`. */
function eventletDateTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

/** The logger each style's lines come from. */
export function accessLogger(style: AccessLogStyle, project: string): string {
  switch (style) {
    case 'nova':
      return `${project}.osapi_compute.wsgi.server`;
    case 'oslo-service':
    case 'eventlet':
      return 'eventlet.wsgi.server';
    case 'requestlog':
      return `${project}.api.openstack.requestlog`;
    case 'placement':
      return 'placement.requestlog';
  }
}

export function accessMessage(style: AccessLogStyle, r: AccessRecord): string {
  const requestLine = `${r.method} ${r.uri} HTTP/${r.httpVersion}`;
  switch (style) {
    case 'nova':
      return `${r.clientIp} "${requestLine}" status: ${r.status} len: ${r.length} time: ${r.seconds.toFixed(7)}`;
    case 'oslo-service':
      return `${r.clientIp} "${requestLine}" status: ${r.status}  len: ${r.length} time: ${r.seconds.toFixed(7)}`;
    case 'eventlet':
      return `${r.clientIp} - - [${eventletDateTime(r.time)}] "${requestLine}" ${r.status} ${r.length} ${r.seconds.toFixed(6)}`;
    case 'requestlog':
      return `${r.clientIp} "${r.method} ${r.uri}" status: ${r.status} len: ${r.length} microversion: ${r.microversion || '-'} time: ${r.seconds.toFixed(6)}`;
    case 'placement':
      return `${r.clientIp} "${r.method} ${r.uri}" status: ${r.status} len: ${r.length} microversion: ${r.microversion || '-'}`;
  }
}

/** Defaults per project: the API process name and how it logs access. */
export const API_PROCESSES: Readonly<Record<string, { process: string; style: AccessLogStyle }>> = {
  nova: { process: 'nova-api', style: 'nova' },
  glance: { process: 'glance-api', style: 'eventlet' },
  cinder: { process: 'cinder-api', style: 'oslo-service' },
  neutron: { process: 'neutron-server', style: 'oslo-service' },
  placement: { process: 'placement-api', style: 'placement' },
};
