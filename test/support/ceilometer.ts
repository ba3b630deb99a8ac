import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Platform } from '../../cli/platform.ts';
import type { JsonPath, Literal } from '../../collectors/meters/jsonpath/index.ts';
import type { BusConsumerHandle, Sample } from '../../core/index.ts';
import { eventually, login, type Session } from './openstack-http.ts';

/**
 * Real Ceilometer 19 as a reference peer: the Debian package python3-ceilometer, run with
 * the Debian interpreter (not whatever `python3` comes first on PATH), through
 * test/support/ceilometer-peer.py.
 */
export const CEILOMETER_PYTHON = '/usr/bin/python3';
export const CEILOMETER_PEER_SCRIPT = fileURLToPath(new URL('./ceilometer-peer.py', import.meta.url));
/** Where Debian puts the meter definitions Ceilometer ships. */
export const CEILOMETER_METERS_FILE = '/usr/lib/python3/dist-packages/ceilometer/data/meters.d/meters.yaml';

export type PeerMode = 'check' | 'parse' | 'eval' | 'map' | 'bench';

/** Runs one peer command: JSON in, JSON out; throws with the peer's stderr when it fails. */
export function runCeilometer<T>(mode: PeerMode, input: unknown): T {
  const result = spawnSync(CEILOMETER_PYTHON, [CEILOMETER_PEER_SCRIPT, mode], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONHASHSEED: '0' },
  });
  if (result.error) throw new Error(`cannot run ${CEILOMETER_PYTHON}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`the Ceilometer peer (${mode}) failed with status ${result.status}:\n${result.stderr.slice(-4000)}`);
  return JSON.parse(result.stdout) as T;
}

export type CeilometerAvailability = { available: true; version: string } | { available: false; reason: string };

/** Whether /usr/bin/python3 can import Ceilometer's notification meter processing. */
export function ceilometerAvailability(): CeilometerAvailability {
  try {
    const { ceilometer } = runCeilometer<{ ceilometer: string }>('check', {});
    return { available: true, version: ceilometer };
  } catch (err) {
    return { available: false, reason: (err as Error).message.split('\n').slice(-3).join(' ').trim() };
  }
}

/** The fields of Ceilometer's Sample.as_dict() (without its random id): what the two sides are compared on. */
export interface SampleFields {
  name: unknown;
  type: unknown;
  unit: unknown;
  volume: unknown;
  user_id: unknown;
  project_id: unknown;
  resource_id: unknown;
  timestamp: string;
  resource_metadata: Record<string, unknown>;
  source: string;
}

/** A sample as the peer prints it. */
export type PeerSample = SampleFields;

/** A Cumulus sample's Ceilometer fields, in the order the mapper writes them. */
export function sampleFields(s: Sample): Omit<Sample, 'id' | 'message_id' | 'message_signature'> {
  return {
    name: s.name,
    type: s.type,
    unit: s.unit,
    volume: s.volume,
    user_id: s.user_id,
    project_id: s.project_id,
    resource_id: s.resource_id,
    timestamp: s.timestamp,
    resource_metadata: s.resource_metadata,
    source: s.source,
  };
}

export interface PeerMapResult {
  samples: PeerSample[];
  /** Ceilometer logged "Fail to process notification": the whole message was lost. */
  failed: boolean;
  log: string[];
}

/** Maps AMQP bodies with Ceilometer's notification agent code (dispatcher, meter endpoint, pipeline volume check). */
export function mapWithCeilometer(bodies: readonly string[], metersDir: string | null): PeerMapResult[] {
  return runCeilometer<PeerMapResult[]>('map', { meters: metersDir, bodies });
}

/** A parse tree in the neutral form ceilometer-peer.py renders jsonpath-rw-ext's trees in. */
export function renderTree(node: JsonPath | Literal): unknown {
  switch (node.kind) {
    case 'literal':
      return ['lit', node.value, node.float];
    case 'root':
    case 'this':
    case 'parent':
    case 'len':
      return [node.kind];
    case 'fields':
      return ['fields', node.names];
    case 'index':
      return ['index', node.index];
    case 'slice':
      return ['slice', node.start, node.end];
    case 'child':
    case 'descendants':
    case 'where':
    case 'union':
    case 'intersect':
      return [node.kind, renderTree(node.left), renderTree(node.right)];
    case 'operation':
      return ['op', node.op, renderTree(node.left), renderTree(node.right)];
    case 'filter':
      return ['filter', node.expressions.map((e) => [renderTree(e.target), e.op, e.value, e.valueKind])];
    case 'sorted':
      return ['sorted', node.by === null ? null : node.by.map((b) => [renderTree(b.path), b.reverse])];
    case 'split':
      return ['split', node.separator, node.segment, node.maxSplit];
    case 'sub':
      return ['sub', node.pattern, node.template];
  }
}

// ---------------------------------------------------------------------------------------
// The corpus: notifications as the control plane emits them.

/** A message as the control plane put it on the bus. */
export interface CapturedMessage {
  exchange: string;
  routingKey: string;
  /** The AMQP body: the oslo.messaging v2 envelope. */
  body: string;
}

export const CONTROL_EXCHANGES = ['nova', 'glance', 'cinder', 'neutron', 'keystone', 'heat', 'swift', 'placement'];

/** The inner message of a body (v2 envelope or v1). */
export function innerMessage(body: string): { message_id: string; event_type: string; priority: string; payload: Record<string, unknown> } & Record<string, unknown> {
  const outer = JSON.parse(body) as Record<string, unknown>;
  return (typeof outer['oslo.message'] === 'string' ? JSON.parse(outer['oslo.message']) : outer) as ReturnType<typeof innerMessage>;
}

const HOUR_MS = 3_600_000;

async function expectStatus(response: Response, what: string, expected: readonly number[]): Promise<string> {
  const text = await response.text();
  if (!expected.includes(response.status)) throw new Error(`${what}: HTTP ${response.status} ${text}`);
  return text;
}

async function created<T>(response: Response, what: string): Promise<T> {
  return JSON.parse(await expectStatus(response, what, [200, 201, 202])) as T;
}

type Body = Record<string, Record<string, unknown> | undefined>;

async function until(session: Session, path: string, pick: (body: Body) => unknown, want: unknown, what: string): Promise<void> {
  await eventually(async () => {
    const res = await session.get(path);
    if (res.status === 404) return want === GONE ? true : undefined;
    if (res.status !== 200) return undefined;
    return pick((await res.json()) as Body) === want ? true : undefined;
  }, what);
}
const GONE = Symbol('gone');

/**
 * Drives a running platform's control plane through everything Ceilometer meters (logins,
 * an image, a server through its life, a volume with a snapshot and a backup, a floating
 * IP, a stack, objects, the hourly audits and capacity reports) and returns every message
 * the control plane put on the bus, in order.
 */
export async function captureScenario(platform: Platform): Promise<CapturedMessage[]> {
  const captured: CapturedMessage[] = [];
  const handle: BusConsumerHandle = await platform.bus.subscribe(
    { queue: `ceilometer-corpus.tap-${randomUUID()}`, bindings: CONTROL_EXCHANGES.map((exchange) => ({ exchange, routingKey: '#' })), batchSize: 500, batchWaitMs: 5 },
    {
      consume: async (batch) => {
        for (const d of batch) captured.push({ exchange: d.exchange, routingKey: d.routingKey, body: d.body.toString('utf8') });
      },
    },
  );
  const seen = (eventType: string) => captured.some((c) => innerMessage(c.body).event_type === eventType);
  try {
    const url = platform.url;
    const failedLogin = { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'not-the-password' } } } } };
    await expectStatus(await fetch(`${url}/identity/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(failedLogin) }), 'failed login', [401]);
    const admin = await login(url, 'admin', platform.adminPassword, 'admin');
    const headers = { 'x-auth-token': admin.token };
    const send = (method: string, path: string, body?: string | Buffer, contentType = 'application/octet-stream') =>
      fetch(`${url}${path}`, { method, headers: body === undefined ? headers : { ...headers, 'content-type': contentType }, ...(body === undefined ? {} : { body }) });

    const flavor = async (name: string, vcpus: number, ram: number, disk: number, ephemeral: number) =>
      (await created<{ flavor: { id: string } }>(await admin.post('/compute/v2.1/flavors', { flavor: { name: `${name}-${randomUUID().slice(0, 8)}`, vcpus, ram, disk, 'OS-FLV-EXT-DATA:ephemeral': ephemeral } }), 'flavor')).flavor;
    const small = await flavor('c.small', 1, 512, 1, 1);
    const large = await flavor('c.large', 2, 1024, 2, 0);

    // An image: created, uploaded, downloaded, renamed; deleted at the end.
    const image = await created<{ id: string }>(await admin.post('/image/v2/images', { name: 'corpus-img', disk_format: 'raw', container_format: 'bare' }), 'image');
    await expectStatus(await send('PUT', `/image/v2/images/${image.id}/file`, Buffer.alloc(8192, 7)), 'image upload', [204]);
    await expectStatus(await send('GET', `/image/v2/images/${image.id}/file`), 'image download', [200, 204]);
    const rename = JSON.stringify([{ op: 'replace', path: '/name', value: 'corpus-img-2' }]);
    await expectStatus(await send('PATCH', `/image/v2/images/${image.id}`, rename, 'application/openstack-images-v2.1-json-patch'), 'image update', [200]);

    // A server with user metadata: stopped, started, resized and confirmed.
    const server = (
      await created<{ server: { id: string } }>(
        await admin.post('/compute/v2.1/servers', { server: { name: 'corpus-vm', flavorRef: small.id, imageRef: image.id, networks: 'auto', metadata: { 'metering.team': 'blue', role: 'web' } } }),
        'server',
      )
    ).server;
    const serverPath = `/compute/v2.1/servers/${server.id}`;
    const serverStatus = (b: Body) => b.server?.status;
    await until(admin, serverPath, serverStatus, 'ACTIVE', 'server ACTIVE');
    for (const [action, status] of [['os-stop', 'SHUTOFF'], ['os-start', 'ACTIVE']] as const) {
      await expectStatus(await admin.post(`${serverPath}/action`, { [action]: null }), action, [202]);
      await until(admin, serverPath, serverStatus, status, `server ${status}`);
    }
    await expectStatus(await admin.post(`${serverPath}/action`, { resize: { flavorRef: large.id } }), 'resize', [202]);
    await until(admin, serverPath, serverStatus, 'VERIFY_RESIZE', 'server VERIFY_RESIZE');
    await expectStatus(await admin.post(`${serverPath}/action`, { confirmResize: null }), 'confirm resize', [202, 204]);
    await until(admin, serverPath, serverStatus, 'ACTIVE', 'server resized');

    // A volume from the image: extended, attached, detached; a snapshot and a backup of it.
    const cinder = `/volume/v3/${admin.projectId}`;
    const volume = (await created<{ volume: { id: string } }>(await admin.post(`${cinder}/volumes`, { volume: { size: 1, name: 'corpus-vol', imageRef: image.id } }), 'volume')).volume;
    const volumePath = `${cinder}/volumes/${volume.id}`;
    const volumeStatus = (b: Body) => b.volume?.status;
    await until(admin, volumePath, volumeStatus, 'available', 'volume available');
    await expectStatus(await admin.post(`${volumePath}/action`, { 'os-extend': { new_size: 2 } }), 'extend', [202]);
    await until(admin, volumePath, (b) => (b.volume?.size === 2 ? b.volume.status : undefined), 'available', 'volume extended');
    await expectStatus(await admin.post(`${serverPath}/os-volume_attachments`, { volumeAttachment: { volumeId: volume.id } }), 'attach', [200]);
    await until(admin, volumePath, volumeStatus, 'in-use', 'volume in-use');
    await expectStatus(await admin.del(`${serverPath}/os-volume_attachments/${volume.id}`), 'detach', [202]);
    await until(admin, volumePath, volumeStatus, 'available', 'volume detached');
    const snapshot = (await created<{ snapshot: { id: string } }>(await admin.post(`${cinder}/snapshots`, { snapshot: { volume_id: volume.id, name: 'corpus-snap' } }), 'snapshot')).snapshot;
    await until(admin, `${cinder}/snapshots/${snapshot.id}`, (b) => b.snapshot?.status, 'available', 'snapshot available');
    await expectStatus(await admin.del(`${cinder}/snapshots/${snapshot.id}`), 'snapshot delete', [202]);
    await until(admin, `${cinder}/snapshots/${snapshot.id}`, () => undefined, GONE, 'snapshot deleted');
    const backup = (await created<{ backup: { id: string } }>(await admin.post(`${cinder}/backups`, { backup: { volume_id: volume.id, name: 'corpus-backup' } }), 'backup')).backup;
    await until(admin, `${cinder}/backups/${backup.id}`, (b) => b.backup?.status, 'available', 'backup available');

    // A floating IP, allocated and released.
    const networks = await created<{ networks: Array<{ id: string }> }>(await admin.get('/network/v2.0/networks?name=public'), 'networks');
    const fip = (await created<{ floatingip: { id: string } }>(await admin.post('/network/v2.0/floatingips', { floatingip: { floating_network_id: networks.networks[0]?.id } }), 'floating ip')).floatingip;
    await expectStatus(await admin.del(`/network/v2.0/floatingips/${fip.id}`), 'floating ip delete', [204]);

    // A stack with a server, created and deleted.
    const heat = `/heat-api/v1/${admin.projectId}`;
    const template = `heat_template_version: 2018-08-31\nresources:\n  app:\n    type: OS::Nova::Server\n    properties: {name: stack-app, flavor: ${small.id}, image: ${image.id}, networks: [{network: private}]}\n`;
    const stack = (await created<{ stack: { id: string } }>(await admin.post(`${heat}/stacks`, { stack_name: 'corpus-stack', template }), 'stack')).stack;
    await until(admin, `${heat}/stacks/corpus-stack/${stack.id}`, (b) => b.stack?.stack_status, 'CREATE_COMPLETE', 'stack created');
    await expectStatus(await admin.del(`${heat}/stacks/corpus-stack/${stack.id}`), 'stack delete', [204]);
    await eventually(async () => (seen('orchestration.stack.delete.end') ? true : undefined), 'stack deleted');

    // Objects: a container; an object written, read and deleted.
    const swift = `/object-storage/v1/AUTH_${admin.projectId}`;
    await expectStatus(await send('PUT', `${swift}/corpus`, ''), 'container', [201, 202]);
    await expectStatus(await send('PUT', `${swift}/corpus/hello.txt`, 'hello, object storage', 'text/plain'), 'object put', [201]);
    await expectStatus(await send('GET', `${swift}/corpus/hello.txt`), 'object get', [200]);
    await expectStatus(await send('DELETE', `${swift}/corpus/hello.txt`), 'object delete', [204]);

    // The periodic tasks: the hourly usage audits, the capacity reports.
    const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    await platform.periodic.hourly(new Date(hour - HOUR_MS), new Date(hour + HOUR_MS));
    await platform.cloud.cinder.emitCapacity();

    // Everything goes.
    await expectStatus(await admin.del(serverPath), 'server delete', [204]);
    await until(admin, serverPath, () => undefined, GONE, 'server deleted');
    await expectStatus(await admin.del(volumePath), 'volume delete', [202]);
    await expectStatus(await admin.del(`/image/v2/images/${image.id}`), 'image delete', [204]);
    await platform.drain();
    await eventually(async () => (['compute.instance.delete.end', 'volume.delete.end', 'image.delete'].every(seen) ? true : undefined), 'the last notifications');
    return captured;
  } finally {
    await handle.close();
  }
}

