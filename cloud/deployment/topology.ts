/**
 * What runs where: the process catalogue of a kolla-style HA deployment (three
 * controllers behind haproxy, a Galera cluster, a RabbitMQ cluster), and what each
 * process depends on. The fault rules read these flags; nothing here has state.
 */

export type HostRole = 'controller' | 'compute' | 'storage';

/**
 * How a process logs: `oslo` through the ServiceLogWriter (`<host>/<process>.log`),
 * `mariadb` to `<host>/mysqld.log`, `rabbitmq` to `<host>/rabbit@<host>.log`, `haproxy`
 * syslog lines to `<host>/haproxy.log`; `none` for daemons that log nothing at their
 * default level (memcached, libvirtd here).
 */
export type LogStyle = 'oslo' | 'mariadb' | 'rabbitmq' | 'haproxy' | 'none';

export interface ProcessSpec {
  readonly name: string;
  readonly log: LogStyle;
  /** The release its start line names (2023.1 Antelope for the OpenStack services). */
  readonly version: string;
  /** Reaches the database through oslo.db, so it logs DBConnectionError when the database goes. */
  readonly database: boolean;
  /** Reaches RabbitMQ through oslo.messaging, so it reconnects when its broker goes. */
  readonly messaging: boolean;
  /** The haproxy backend it serves in (an API or the database), null when haproxy does not front it. */
  readonly backend: string | null;
  /** The CADF target type of a fault on it. */
  readonly typeURI: string;
}

const oslo = (name: string, version: string, typeURI: string, deps: { database?: boolean; messaging?: boolean; backend?: string }): ProcessSpec => ({
  name,
  log: 'oslo',
  version,
  database: deps.database ?? false,
  messaging: deps.messaging ?? false,
  backend: deps.backend ?? null,
  typeURI,
});

const daemon = (name: string, log: LogStyle, version: string, typeURI: string, backend: string | null = null): ProcessSpec => ({ name, log, version, database: false, messaging: false, backend, typeURI });

export const MARIADB_VERSION = '10.11.6-MariaDB-0+deb12u1';
export const GALERA_VERSION = '26.4.16(r7dce5149)';
export const RABBITMQ_VERSION = '3.12.13';
export const ERLANG_VERSION = '26.2.3';

// Backend names as kolla-ansible's haproxy config calls them.
const SPECS: readonly ProcessSpec[] = [
  oslo('keystone', '23.0.0', 'service/security', { database: true, backend: 'keystone_internal_back' }),
  oslo('nova-api', '27.1.0', 'service/compute', { database: true, messaging: true, backend: 'nova_api_back' }),
  oslo('nova-scheduler', '27.1.0', 'service/compute', { database: true, messaging: true }),
  oslo('nova-conductor', '27.1.0', 'service/compute', { database: true, messaging: true }),
  oslo('glance-api', '26.0.0', 'service/storage/image', { database: true, backend: 'glance_api_back' }),
  oslo('cinder-api', '22.1.0', 'service/storage/block', { database: true, messaging: true, backend: 'cinder_api_back' }),
  oslo('cinder-scheduler', '22.1.0', 'service/storage/block', { database: true, messaging: true }),
  oslo('neutron-server', '22.0.0', 'service/network', { database: true, messaging: true, backend: 'neutron_server_back' }),
  oslo('placement-api', '9.0.0', 'service/compute', { database: true, backend: 'placement_api_back' }),
  oslo('heat-api', '20.0.0', 'service/orchestration', { messaging: true, backend: 'heat_api_back' }),
  oslo('heat-engine', '20.0.0', 'service/orchestration', { database: true, messaging: true }),
  daemon('mysqld', 'mariadb', MARIADB_VERSION, 'service/database', 'mariadb'),
  daemon('rabbitmq-server', 'rabbitmq', RABBITMQ_VERSION, 'service'),
  daemon('memcached', 'none', '1.6.18', 'service'),
  daemon('haproxy', 'haproxy', '2.6.12', 'service/network'),
  // nova-compute reaches the database only through nova-conductor.
  oslo('nova-compute', '27.1.0', 'service/compute', { messaging: true }),
  oslo('neutron-openvswitch-agent', '22.0.0', 'service/network', { messaging: true }),
  daemon('libvirtd', 'none', '9.0.0', 'service/compute'),
  oslo('cinder-volume', '22.1.0', 'service/storage/block', { database: true, messaging: true }),
];

export const PROCESS_SPECS: ReadonlyMap<string, ProcessSpec> = new Map(SPECS.map((spec) => [spec.name, spec]));

/** The processes each role runs, in start order. */
export const ROLE_PROCESSES: Readonly<Record<HostRole, readonly string[]>> = {
  controller: ['mysqld', 'rabbitmq-server', 'memcached', 'keystone', 'nova-api', 'nova-scheduler', 'nova-conductor', 'glance-api', 'cinder-api', 'cinder-scheduler', 'neutron-server', 'placement-api', 'heat-api', 'heat-engine', 'haproxy'],
  compute: ['libvirtd', 'nova-compute', 'neutron-openvswitch-agent'],
  storage: ['cinder-volume'],
};

export function processSpec(name: string): ProcessSpec {
  const spec = PROCESS_SPECS.get(name);
  if (!spec) throw new RangeError(`no process named ${name} in the deployment catalogue`);
  return spec;
}

/** The process whose being up or down decides whether Nova may schedule to a compute host. */
export const COMPUTE_SERVICE = 'nova-compute';
export const DATABASE_PROCESS = 'mysqld';
export const BROKER_PROCESS = 'rabbitmq-server';
export const LOAD_BALANCER_PROCESS = 'haproxy';
export const AMQP_PORT = 5672;
export const GALERA_PORT = 4567;
