import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ManualClock, type Bus, type BusMessage, type Trait } from '../../core/index.ts';
import { emitIdentityAuthenticate, emitIdentityResourceChange } from '../../cloud/audit/identity.ts';
import { ACCOUNT_USER, CADF_EVENT_TYPE_URI, cadfId, cadfTimestamp } from '../../cloud/audit/cadf.ts';
import type { Snapshot, Volume, VolumeAttachment } from '../../cloud/cinder/model.ts';
import { snapshotUsage, volumeUsage } from '../../cloud/cinder/usage.ts';
import type { Image } from '../../cloud/glance/image.ts';
import { imagePayload } from '../../cloud/glance/notifications.ts';
import { stackEvent, stackPayload } from '../../cloud/heat/notifications.ts';
import type { StackRecord } from '../../cloud/heat/store.ts';
import { NeutronEvents } from '../../cloud/neutron/events.ts';
import { Notifier, type NotificationPriority, type RequestContext } from '../../cloud/notifier.ts';
import { pythonUtc } from '../../cloud/nova/service.ts';

/**
 * Real Ceilometer's event converter as a reference peer (test/support/ceilometer-events.py
 * run by the Debian python3 that has python3-ceilometer), and a corpus of notifications
 * made by our control plane's own emitters, for the compatibility test and the benchmark.
 */

/** The interpreter with python3-ceilometer; the python3 first on PATH may be another one. */
export const CEILOMETER_PYTHON = '/usr/bin/python3';
export const CEILOMETER_HELPER = fileURLToPath(new URL('./ceilometer-events.py', import.meta.url));
/** Ceilometer 19's own definitions, as the Debian package installs them. */
export const CEILOMETER_EVENT_DEFINITIONS = '/usr/lib/python3/dist-packages/ceilometer/pipeline/data/event_definitions.yaml';

/** The inner oslo.messaging message (what the v2 envelope's `oslo.message` holds). */
export type OsloMessage = {
  message_id: string;
  publisher_id: string;
  event_type: string;
  priority: string;
  payload: Record<string, unknown>;
  timestamp: string;
} & Record<string, unknown>;

export interface ReferenceEvent {
  message_id: string;
  event_type: string;
  generated: string;
  traits: Trait[];
}

export type ReferenceResult = { event: ReferenceEvent; error?: undefined } | { event: null; why: string; error?: undefined } | { error: string; event?: undefined };

/** Why real Ceilometer cannot be run here, or null when it can. */
export function ceilometerUnavailable(): string | null {
  const probe = spawnSync(CEILOMETER_PYTHON, ['-c', 'import ceilometer.event.converter, stevedore, yaml'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error) return `${CEILOMETER_PYTHON} cannot run: ${probe.error.message}`;
  if (probe.status !== 0) return `${CEILOMETER_PYTHON} cannot import ceilometer (apt-get install python3-ceilometer): ${probe.stderr.trim().split('\n').pop() ?? ''}`;
  return null;
}

function runHelper<T>(request: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(CEILOMETER_PYTHON, [CEILOMETER_HELPER], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`ceilometer helper exited with ${code}: ${Buffer.concat(err).toString()}`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString()) as T);
      } catch (parseError) {
        reject(new Error(`ceilometer helper answered something that is not JSON: ${(parseError as Error).message}`));
      }
    });
    child.stdin.end(JSON.stringify(request));
  });
}

export interface ReferenceRun {
  key: string;
  definitions: string;
  dropUnmatched?: boolean;
}

/** Each run's results, one per message in order, from Ceilometer's NotificationEventsConverter. */
export async function ceilometerConvert(runs: readonly ReferenceRun[], messages: readonly OsloMessage[]): Promise<Record<string, ReferenceResult[]>> {
  const answer = await runHelper<{ results: Record<string, ReferenceResult[]> }>({
    mode: 'convert',
    messages,
    runs: runs.map((run) => ({ key: run.key, definitions: run.definitions, drop_unmatched: run.dropUnmatched ?? false })),
  });
  return answer.results;
}