/** oslo's timestamp: naive UTC with microseconds (`str(datetime.utcnow())`). */
export const osloTime = (date: Date) => `${date.toISOString().slice(0, 19).replace('T', ' ')}.${String(date.getUTCMilliseconds()).padStart(3, '0')}000`;

export interface NotificationSpec {
  exchange: string;
  publisherId: string;
  eventType: string;
  payload: Record<string, unknown>;
  priority?: string;
  timestamp?: string;
  messageId?: string;
  context?: { userId: string | null; projectId: string | null };
  /** The legacy v1 form, without the envelope. */
  v1?: boolean;
}

/** A body exactly as the control plane's Notifier (cloud/notifier.ts) publishes one. */
export function notificationBody(spec: NotificationSpec): CapturedMessage {
  const priority = spec.priority ?? 'INFO';
  const context = spec.context ?? { userId: null, projectId: null };
  const message = {
    message_id: spec.messageId ?? randomUUID(),
    publisher_id: spec.publisherId,
    event_type: spec.eventType,
    priority,
    payload: spec.payload,
    timestamp: spec.timestamp ?? '2026-03-04 05:06:07.123456',
    _unique_id: randomUUID().replace(/-/g, ''),
    _context_request_id: `req-${randomUUID()}`,
    _context_global_request_id: null,
    _context_user: context.userId,
    _context_user_id: context.userId,
    _context_user_name: context.userId ? 'alice' : null,
    _context_tenant: context.projectId,
    _context_project_id: context.projectId,
    _context_project_name: context.projectId ? 'demo' : null,
    _context_domain: null,
    _context_user_domain: 'default',
    _context_project_domain: 'default',
    _context_roles: ['member', 'reader'],
    _context_is_admin: false,
    _context_read_only: false,
    _context_show_deleted: false,
    _context_remote_address: '192.0.2.10',
    _context_timestamp: '2026-03-04T05:06:07.000000',
  };
  const body = spec.v1 ? JSON.stringify(message) : JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(message) });
  return { exchange: spec.exchange, routingKey: `notifications.${priority.toLowerCase()}`, body };
}

