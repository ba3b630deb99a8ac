import type { LineSpec } from '../logs/index.ts';
import { AMQP_PORT, ERLANG_VERSION, GALERA_PORT, GALERA_VERSION, MARIADB_VERSION, RABBITMQ_VERSION } from './topology.ts';

/**
 * The lines the non-oslo daemons write, in their own formats, and the oslo lines the
 * OpenStack services write when the database or their broker goes. Pure: the caller
 * stamps the time and picks the file. Wire formats: log collectors parse them.
 */

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** MariaDB's error log: `2026-11-24 17:00:01 0 [Note] message` (thread id 0: the server itself). */
export function mariadbLine(time: Date, level: 'Note' | 'Warning' | 'ERROR', message: string): string {
  return `${time.toISOString().slice(0, 19).replace('T', ' ')} 0 [${level}] ${message}`;
}

/** RabbitMQ 3.12's file log: `2026-11-24 17:00:01.000000+00:00 [info] <0.230.0> message`. */
export function rabbitLine(time: Date, level: 'info' | 'notice' | 'warning' | 'error', erlangPid: string, message: string): string {
  return `${time.toISOString().slice(0, 23).replace('T', ' ')}000+00:00 [${level}] <${erlangPid}> ${message}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** haproxy through syslog (RFC 3164): `Nov 24 17:00:01 controller-1 haproxy[812]: message`, the day space-padded. */
export function haproxyLine(time: Date, host: string, pid: number, message: string): string {
  const stamp = `${MONTHS[time.getUTCMonth()]} ${String(time.getUTCDate()).padStart(2, ' ')} ${pad(time.getUTCHours())}:${pad(time.getUTCMinutes())}:${pad(time.getUTCSeconds())}`;
  return `${stamp} ${host} haproxy[${pid}]: ${message}`;
}

// --- MariaDB with Galera ---------------------------------------------------------------

export interface GaleraView {
  clusterUuid: string;
  seqno: number;
  /** -1 for a non-primary component, as Galera prints it. */
  viewNumber: number;
  primary: boolean;
  members: number;
  myIndex: number;
}

export const galeraViewMessage = (v: GaleraView) =>
  `WSREP: New cluster view: global state: ${v.clusterUuid}:${v.seqno}, view# ${v.primary ? v.viewNumber : -1}: ${v.primary ? 'Primary' : 'non-Primary'}, number of nodes: ${v.members}, my index: ${v.myIndex}, protocol version 4`;

/** What mariadbd writes before it has joined the group. */
export function mariadbStartingMessages(pid: number, position: { clusterUuid: string; seqno: number }, bootstrap: boolean): Array<[level: 'Note', message: string]> {
  return [
    ['Note', `Starting MariaDB ${MARIADB_VERSION} source revision 8e2b9cdf8a8a5ec0e6a7ad9e5b3aab7b9a8a6b3d as process ${pid}`],
    ['Note', `WSREP: Loading provider /usr/lib/galera/libgalera_smm.so initial position: ${position.clusterUuid}:${position.seqno}`],
    ['Note', `WSREP: wsrep_load(): Galera ${GALERA_VERSION} by Codership Oy <info@codership.com> loaded successfully.`],
    ...(bootstrap ? ([['Note', "WSREP: 'wsrep-new-cluster' option used, bootstrapping the cluster"]] as Array<[level: 'Note', message: string]>) : []),
    ['Note', 'WSREP: Start replication'],
  ];
}

/** A node that reached the primary component. */
export const GALERA_SYNCED = 'WSREP: Synchronized with group, ready for connections';

/**
 * mariadbd taking connections (queries still get 1047 until the node is in a primary
 * component); the last line is MariaDB's unprefixed version banner.
 */
export function mariadbReadyLines(time: Date): string[] {
  return [
    mariadbLine(time, 'Note', '/usr/sbin/mariadbd: ready for connections.'),
    `Version: '${MARIADB_VERSION}'  socket: '/run/mysqld/mysqld.sock'  port: 3306  Debian 12`,
  ];
}

/** A clean stop (SIGTERM from systemd): `initiated by: unknown`, as when no client asked. */
export function mariadbShutdownLines(time: Date, seqno: number): string[] {
  return [
    mariadbLine(time, 'Note', '/usr/sbin/mariadbd (initiated by: unknown): Normal shutdown'),
    mariadbLine(time, 'Note', 'WSREP: Shutdown replication'),
    mariadbLine(time, 'Note', 'InnoDB: Starting shutdown...'),
    mariadbLine(time, 'Note', `InnoDB: Shutdown completed; log sequence number ${46_890_112 + seqno * 4096}; transaction id ${81_234 + seqno * 2}`),
    mariadbLine(time, 'Note', '/usr/sbin/mariadbd: Shutdown complete'),
  ];
}

/** A survivor's view of a member leaving: `forgetting` a clean leaver, relaying around a crashed one. */
export function galeraLeaveMessage(survivorNode: string, leaverNode: string, leaverHost: string, clean: boolean): string {
  return clean
    ? `WSREP: forgetting ${leaverNode} (tcp://${leaverHost}:${GALERA_PORT})`
    : `WSREP: (${survivorNode}, 'tcp://0.0.0.0:${GALERA_PORT}') turning message relay requesting on, nonlive peers: tcp://${leaverHost}:${GALERA_PORT}`;
}

// --- RabbitMQ ----------------------------------------------------------------------------

/** The boot process: its Erlang pid is the same on every node and run. */
const RABBIT_BOOT = '0.230.0';
const RABBIT_NODE_MONITOR = '0.512.0';
const RABBIT_LISTENER = '0.664.0';

export const rabbitNode = (host: string) => `rabbit@${host}`;

export function rabbitStartLines(time: Date, peersRunning: boolean): string[] {
  return [
    rabbitLine(time, 'info', RABBIT_BOOT, `Starting RabbitMQ ${RABBITMQ_VERSION} on Erlang ${ERLANG_VERSION} [jit]`),
    ...(peersRunning ? [rabbitLine(time, 'info', RABBIT_BOOT, 'Successfully synced tables from a peer')] : []),
    rabbitLine(time, 'info', RABBIT_LISTENER, `started TCP listener on [::]:${AMQP_PORT}`),
    rabbitLine(time, 'info', RABBIT_BOOT, 'Server startup complete; 0 plugins started.'),
  ];
}

export function rabbitStopLines(time: Date): string[] {
  return [
    rabbitLine(time, 'info', RABBIT_BOOT, 'RabbitMQ is asked to stop...'),
    rabbitLine(time, 'info', RABBIT_LISTENER, `stopped TCP listener on [::]:${AMQP_PORT}`),
    rabbitLine(time, 'info', RABBIT_BOOT, 'Successfully stopped RabbitMQ and its dependencies'),
  ];
}

/** A peer's view of a node going or coming; a crash also shows the lost distribution link. */
export function rabbitPeerLines(time: Date, peerHost: string, up: boolean, clean: boolean): string[] {
  const node = rabbitNode(peerHost);
  if (up) return [rabbitLine(time, 'info', RABBIT_NODE_MONITOR, `rabbit on node ${node} up`)];
  return [
    rabbitLine(time, 'info', RABBIT_NODE_MONITOR, `rabbit on node ${node} down`),
    ...(clean ? [] : [rabbitLine(time, 'info', RABBIT_NODE_MONITOR, `node ${node} down: connection_closed`)]),
  ];
}

/** One oslo.messaging connection as the broker names it: `<client>:<port> -> <broker>:5672 - <process>:<pid>:<uuid>`. */
export interface AmqpConnection {
  erlangPid: string;
  clientHost: string;
  clientPort: number;
  brokerHost: string;
  /** oslo.messaging's connection_name: `<process>:<pid>:<connection uuid>`. */
  name: string;
  uuid: string;
}

/**
 * The broker's side of a client going: a clean close, a TCP reset (the process crashed)
 * or, when the client's host died, silence until the heartbeat times out.
 */
export function rabbitConnectionClosedLines(time: Date, c: AmqpConnection, how: 'stop' | 'kill' | 'host-failure'): string[] {
  const described = `closing AMQP connection <${c.erlangPid}> (${c.clientHost}:${c.clientPort} -> ${c.brokerHost}:${AMQP_PORT} - ${c.name}, vhost: '/', user: 'openstack')`;
  if (how === 'stop') return [rabbitLine(time, 'info', c.erlangPid, described)];
  if (how === 'kill') return [rabbitLine(time, 'warning', c.erlangPid, `${described}:`), rabbitLine(time, 'warning', c.erlangPid, 'client unexpectedly closed TCP connection')];
  return [rabbitLine(time, 'error', c.erlangPid, `${described}:`), rabbitLine(time, 'error', c.erlangPid, 'missed heartbeats from client, timeout: 60s')];
}

// --- haproxy -----------------------------------------------------------------------------

export function haproxyServerDown(backend: string, server: string, hostFailure: boolean, active: number): string {
  const reason = hostFailure ? 'Layer4 timeout, check duration: 2001ms' : 'Layer4 connection problem, info: "Connection refused", check duration: 0ms';
  return `Server ${backend}/${server} is DOWN, reason: ${reason}. ${active} active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`;
}

export const haproxyServerUp = (backend: string, server: string, active: number) =>
  `Server ${backend}/${server} is UP, reason: Layer4 check passed, check duration: 0ms. ${active} active and 0 backup servers online. 0 sessions requeued, 0 total in queue.`;

export const haproxyNoServer = (backend: string) => `backend ${backend} has no server available!`;
export const haproxyProxyStarted = (backend: string) => `Proxy ${backend} started.`;
export const haproxyProxyStopped = (backend: string) => `Proxy ${backend} stopped (cumulated conns: FE: 0, BE: 0).`;

// --- what the OpenStack services log -----------------------------------------------------

const DB_LOGGER = 'oslo_db.sqlalchemy.engines';
const AMQP_LOGGER = 'oslo.messaging._drivers.impl_rabbit';

/**
 * oslo.db's ping listener when the database went away under a running service. The
 * MySQL error says how: every node gone (haproxy drops the connection) or a Galera node
 * left without quorum (1047); oslo.db maps both to DBConnectionError. Printed on one
 * line, without the traceback oslo.log would append.
 */
export function databaseLostLine(cause: 'gone' | 'non-primary'): LineSpec {
  const error = cause === 'gone' ? "(2013, 'Lost connection to MySQL server during query')" : "(1047, 'WSREP has not yet prepared node for application use')";
  return { level: 'ERROR', logger: DB_LOGGER, message: `Database connection was found disconnected; reconnecting: oslo_db.exception.DBConnectionError: (pymysql.err.OperationalError) ${error}` };
}

/** oslo.db's engine retry loop when a service starts without a database. */
export function databaseConnectFailedLine(vip: string): LineSpec {
  return {
    level: 'WARNING',
    logger: DB_LOGGER,
    message: `SQL connection failed. 10 attempts left.: oslo_db.exception.DBConnectionError: (pymysql.err.OperationalError) (2003, "Can't connect to MySQL server on '${vip}' ([Errno 111] ECONNREFUSED)")`,
  };
}

/** Why the broker connection broke, as kombu words it. */
export type AmqpLoss = 'shutdown' | 'crash' | 'host-failure' | 'refused';

const AMQP_ERRORS: Readonly<Record<AmqpLoss, string>> = {
  shutdown: "(0, 0): (320) CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'",
  crash: '[Errno 104] Connection reset by peer',
  'host-failure': '[Errno 113] EHOSTUNREACH',
  refused: '[Errno 111] ECONNREFUSED',
};

export function amqpUnreachableLine(uuid: string, broker: string, loss: AmqpLoss): LineSpec {
  return { level: 'ERROR', logger: AMQP_LOGGER, message: `[${uuid}] AMQP server on ${broker}:${AMQP_PORT} is unreachable: ${AMQP_ERRORS[loss]}. Trying again in 1 seconds.` };
}

export function amqpReconnectedLine(uuid: string, broker: string, clientPort: number): LineSpec {
  return { level: 'INFO', logger: AMQP_LOGGER, message: `[${uuid}] Reconnected to AMQP server on ${broker}:${AMQP_PORT} via [amqp] client with port ${clientPort}.` };
}