/** Ceilometer's to_event throughput over the messages, on one core (one Python thread), in events per second. */
export async function ceilometerBench(definitions: string, messages: readonly OsloMessage[], seconds: number): Promise<{ events: number; seconds: number; events_per_second: number }> {
  return runHelper({ mode: 'bench', definitions, messages, seconds });
}

// ---------------------------------------------------------------------------------------
// The corpus.

/** A bus that only records what is published. */
class CaptureBus implements Bus {
  readonly kind = 'memory' as const;
  readonly messages: BusMessage[] = [];
  async publish(message: BusMessage): Promise<void> {
    this.messages.push(message);
  }
  async subscribe(): Promise<never> {
    throw new Error('the capture bus only records');
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

export interface CorpusEntry {
  /** What the case is about, for test names. */
  label: string;
  message: OsloMessage;
  /** The bytes on the bus: the oslo.messaging v2 envelope. */
  body: Buffer;
}

const PROJECT = '6f70656e737461636b20697320636f6f';
const USER = '2d1b3a6c0e8e4f2a9d7c5b3a1f0e9d8c';
const OTHER_USER = '9a8b7c6d5e4f40312a1b2c3d4e5f6a7b';
const SERVER = '4c1b2f0e-8a6d-4e3b-9c7a-5d2e1f0a9b8c';
const IMAGE = 'a7d5c3e1-2b4f-4d6a-8c0e-1f3a5b7d9e2c';
const VOLUME = 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b';
const NETWORK = '0b9c8d7e-6f5a-4b3c-2d1e-0f9a8b7c6d5e';

const userContext: RequestContext = {
  requestId: 'req-3b8f2d1a-7c4e-4a9b-8d6f-2e1c0b9a8f7e',
  userId: USER,
  userName: 'alice',
  projectId: PROJECT,
  projectName: 'acme',
  domainId: 'default',
  roles: ['member', 'reader'],
  isAdmin: false,
  remoteAddress: '203.0.113.7',
};
const adminContext: RequestContext = { requestId: 'req-0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f', userId: null, userName: null, projectId: null, projectName: null, domainId: null, roles: [], isAdmin: true, remoteAddress: null };

/** nova/notifications/base.py info_from_instance, as cloud/nova/service.ts instancePayload builds it. */
function instancePayload(state: { vm: string; task: string | null; host: string | null; launched: string | null; deleted: string | null; flavor: 'm1.small' | 'm1.medium' }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const flavor = state.flavor === 'm1.small' ? { id: '2', vcpus: 1, ram: 2048, disk: 20, ephemeral: 0 } : { id: '3', vcpus: 2, ram: 4096, disk: 40, ephemeral: 10 };
  return {
    tenant_id: PROJECT,
    user_id: USER,
    instance_id: SERVER,
    display_name: 'web-1',
    reservation_id: 'r-3fk9vq2m',
    hostname: 'web-1',
    instance_type: state.flavor,
    instance_type_id: flavor.id,
    instance_flavor_id: flavor.id,
    memory_mb: flavor.ram,
    disk_gb: flavor.disk + flavor.ephemeral,
    root_gb: flavor.disk,
    ephemeral_gb: flavor.ephemeral,
    vcpus: flavor.vcpus,
    host: state.host,
    node: state.host,
    availability_zone: 'nova',
    cell_name: '',
    state: state.vm,
    state_description: state.task ?? '',
    progress: '',
    created_at: pythonUtc('2026-03-02T09:14:58.120Z'),
    launched_at: pythonUtc(state.launched),
    terminated_at: pythonUtc(state.deleted),
    deleted_at: pythonUtc(state.deleted),
    image_ref_url: `/image/v2/images/${IMAGE}`,
    image_meta: { base_image_ref: IMAGE },
    metadata: { role: 'frontend' },
    os_type: null,
    architecture: null,
    access_ip_v4: null,
    access_ip_v6: null,
    fixed_ips: [],
    ...extra,
  };
}

function volume(overrides: Partial<Volume> = {}): Volume {
  return {
    id: VOLUME,
    project_id: PROJECT,
    user_id: USER,
    name: 'data',
    description: null,
    size: 10,
    status: 'available',
    attach_status: 'detached',
    previous_status: null,
    volume_type_id: '5f2e3d4c-1b0a-4f9e-8d7c-6b5a4f3e2d1c',
    availability_zone: 'nova',
    host: 'cinder-1@lvm#lvm',
    bootable: false,
    multiattach: false,
    readonly: false,
    snapshot_id: null,
    source_volid: null,
    image_id: null,
    metadata: {},
    created_at: '2026-03-02T09:20:01.500Z',
    updated_at: null,
    launched_at: '2026-03-02T09:20:03.000Z',
    terminated_at: null,
    deleted: false,
    deleted_at: null,
    ...overrides,
  };
}

const attachment: VolumeAttachment = {
  id: '7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928',
  volume_id: VOLUME,
  instance_uuid: SERVER,
  attached_host: 'cmp-01',
  mountpoint: '/dev/vdb',
  attach_mode: 'rw',
  attach_status: 'attached',
  attach_time: '2026-03-02T09:21:00.000Z',
  detach_time: null,
  created_at: '2026-03-02T09:20:59.000Z',
  updated_at: '2026-03-02T09:21:00.000Z',
  deleted: false,
  deleted_at: null,
};

const snapshot: Snapshot = {
  id: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
  project_id: PROJECT,
  user_id: USER,
  volume_id: VOLUME,
  name: 'nightly',
  description: null,
  status: 'available',
  progress: '100%',
  volume_size: 10,
  volume_type_id: null,
  metadata: { schedule: 'nightly' },
  created_at: '2026-03-02T23:00:00.000Z',
  updated_at: null,
  deleted: false,
  deleted_at: null,
};

function image(overrides: Partial<Image> = {}): Image {
  return {
    id: IMAGE,
    name: 'ubuntu-24.04',
    status: 'queued',
    visibility: 'private',
    owner: PROJECT,
    size: null,
    virtual_size: null,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    disk_format: 'qcow2',
    container_format: 'bare',
    min_disk: 0,
    min_ram: 0,
    protected: false,
    os_hidden: false,
    tags: ['base'],
    properties: { os_distro: 'ubuntu' },
    created_at: '2026-03-02T09:00:00.000Z',
    updated_at: '2026-03-02T09:00:00.000Z',
    deleted_at: null,
    ...overrides,
  };
}

function stack(overrides: Partial<StackRecord> = {}): StackRecord {
  return {
    id: '8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a',
    name: 'web-tier',
    project_id: PROJECT,
    user_id: USER,
    username: 'alice',
    action: 'CREATE',
    status: 'IN_PROGRESS',
    status_reason: 'Stack CREATE started',
    template: {},
    parameters: {},
    parameter_defaults: {},
    tags: ['prod'],
    timeout_mins: 60,
    created_at: '2026-03-02T10:00:00.000Z',
    updated_at: null,
    deleted_at: null,
    ...overrides,
  };
}

/** keystonemiddleware's audit event as cloud/audit/middleware.ts builds it. */
function httpAudit(clock: ManualClock, outcome: 'pending' | 'success' | 'failure', status?: number): Record<string, unknown> {
  const base = 'http://cloud.example:8080/compute/v2.1';
  return {
    typeURI: CADF_EVENT_TYPE_URI,
    eventType: 'activity',
    id: cadfId(),
    eventTime: cadfTimestamp(clock.now()),
    action: 'create',
    outcome,
    observer: { id: 'target' },
    initiator: {
      id: USER,
      typeURI: ACCOUNT_USER,
      name: 'alice',
      credential: { token: 'gAAAAABm xxxxxxxx 3kQ2', identity_status: 'Confirmed' },
      host: { address: '203.0.113.7', agent: 'python-novaclient' },
      project_id: PROJECT,
      request_id: 'req-11111111-2222-4333-8444-555555555555',
    },
    target: {
      id: 'a1b2c3d4-e5f6-5a7b-8c9d-0e1f2a3b4c5d',
      typeURI: 'service/compute/servers',
      name: 'nova',
      addresses: ['admin', 'private', 'public'].map((name) => ({ url: base, name })),
    },
    requestPath: '/compute/v2.1/servers',
    tags: [`correlation_id?value=${cadfId()}`],
    ...(status === undefined ? {} : { reason: { reasonType: 'HTTP', reasonCode: String(status) }, reporterchain: [{ role: 'modifier', reporterTime: cadfTimestamp(clock.now()), reporter: { id: 'target' } }] }),
  };
}

function openBody(body: Buffer): OsloMessage {
  const envelope = JSON.parse(body.toString('utf8')) as { 'oslo.message': string };
  return JSON.parse(envelope['oslo.message']) as OsloMessage;
}

function envelope(message: OsloMessage): Buffer {
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(message) }));
}