const USER = '6f9a1e0c2b3d4e5fa6b7c8d9e0f1a2b3';
const PROJECT = '0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f';
const CONTEXT = { userId: USER, projectId: PROJECT };

/** nova's legacy instance payload (info_from_instance), as cloud/nova builds it. */
export function novaPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenant_id: PROJECT,
    user_id: USER,
    instance_id: '5b0f7c1e-9d2a-4c3b-8e4f-a1b2c3d4e5f6',
    display_name: 'web-1',
    reservation_id: 'r-3xk2m9ab',
    hostname: 'web-1',
    host: 'compute-1',
    node: 'compute-1',
    availability_zone: 'nova',
    instance_type: 'm1.small',
    instance_type_id: 2,
    instance_flavor_id: '2',
    memory_mb: 2048,
    vcpus: 1,
    root_gb: 20,
    ephemeral_gb: 0,
    disk_gb: 20,
    state: 'active',
    state_description: '',
    created_at: '2026-03-04 05:05:59+00:00',
    launched_at: '2026-03-04T05:06:07.000000',
    terminated_at: '',
    deleted_at: '',
    image_ref_url: 'http://cloud.example/image/v2/images/9c8b7a6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d',
    image_meta: { base_image_ref: '9c8b7a6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d', min_disk: '20', min_ram: '0' },
    architecture: null,
    os_type: null,
    kernel_id: '',
    ramdisk_id: '',
    metadata: { 'metering.stack': 'c0ffee00-1111-2222-3333-444455556666', role: 'web' },
    fixed_ips: [{ address: '10.0.0.5', version: 4, type: 'fixed', label: 'private', vif_mac: 'fa:16:3e:00:00:01', meta: {}, floating_ips: [] }],
    progress: '',
    access_ip_v4: null,
    access_ip_v6: null,
    ...overrides,
  };
}

const NOVA_METRICS = [
  ['cpu.frequency', 2394],
  ['cpu.user.time', 179_000_000_000],
  ['cpu.kernel.time', 45_000_000_000],
  ['cpu.idle.time', 9_000_000_000_000],
  ['cpu.iowait.time', 3_000_000_000],
  ['cpu.user.percent', 0.07],
  ['cpu.kernel.percent', 0.02],
  ['cpu.idle.percent', 0.9],
  ['cpu.iowait.percent', 0.01],
  ['cpu.percent', 0.1],
] as const;

/** nova's compute.metrics.update (MonitorMetricList.to_list()). */
export function novaMetricsPayload(names: readonly string[] = NOVA_METRICS.map(([n]) => n), timestamp = '2026-03-04T05:06:00.000000'): Record<string, unknown> {
  return {
    host: 'compute-1',
    host_ip: '192.0.2.21',
    nodename: 'compute-1.example',
    metrics: NOVA_METRICS.filter(([n]) => names.includes(n)).map(([name, value]) => ({ name, value, timestamp, source: 'libvirt.LibvirtDriver' })),
  };
}

/** cinder's _usage_from_volume. */
export function cinderVolumePayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenant_id: PROJECT,
    host: 'block-1@lvm#lvm',
    user_id: USER,
    availability_zone: 'nova',
    volume_id: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
    volume_type: '7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b',
    display_name: 'data',
    launched_at: '2026-03-04T05:06:01+00:00',
    created_at: '2026-03-04T05:06:00+00:00',
    status: 'available',
    snapshot_id: null,
    size: 10,
    replication_status: 'disabled',
    replication_extended_status: null,
    replication_driver_data: null,
    metadata: [],
    volume_attachment: [],
    ...overrides,
  };
}