/**
 * Notifications as our control plane emits them (through the real Notifier and, where the
 * cloud has them as functions, its own payload builders), then edge cases derived from
 * them: values of the wrong type, odd timestamps, priorities without an event endpoint.
 */
export async function buildEventCorpus(): Promise<CorpusEntry[]> {
  const clock = new ManualClock(Date.parse('2026-03-02T09:15:00.250Z'));
  const bus = new CaptureBus();
  const notifier = new Notifier(bus, clock);
  const labels: string[] = [];
  const tick = () => clock.advance(1_337);
  const send = async (label: string, exchange: string, publisherId: string, eventType: string, payload: Record<string, unknown>, context = userContext, priority: NotificationPriority = 'INFO') => {
    labels.push(label);
    tick();
    await notifier.notify({ exchange, publisherId, eventType, priority, payload, context });
  };

  // Nova: a server's life.
  const building = { vm: 'building', task: 'scheduling', host: null, launched: null, deleted: null, flavor: 'm1.small' as const };
  const active = { vm: 'active', task: null, host: 'cmp-01', launched: '2026-03-02T09:15:07.400Z', deleted: null, flavor: 'm1.small' as const };
  await send('nova create.start, no host yet', 'nova', 'compute.scheduler', 'compute.instance.create.start', instancePayload(building));
  await send('nova create.end', 'nova', 'compute.cmp-01', 'compute.instance.create.end', instancePayload(active, { message: 'Success', fixed_ips: [{ address: '10.0.0.12', version: 4, type: 'fixed', label: 'private' }] }));
  await send('nova update', 'nova', 'compute.cmp-01', 'compute.instance.update', instancePayload(active, { old_state: 'building', old_task_state: 'spawning', new_task_state: null }));
  await send('nova power_off.start', 'nova', 'compute.cmp-01', 'compute.instance.power_off.start', instancePayload({ ...active, task: 'powering-off' }));
  await send('nova power_off.end', 'nova', 'compute.cmp-01', 'compute.instance.power_off.end', instancePayload({ ...active, vm: 'stopped' }));
  await send('nova resize.confirm.end', 'nova', 'compute.cmp-02', 'compute.instance.resize.confirm.end', instancePayload({ ...active, host: 'cmp-02', flavor: 'm1.medium' }));
  await send('nova resize.error', 'nova', 'compute.cmp-01', 'compute.instance.resize.error', instancePayload(active, { message: 'No valid host was found. There are not enough hosts available.' }), userContext, 'ERROR');
  await send(
    'nova exists (usage audit)',
    'nova',
    'compute.cmp-01',
    'compute.instance.exists',
    instancePayload(active, { audit_period_beginning: pythonUtc('2026-03-02T09:00:00.000Z').replace('+00:00', ''), audit_period_ending: pythonUtc('2026-03-02T10:00:00.000Z').replace('+00:00', ''), bandwidth: {} }),
    { ...adminContext, userId: USER, projectId: PROJECT },
  );
  await send(
    'nova create.end, image with the legacy org.openstack__1__ properties',
    'nova',
    'compute.cmp-01',
    'compute.instance.create.end',
    instancePayload(active, { image_meta: { base_image_ref: IMAGE, 'org.openstack__1__architecture': 'x86_64', 'org.openstack__1__os_distro': 'org.ubuntu', 'org.openstack__1__os_version': '24.04' } }),
  );
  await send('nova delete.start', 'nova', 'compute.cmp-02', 'compute.instance.delete.start', instancePayload({ ...active, host: 'cmp-02', task: 'deleting', flavor: 'm1.medium' }));
  await send('nova delete.end', 'nova', 'compute.cmp-02', 'compute.instance.delete.end', instancePayload({ ...active, vm: 'deleted', host: 'cmp-02', deleted: '2026-03-02T11:00:00.900Z', flavor: 'm1.medium' }));

  // Cinder: a volume made, attached, extended, snapshotted, detached, deleted; one from an image.
  const now = () => clock.now();
  await send('cinder volume.create.start', 'cinder', 'volume.cinder-1@lvm', 'volume.create.start', volumeUsage(volume({ status: 'creating', launched_at: null }), [], now()));
  await send('cinder volume.create.end', 'cinder', 'volume.cinder-1@lvm', 'volume.create.end', volumeUsage(volume(), [], now()));
  await send('cinder volume.attach.end', 'cinder', 'volume.cinder-1@lvm', 'volume.attach.end', volumeUsage(volume({ status: 'in-use', attach_status: 'attached' }), [attachment], now()));
  await send('cinder volume.resize.end', 'cinder', 'volume.cinder-1@lvm', 'volume.resize.end', volumeUsage(volume({ status: 'in-use', size: 20 }), [attachment], now()));
  await send('cinder snapshot.create.end', 'cinder', 'snapshot.cinder-1@lvm', 'snapshot.create.end', snapshotUsage(snapshot, volume()));
  await send('cinder snapshot.delete.end', 'cinder', 'snapshot.cinder-1@lvm', 'snapshot.delete.end', snapshotUsage({ ...snapshot, status: 'deleted', deleted: true }, volume()));
  await send('cinder volume.detach.end', 'cinder', 'volume.cinder-1@lvm', 'volume.detach.end', volumeUsage(volume(), [], now()));
  await send('cinder volume.update.end (from cinder-api)', 'cinder', 'volume.api-1', 'volume.update.end', volumeUsage(volume({ name: 'data-renamed' }), [], now()));
  await send('cinder volume.exists', 'cinder', 'volume.cinder-1@lvm', 'volume.exists', volumeUsage(volume(), [], now(), { audit_period_beginning: '2026-03-02 09:00:00+00:00', audit_period_ending: '2026-03-02 10:00:00+00:00' }), adminContext);
  await send('cinder volume.create.end from an image (glance_metadata filter)', 'cinder', 'volume.cinder-1@lvm', 'volume.create.end', volumeUsage(volume({ id: 'f0e1d2c3-b4a5-4968-8776-655443322110', image_id: IMAGE, bootable: true }), [], now()));
  await send('cinder volume.delete.end', 'cinder', 'volume.cinder-1@lvm', 'volume.delete.end', volumeUsage(volume({ status: 'deleting' }), [], now()));

  // Glance: an image created, uploaded, activated, updated, deleted.
  await send('glance image.create', 'glance', 'image.localhost', 'image.create', imagePayload(image()));
  await send('glance image.prepare (no definition)', 'glance', 'image.localhost', 'image.prepare', { ...imagePayload(image({ status: 'importing' })), os_glance_importing_to_stores: [], os_glance_failed_import: [] });
  await send('glance image.upload', 'glance', 'image.localhost', 'image.upload', imagePayload(image({ status: 'active', size: 2_361_393_152, virtual_size: 10_737_418_240, checksum: '3b0e5f1c9a7d2e4b6c8a0f1e3d5b7c9a' })));
  await send('glance image.activate (no definition)', 'glance', 'image.localhost', 'image.activate', imagePayload(image({ status: 'active', size: 2_361_393_152 })));
  await send('glance image.update', 'glance', 'image.localhost', 'image.update', imagePayload(image({ status: 'active', size: 2_361_393_152, name: 'ubuntu-24.04-lts', updated_at: '2026-03-02T12:00:00.000Z' })));
  await send('glance image.delete', 'glance', 'image.localhost', 'image.delete', { ...imagePayload(image({ status: 'deleted', size: 2_361_393_152 })), deleted: true, deleted_at: '2026-03-02T13:00:00Z' });

  // Neutron: the API hook's .start/.end pairs.
  const neutron = new NeutronEvents(notifier, 'net-1');
  const network = { id: NETWORK, name: 'private', tenant_id: PROJECT, project_id: PROJECT, admin_state_up: true, mtu: 1450, status: 'ACTIVE', subnets: [], shared: false, 'router:external': false, availability_zone_hints: [], created_at: '2026-03-02T09:10:00Z', updated_at: '2026-03-02T09:10:00Z', revision_number: 1 };
  const port = { id: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d', name: '', network_id: NETWORK, tenant_id: PROJECT, project_id: PROJECT, mac_address: 'fa:16:3e:12:34:56', admin_state_up: true, status: 'DOWN', device_id: SERVER, device_owner: 'compute:nova', fixed_ips: [{ subnet_id: '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9', ip_address: '10.0.0.12' }], security_groups: [], 'binding:host_id': 'cmp-01' };
  const fip = { id: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', tenant_id: PROJECT, project_id: PROJECT, floating_network_id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', floating_ip_address: '198.51.100.23', fixed_ip_address: null, port_id: null, router_id: null, status: 'DOWN', description: '' };
  const router = { id: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e', name: 'edge', tenant_id: PROJECT, project_id: PROJECT, admin_state_up: true, status: 'ACTIVE', external_gateway_info: null };
  const subnet = { id: '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9', name: 'private-v4', network_id: NETWORK, tenant_id: PROJECT, project_id: PROJECT, cidr: '10.0.0.0/24', ip_version: 4, enable_dhcp: true, gateway_ip: '10.0.0.1' };
  labels.push('neutron network.create.start (request body)', 'neutron network.create.end');
  await neutron.createStart('network', { network: { name: 'private' } }, userContext);
  await neutron.createEnd('network', network, userContext);
  labels.push('neutron subnet.create.end', 'neutron router.create.end', 'neutron port.create.end', 'neutron port.update.start', 'neutron port.update.end');
  await neutron.createEnd('subnet', subnet, userContext);
  await neutron.createEnd('router', router, userContext);
  await neutron.createEnd('port', port, userContext);
  await neutron.updateStart('port', port.id, { port: { name: 'web-1-eth0' } }, userContext);
  await neutron.updateEnd('port', { ...port, name: 'web-1-eth0', status: 'ACTIVE' }, userContext);
  labels.push('neutron floatingip.create.end', 'neutron floatingip.update.end', 'neutron floatingip.delete.end', 'neutron security_group.create.end (no definition)', 'neutron port.delete.end');
  await neutron.createEnd('floatingip', fip, userContext);
  await neutron.updateEnd('floatingip', { ...fip, port_id: port.id, fixed_ip_address: '10.0.0.12', status: 'ACTIVE' }, userContext);
  await neutron.deleteEnd('floatingip', fip.id, fip, userContext);
  await neutron.createEnd('security_group', { id: '0f1e2d3c-4b5a-4697-8877-665544332211', name: 'web', tenant_id: PROJECT, security_group_rules: [] }, userContext);
  await neutron.deleteEnd('port', port.id, port, userContext);

  // Keystone: CADF authentication audits and resource changes, basic and CADF formats.
  const identity = { clock, publisherId: 'identity.keystone-1', observerId: 'b2c3d4e5f6a7489b8c9d0e1f2a3b4c5d' };
  const request = { requestId: 'req-aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', address: '203.0.113.7', agent: 'openstacksdk/4.0.0 keystoneauth1/5.6.0 python-requests/2.31.0 CPython/3.11.2' };
  labels.push('keystone identity.authenticate success', 'keystone identity.authenticate failure, unknown user', 'keystone identity.project.created (basic)', 'keystone identity.user.created (cadf)', 'keystone identity.project.deleted (cadf, by a caller)');
  tick();
  await emitIdentityAuthenticate(notifier, { outcome: 'success', user: { id: USER, name: 'alice' }, request }, identity);
  tick();
  await emitIdentityAuthenticate(notifier, { outcome: 'failure', user: null, named: { userName: 'mallory', domainId: 'default' }, request: { ...request, agent: null } }, identity);
  tick();
  await emitIdentityResourceChange(notifier, { operation: 'created', resourceType: 'project', resourceId: PROJECT }, { ...identity, format: 'basic' });
  tick();
  await emitIdentityResourceChange(notifier, { operation: 'created', resourceType: 'user', resourceId: OTHER_USER, request }, { ...identity, format: 'cadf' });
  tick();
  await emitIdentityResourceChange(
    notifier,
    { operation: 'deleted', resourceType: 'project', resourceId: '1234567890abcdef1234567890abcdef', request: { ...request, caller: { userId: USER, userName: 'alice', projectId: PROJECT, domainId: 'default' } } },
    { ...identity, format: 'cadf' },
  );
  // Keystone's role assignment notification (keystone/assignment/core.py): ids, not a CADF event.
  await send('keystone identity.role_assignment.created', 'keystone', 'identity.keystone-1', 'identity.role_assignment.created', { role: 'c0ffee00c0ffee00c0ffee00c0ffee00', project: PROJECT, user: OTHER_USER, inherited_to_projects: false }, adminContext);

  // Heat: a stack created, updated, failed, deleted.
  for (const [label, record] of [
    ['heat stack create.start', stack()],
    ['heat stack create.end', stack({ status: 'COMPLETE', status_reason: 'Stack CREATE completed successfully' })],
    ['heat stack update.end', stack({ action: 'UPDATE', status: 'COMPLETE', status_reason: 'Stack UPDATE completed successfully', updated_at: '2026-03-02T10:30:00.000Z' })],
    ['heat stack update.error (ERROR)', stack({ action: 'UPDATE', status: 'FAILED', status_reason: 'Resource UPDATE failed: quota exceeded', updated_at: '2026-03-02T10:40:00.000Z' })],
    ['heat stack delete.end', stack({ action: 'DELETE', status: 'COMPLETE', status_reason: 'Stack DELETE completed successfully', deleted_at: '2026-03-02T11:00:00.000Z' })],
  ] as const) {
    const { eventType, priority } = stackEvent(record.action, record.status);
    await send(label, 'heat', 'orchestration.heat-engine-1', eventType, stackPayload(record, 'A web tier'), userContext, priority);
  }

  // keystonemiddleware's audit filter in front of Nova: audit.http.request / response.
  await send('audit.http.request (nova)', 'nova', 'nova', 'audit.http.request', httpAudit(clock, 'pending'), adminContext);
  await send('audit.http.response (nova)', 'nova', 'nova', 'audit.http.response', httpAudit(clock, 'success', 202), adminContext);

  const made: CorpusEntry[] = bus.messages.map((m, i) => ({ label: labels[i] ?? `message ${i}`, message: openBody(m.body), body: m.body }));
  const find = (label: string): OsloMessage => {
    const entry = made.find((e) => e.label === label);
    if (!entry) throw new Error(`corpus: no message labelled ${label}`);
    return structuredClone(entry.message);
  };

  // Edge cases, each a realistic message with one thing changed.
  const edges: Array<[string, OsloMessage]> = [];
  const edge = (label: string, base: string, change: (m: OsloMessage) => void) => {
    const m = find(base);
    m.message_id = `${m.message_id.slice(0, -4)}${String(edges.length).padStart(4, '0')}`;
    change(m);
    edges.push([label, m]);
  };
  const nova = 'nova create.end';
  edge('edge: heat stack with a trust (ctxt.trustor_user_id wins over ctxt.user_id)', 'heat stack create.end', (m) => (m._context_trustor_user_id = OTHER_USER));
  edge('edge: int from text "512"', nova, (m) => (m.payload.memory_mb = '512'));
  edge('edge: int from text with spaces and an underscore " 1_024 "', nova, (m) => (m.payload.memory_mb = ' 1_024 '));
  edge('edge: int from a float 2.7 (truncated)', nova, (m) => (m.payload.vcpus = 2.7));
  edge('edge: int from true', nova, (m) => (m.payload.vcpus = true));
  edge('edge: int from "512.0" fails the event', nova, (m) => (m.payload.memory_mb = '512.0'));
  edge('edge: int from a list fails the event', nova, (m) => (m.payload.memory_mb = [512]));
  edge('edge: int from "" is no trait', nova, (m) => (m.payload.memory_mb = ''));
  edge('edge: null is no trait', nova, (m) => (m.payload.memory_mb = null));
  edge('edge: datetime with an offset', nova, (m) => (m.payload.launched_at = '2026-03-02T10:15:07.4+01:00'));
  edge('edge: datetime, date only', nova, (m) => (m.payload.launched_at = '2026-03-02'));
  edge('edge: datetime, compact basic format', nova, (m) => (m.payload.launched_at = '20260302T101507'));
  edge('edge: datetime with nanoseconds (truncated to micro)', nova, (m) => (m.payload.launched_at = '2026-03-02T09:15:07.123456789Z'));
  edge('edge: datetime offset crossing midnight and a year', nova, (m) => (m.payload.launched_at = '2026-01-01T00:30:00-05:30'));
  edge('edge: datetime that is not one fails the event', nova, (m) => (m.payload.launched_at = 'yesterday'));
  edge('edge: datetime 2026-02-30 fails the event', nova, (m) => (m.payload.launched_at = '2026-02-30 10:00:00'));
  edge('edge: datetime from a number fails the event', nova, (m) => (m.payload.launched_at = 1772442907));
  edge('edge: text from a dict (Python repr)', nova, (m) => (m.payload.state = { vm: 'active', task: null, ok: true, n: 1.5, q: "it's" }));
  edge('edge: text from a list', nova, (m) => (m.payload.display_name = ['web', 1, false, null]));
  edge('edge: text from a float', nova, (m) => (m.payload.display_name = 0.00001234));
  edge('edge: text from true', nova, (m) => (m.payload.display_name = true));
  edge('edge: text over 255 characters is cropped (code points)', nova, (m) => (m.payload.display_name = `${'é'.repeat(200)}${'🙂'.repeat(100)}`));
  edge('edge: text keeps ""', nova, (m) => (m.payload.display_name = ''));
  edge('edge: tenant_id null, project from the context', nova, (m) => (m.payload.tenant_id = null));
  edge('edge: no request id in the context', nova, (m) => delete m._context_request_id);
  edge('edge: field names with dots need quotes', nova, (m) => (m.payload.image_meta = { 'org.openstack__1__architecture': 'aarch64', org: { openstack__1__architecture: 'wrong' } }));
  edge('edge: publisher without a host part', nova, (m) => (m.publisher_id = 'compute'));
  edge('edge: priority WARN has no event endpoint', nova, (m) => (m.priority = 'WARN'));
  edge('edge: priority in lower case', nova, (m) => (m.priority = 'error'));
  edge('edge: notification timestamp with a zone', nova, (m) => (m.timestamp = '2026-03-02T10:15:07.400000+01:00'));
  edge('edge: notification timestamp that is not one fails the event', nova, (m) => (m.timestamp = 'now'));
  edge('edge: volume_attachment null: [0] raises in jsonpath_rw', 'cinder volume.attach.end', (m) => (m.payload.volume_attachment = null));
  edge('edge: glance_metadata without image_id', 'cinder volume.create.end from an image (glance_metadata filter)', (m) => (m.payload.glance_metadata = [{ key: 'os_distro', value: 'ubuntu' }]));
  edge('edge: glance_metadata that is not a list', 'cinder volume.create.end from an image (glance_metadata filter)', (m) => (m.payload.glance_metadata = { image_id: IMAGE }));
  edge('edge: size as text', 'glance image.upload', (m) => (m.payload.size = '2361393152'));
  edge('edge: an unknown event type gets the default traits', nova, (m) => (m.event_type = 'compute.metrics.update'));
  edge('edge: neutron resource id from payload.id when the resource key is missing', 'neutron port.update.start', (m) => (m.payload = { id: 'a-port-id', port: null }));

  return [...made, ...edges.map(([label, message]) => ({ label, message, body: envelope(message) }))];
}