const cadf = (extra: Record<string, unknown>) => ({
  typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
  id: randomUUID(),
  eventTime: '2026-03-04T05:06:07.123456+0000',
  eventType: 'activity',
  ...extra,
});

/** The swift proxy's objectstore.http.request (ceilometermiddleware), with its measurements. */
export function swiftPayload(measurements: ReadonlyArray<readonly [string, number]>): Record<string, unknown> {
  return cadf({
    action: 'read',
    outcome: 'success',
    initiator: { id: USER, project_id: PROJECT, typeURI: 'service/security/account/user', host: { address: '192.0.2.10', agent: 'python-swiftclient' } },
    target: { id: PROJECT, typeURI: 'service/storage/object', action: 'get', metadata: { path: `v1/AUTH_${PROJECT}/docs/a.txt`, version: 'v1', container: 'docs', object: 'a.txt' } },
    observer: { id: 'target' },
    measurements: measurements.map(([name, result]) => ({ result, metric: { metric_id: randomUUID(), unit: 'B', name } })),
    requestPath: `/v1/AUTH_${PROJECT}/docs/a.txt`,
  });
}

/** keystone's identity.authenticate CADF notification. */
export function identityPayload(outcome: 'success' | 'failure' | 'pending', initiatorId = USER): Record<string, unknown> {
  return cadf({
    action: 'authenticate',
    outcome,
    initiator: { id: initiatorId, typeURI: 'service/security/account/user', host: { address: '192.0.2.10', agent: 'openstacksdk' } },
    target: { id: randomUUID(), typeURI: 'service/security/account/user' },
    observer: { id: randomUUID(), typeURI: 'service/security' },
    ...(outcome === 'failure' ? { reason: { reasonCode: '401', reasonType: 'HTTP' } } : {}),
  });
}

export interface CorpusCase extends CapturedMessage {
  /** What the case exercises. */
  title: string;
}

const nova = (title: string, eventType: string, payload: Record<string, unknown>, extra: Partial<NotificationSpec> = {}): CorpusCase => ({
  title,
  ...notificationBody({ exchange: 'nova', publisherId: 'compute.compute-1', eventType, payload, context: CONTEXT, ...extra }),
});
const at = (exchange: string, publisherId: string) => (title: string, eventType: string, payload: Record<string, unknown>, extra: Partial<NotificationSpec> = {}): CorpusCase => ({
  title,
  ...notificationBody({ exchange, publisherId, eventType, payload, context: CONTEXT, ...extra }),
});
const cinder = at('cinder', 'volume.block-1@lvm');
const glance = at('glance', 'image.localhost');
const others = (exchange: string, publisherId: string) => at(exchange, publisherId);

/**
 * Notifications written by hand after the services' code, for what the scenario cannot
 * produce (services the control plane does not run, priorities, edge cases of the format):
 * each one's title says what it checks.
 */
export function handBuiltCorpus(): CorpusCase[] {
  return [
    nova('an instance built: the five instance meters and the booting time', 'compute.instance.create.end', novaPayload()),
    nova('an hourly audit with user metadata: metering.* keys, a dotted key, a long value, a key that metadata already has', 'compute.instance.exists', {
      ...novaPayload({ metadata: { 'metering.stack': 's-1', 'metering.a.b': 'dotted', 'metering.long': 'x'.repeat(300), 'metering.host': 'shadowed', other: 'ignored' } }),
      audit_period_beginning: '2026-03-04 04:00:00',
      audit_period_ending: '2026-03-04 05:00:00',
    }),
    nova('a volume given as a numeric string is kept', 'compute.instance.exists', novaPayload({ vcpus: '4', memory_mb: ' 4096 ' })),
    nova('a volume that is not a number drops that sample only', 'compute.instance.exists', novaPayload({ vcpus: 'two', root_gb: null })),
    nova('a volume that is a mapping loses the whole notification', 'compute.instance.exists', novaPayload({ memory_mb: { value: 2048 } })),
    nova('user metadata that is not a mapping loses the whole notification', 'compute.instance.exists', novaPayload({ metadata: ['metering.stack'] })),
    nova('no metadata field found: the payload becomes the metadata', 'compute.instance.exists', {
      tenant_id: PROJECT,
      user_id: USER,
      instance_id: 'bare-instance',
      memory_mb: 512,
      vcpus: 1,
      root_gb: 1,
      ephemeral_gb: 0,
    }),
    nova('falsy metadata values are left out', 'compute.instance.exists', novaPayload({ display_name: '', deleted_at: '', host: null, instance_flavor_id: 0 })),
    nova('a payload without user and project: the context stands in', 'compute.instance.exists', novaPayload({ user_id: null, tenant_id: undefined })),
    nova('create.end without created_at: no booting time', 'compute.instance.create.end', novaPayload({ created_at: undefined })),
    nova('create.end with unreadable times: no booting time', 'compute.instance.create.end', novaPayload({ created_at: 'yesterday' })),
    nova('an error notification (priority ERROR) is not metered', 'compute.instance.create.error', novaPayload({ state: 'error' }), { priority: 'ERROR' }),
    nova('a warning (priority WARN) is not metered', 'compute.instance.exists', novaPayload(), { priority: 'WARN' }),
    nova('priority "sample" is metered', 'compute.instance.exists', novaPayload(), { priority: 'SAMPLE' }),
    nova('compute.instance.update is not metered', 'compute.instance.update', novaPayload()),
    nova('compute.instance.create.start is not metered', 'compute.instance.create.start', novaPayload({ launched_at: '' })),
    nova('an unreadable notification time loses the whole notification', 'compute.instance.exists', novaPayload(), { timestamp: '04/03/2026 05:06' }),
    nova('a legacy v1 message without the envelope', 'compute.instance.power_off.end', novaPayload({ state: 'stopped' }), { v1: true }),
    nova('a notification time with a zone', 'compute.instance.exists', novaPayload(), { timestamp: '2026-03-04T07:06:07.5+02:00' }),
    others('nova', 'compute.compute-1')('hypervisor metrics: ten meters, their own times, x100 for percentages', 'compute.metrics.update', novaMetricsPayload()),
    others('nova', 'compute.compute-1')('hypervisor metrics, some missing: those samples are dropped', 'compute.metrics.update', novaMetricsPayload(['cpu.frequency', 'cpu.percent'], '2026-03-04T05:06:00Z')),
    others('nova', 'compute.compute-1')('hypervisor metrics with an unreadable metric time lose the whole notification', 'compute.metrics.update', novaMetricsPayload(['cpu.frequency'], 'soon')),
    cinder('a volume made from an image, attached (server_id and instance_uuid)', 'volume.attach.end', cinderVolumePayload({ status: 'in-use', glance_metadata: [{ key: 'image_id', value: 'img-9' }, { key: 'min_ram', value: '0' }], volume_attachment: [{ id: 'att-1', instance_uuid: 'vm-1', server_id: 'vm-1', mountpoint: '/dev/vdb' }] })),
    cinder('a volume attachment as real Cinder writes it (instance_uuid only)', 'volume.attach.end', cinderVolumePayload({ status: 'in-use', volume_attachment: [{ id: 'att-2', instance_uuid: 'vm-2', mountpoint: '/dev/vdc' }] })),
    cinder('volume.manage_existing.end matches volume.manage', 'volume.manage_existing.end', cinderVolumePayload()),
    cinder('volume.retype', 'volume.retype', cinderVolumePayload()),
    cinder('an attachment list that is null loses the whole notification', 'volume.update.end', cinderVolumePayload({ volume_attachment: null })),
    cinder('a volume without an id: Ceilometer emits a sample with no resource, Cumulus drops it', 'volume.exists', cinderVolumePayload({ volume_id: undefined })),
    cinder('a snapshot managed', 'snapshot.manage_existing.end', { tenant_id: PROJECT, user_id: USER, snapshot_id: 'snap-1', volume_id: 'vol-1', volume_size: 5, display_name: 'snap', status: 'available', deleted: 'False', metadata: '{}' }),
    cinder('a backup restored', 'backup.restore.end', { tenant_id: PROJECT, user_id: USER, backup_id: 'bak-1', volume_id: 'vol-1', size: 5, display_name: 'nightly', status: 'available' }),
    cinder('a pool capacity report: the provider is the part before #', 'capacity.pool', { name_to_id: 'block-1@lvm#lvm-pool', total: 100, free: 60, allocated: 40, provisioned: 45, virtual_free: 55, reported_at: '2026-03-04T05:06:07.000000' }),
    cinder('a backend capacity report', 'capacity.backend', { name_to_id: 'block-1@lvm', total: 100, free: 60, allocated: 40, provisioned: 45, virtual_free: 55, reported_at: '2026-03-04T05:06:07.000000' }),
    glance('an image downloaded: image.download for the reader, image.serve for the owner', 'image.send', { receiver_tenant_id: PROJECT, receiver_user_id: USER, destination_ip: '192.0.2.10', owner_id: 'owner-project', bytes_sent: 13_287_936, image_id: 'img-7' }),
    glance('an image uploaded', 'image.upload', { id: 'img-7', name: 'cirros', owner: PROJECT, size: 13_287_936, status: 'active', checksum: 'abc', disk_format: 'qcow2', container_format: 'bare', visibility: 'public', protected: false, min_disk: 0, min_ram: 0, tags: [], properties: {} }),
    others('neutron', 'metering.network-1')('a metering label report', 'l3.meter', { label_id: 'label-1', tenant_id: PROJECT, pkts: 120, bytes: 98_304, time: 60, first_update: 1_772_600_000, last_update: 1_772_600_060, host: 'network-1' }),
    others('neutron', 'network.network-1')('floating IPs are not metered from notifications', 'floatingip.create.end', { floatingip: { id: 'fip-1', tenant_id: PROJECT, floating_ip_address: '203.0.113.7', floating_network_id: 'net-pub' } }),
    others('keystone', 'identity.keystone-1')('a successful login', 'identity.authenticate', identityPayload('success')),
    others('keystone', 'identity.keystone-1')('a failed login', 'identity.authenticate', identityPayload('failure')),
    others('keystone', 'identity.keystone-1')('a pending login', 'identity.authenticate', identityPayload('pending')),
    others('swift', 'ceilometermiddleware')('an object read and written: one sample per measurement', 'objectstore.http.request', swiftPayload([['storage.objects.outgoing.bytes', 4096], ['storage.objects.incoming.bytes', 128]])),
    others('swift', 'ceilometermiddleware')('a request without measurements gives nothing', 'objectstore.http.request', swiftPayload([])),
    others('magnum', 'magnum.conductor-1')('bay metrics: one sample per metric', 'magnum.bay.metrics.update', { user_id: USER, project_id: PROJECT, resource_id: 'bay-1', metrics: [{ name: 'memory.util', value: 42.5, unit: '%' }, { name: 'cpu.util', value: 7, unit: '%' }] }),
    others('magnum', 'magnum.conductor-1')('bay metrics with a unit missing: the lookup gives nothing', 'magnum.bay.metrics.update', { user_id: USER, project_id: PROJECT, resource_id: 'bay-1', metrics: [{ name: 'memory.util', value: 42.5, unit: '%' }, { name: 'cpu.util', value: 7 }] }),
    others('designate', 'central.dns-1')('a zone audited: the period in seconds', 'dns.domain.exists', { id: 'zone-1', name: 'example.org.', tenant_id: PROJECT, status: 'ACTIVE', pool_id: 'pool-1', audit_period_beginning: '2026-03-04T04:00:00.000000', audit_period_ending: '2026-03-04T05:00:00.000000' }),
    others('trove', 'taskmanager.trove-1')('a database instance audited', 'trove.instance.exists', { instance_id: 'db-1', tenant_id: PROJECT, user_id: USER, nova_instance_id: 'vm-9', state: 'ACTIVE', service_id: 'svc-1', instance_type: 'db.small', instance_type_id: '7', audit_period_beginning: '2026-03-04 04:00:00', audit_period_ending: '2026-03-04 05:00:00' }),
    others('manila', 'share.share-1')('a share created', 'share.create.end', { share_id: 'share-1', user_id: USER, project_id: PROJECT, size: 20, name: 'docs', host: 'share-1@generic#p', status: 'available', availability_zone: 'nova', proto: 'NFS' }),
    others('heat', 'orchestration.heat-1')('stacks are not metered from notifications', 'orchestration.stack.create.end', { stack_identity: 'arn', stack_name: 'web', tenant_id: PROJECT, user_id: USER, state: 'CREATE_COMPLETE', create_at: '2026-03-04T05:06:07Z' }),
  ];
}

// ---------------------------------------------------------------------------------------
// The benchmark mix.

/** Kinds of notification in the benchmark mix, with their share (per 100) in a busy cloud's stream. */
export const BENCH_MIX: ReadonlyArray<{ kind: string; share: number; make: (i: number) => CapturedMessage }> = [
  { kind: 'compute.instance.exists (hourly audit)', share: 20, make: (i) => notificationBody({ exchange: 'nova', publisherId: `compute.compute-${i % 40}`, eventType: 'compute.instance.exists', payload: novaPayload({ instance_id: `vm-${i}`, audit_period_beginning: '2026-03-04 04:00:00', audit_period_ending: '2026-03-04 05:00:00' }), context: CONTEXT }) },
  { kind: 'compute.instance.* lifecycle', share: 15, make: (i) => notificationBody({ exchange: 'nova', publisherId: `compute.compute-${i % 40}`, eventType: ['compute.instance.create.end', 'compute.instance.delete.end', 'compute.instance.power_off.end', 'compute.instance.resize.end'][i % 4] as string, payload: novaPayload({ instance_id: `vm-${i}` }), context: CONTEXT }) },
  { kind: 'compute.instance.update', share: 10, make: (i) => notificationBody({ exchange: 'nova', publisherId: `compute.compute-${i % 40}`, eventType: 'compute.instance.update', payload: novaPayload({ instance_id: `vm-${i}` }), context: CONTEXT }) },
  { kind: 'compute.metrics.update', share: 5, make: (i) => notificationBody({ exchange: 'nova', publisherId: `compute.compute-${i % 40}`, eventType: 'compute.metrics.update', payload: { ...novaMetricsPayload(), host: `compute-${i % 40}` }, context: CONTEXT }) },
  { kind: 'volume.*', share: 10, make: (i) => notificationBody({ exchange: 'cinder', publisherId: 'volume.block-1@lvm', eventType: i % 2 ? 'volume.exists' : 'volume.create.end', payload: cinderVolumePayload({ volume_id: `vol-${i}` }), context: CONTEXT }) },
  { kind: 'snapshot.* / backup.*', share: 3, make: (i) => notificationBody({ exchange: 'cinder', publisherId: 'volume.block-1@lvm', eventType: i % 2 ? 'snapshot.exists' : 'backup.create.end', payload: { tenant_id: PROJECT, user_id: USER, snapshot_id: `snap-${i}`, backup_id: `bak-${i}`, volume_size: 5, size: 5, display_name: 'x', status: 'available' }, context: CONTEXT }) },
  { kind: 'image.*', share: 4, make: (i) => notificationBody({ exchange: 'glance', publisherId: 'image.localhost', eventType: i % 2 ? 'image.send' : 'image.update', payload: { id: `img-${i}`, image_id: `img-${i}`, owner: PROJECT, owner_id: PROJECT, size: 13_287_936, bytes_sent: 13_287_936, receiver_tenant_id: PROJECT, receiver_user_id: USER, status: 'active' }, context: CONTEXT }) },
  { kind: 'identity.authenticate', share: 12, make: (i) => notificationBody({ exchange: 'keystone', publisherId: 'identity.keystone-1', eventType: 'identity.authenticate', payload: identityPayload(i % 10 ? 'success' : 'failure', `user-${i % 500}`), context: { userId: null, projectId: null } }) },
  { kind: 'objectstore.http.request', share: 15, make: (i) => notificationBody({ exchange: 'swift', publisherId: 'ceilometermiddleware', eventType: 'objectstore.http.request', payload: swiftPayload(i % 3 ? [['storage.objects.outgoing.bytes', 4096 + i]] : [['storage.objects.incoming.bytes', 128 + i]]), context: CONTEXT }) },
  { kind: 'capacity.*', share: 1, make: (i) => notificationBody({ exchange: 'cinder', publisherId: 'scheduler.block-1', eventType: i % 2 ? 'capacity.pool' : 'capacity.backend', payload: { name_to_id: `block-${i % 4}@lvm#pool`, total: 100, free: 60, allocated: 40, provisioned: 45, virtual_free: 55 }, context: CONTEXT }) },
  { kind: 'port.* / floatingip.* (not metered)', share: 5, make: (i) => notificationBody({ exchange: 'neutron', publisherId: 'network.network-1', eventType: i % 2 ? 'port.create.end' : 'floatingip.update.end', payload: { port: { id: `port-${i}`, tenant_id: PROJECT, device_id: `vm-${i}`, fixed_ips: [{ subnet_id: 's', ip_address: '10.0.0.9' }] } }, context: CONTEXT }) },
];

/** `count` notifications of the benchmark mix, interleaved so that any prefix keeps the shares. */
export function benchMix(count: number): CapturedMessage[] {
  const slots = BENCH_MIX.flatMap((entry) => Array.from({ length: entry.share }, () => entry));
  // A fixed permutation of the 100 slots (a multiplier coprime with 100) spreads each kind.
  const order = slots.map((_, i) => slots[(i * 37) % slots.length] as (typeof slots)[number]);
  return Array.from({ length: count }, (_, i) => (order[i % order.length] as (typeof slots)[number]).make(i));
}
