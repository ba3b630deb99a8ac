import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../cli/platform.ts';
import { loadConfig, silentLogger, type BusConsumerHandle } from '../core/index.ts';
import { eventually, login, type Session } from './support/openstack-http.ts';

interface Seen {
  exchange: string;
  routingKey: string;
  envelope: Record<string, unknown>;
  message: { message_id: string; publisher_id: string; event_type: string; priority: string; timestamp: string; payload: Record<string, unknown> } & Record<string, unknown>;
}

const EXCHANGES = ['nova', 'glance', 'cinder', 'neutron', 'keystone', 'heat', 'swift', 'placement'];
const OSLO_TIMESTAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/;

/** A payload value at a Ceilometer-style path (`payload.floatingip.id`). */
const at = (value: unknown, path: string): unknown => path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value);

/**
 * A scripted scenario through the whole control plane, with every message on the bus
 * checked against the real formats: the oslo.messaging v2 envelope, the routing key of its
 * priority, and the payload fields Ceilometer's meter and event definitions read.
 */
describe('a scripted scenario emits what the real services emit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-scenario-'));
  let platform: Platform;
  let handle: BusConsumerHandle;
  let admin: Session;
  const seen: Seen[] = [];
  const ofType = (type: string) => seen.filter((s) => s.message.event_type === type);

  beforeAll(async () => {
    const config = loadConfig({ env: {}, overrides: { port: 0, dataDir: dir, logLevel: 'silent', adminPassword: 'scenario-admin-pw' } });
    platform = await startPlatform(config, { logger: silentLogger(), buildDelayMs: 5, periodicTasks: false });
    handle = await platform.bus.subscribe(
      { queue: 'scenario.tap', bindings: EXCHANGES.map((exchange) => ({ exchange, routingKey: '#' })), batchSize: 200, batchWaitMs: 5 },
      {
        consume: async (batch) => {
          for (const d of batch) {
            const envelope = JSON.parse(d.body.toString()) as Record<string, unknown>;
            seen.push({ exchange: d.exchange, routingKey: d.routingKey, envelope, message: JSON.parse(envelope['oslo.message'] as string) as Seen['message'] });
          }
        },
      },
    );

    // The scenario: a failed and a good login, an image, a server on a network, a volume
    // attached to it, a floating IP, then everything deleted.
    const bad = await fetch(`${platform.url}/identity/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'guess' } } } } }),
    });
    expect(bad.status).toBe(401);
    admin = await login(platform.url, 'admin', 'scenario-admin-pw', 'admin');
    const flavor = ((await (await admin.post('/compute/v2.1/flavors', { flavor: { name: 'm1.s', vcpus: 1, ram: 512, disk: 1 } })).json()) as { flavor: { id: string } }).flavor;
    const image = (await (await admin.post('/image/v2/images', { name: 'img', disk_format: 'raw', container_format: 'bare', os_distro: 'rhel' })).json()) as { id: string };
    await fetch(`${platform.url}/image/v2/images/${image.id}/file`, { method: 'PUT', headers: { 'x-auth-token': admin.token, 'content-type': 'application/octet-stream' }, body: Buffer.alloc(4096, 1) });
    const server = ((await (await admin.post('/compute/v2.1/servers', { server: { name: 'sc-1', flavorRef: flavor.id, imageRef: image.id, networks: 'auto' } })).json()) as { server: { id: string } }).server;
    await eventually(async () => (((await (await admin.get(`/compute/v2.1/servers/${server.id}`)).json()) as { server: { status: string } }).server.status === 'ACTIVE' ? true : undefined), 'ACTIVE');
    const volume = ((await (await admin.post(`/volume/v3/${admin.projectId}/volumes`, { volume: { size: 1, name: 'sc-vol' } })).json()) as { volume: { id: string } }).volume;
    await eventually(async () => (((await (await admin.get(`/volume/v3/${admin.projectId}/volumes/${volume.id}`)).json()) as { volume: { status: string } }).volume.status === 'available' ? true : undefined), 'volume available');
    expect((await admin.post(`/compute/v2.1/servers/${server.id}/os-volume_attachments`, { volumeAttachment: { volumeId: volume.id } })).status).toBe(200);
    const publicNet = ((await (await admin.get('/network/v2.0/networks?name=public')).json()) as { networks: Array<{ id: string }> }).networks[0] as { id: string };
    const fip = ((await (await admin.post('/network/v2.0/floatingips', { floatingip: { floating_network_id: publicNet.id } })).json()) as { floatingip: { id: string } }).floatingip;
    expect((await admin.del(`/network/v2.0/floatingips/${fip.id}`)).status).toBe(204);
    expect((await admin.del(`/compute/v2.1/servers/${server.id}`)).status).toBe(204);
    await platform.drain();
    await eventually(async () => (ofType('compute.instance.delete.end').length > 0 && ofType('floatingip.delete.end').length > 0 ? true : undefined), 'the last notifications');
  });

  afterAll(async () => {
    await handle?.close();
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('wraps every notification in the oslo.messaging v2 envelope, on notifications.<priority>', () => {
    expect(seen.length).toBeGreaterThan(30);
    for (const s of seen) {
      expect(Object.keys(s.envelope).sort()).toEqual(['oslo.message', 'oslo.version']);
      expect(s.envelope['oslo.version']).toBe('2.0');
      expect(s.routingKey).toBe(`notifications.${s.message.priority.toLowerCase()}`);
      expect(s.message.message_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(s.message.timestamp).toMatch(OSLO_TIMESTAMP);
      expect(typeof s.message.publisher_id).toBe('string');
    }
  });

  it.each([
    // event type, exchange, payload paths Ceilometer's definitions read
    ['compute.instance.create.end', 'nova', ['payload.instance_id', 'payload.tenant_id', 'payload.user_id', 'payload.vcpus', 'payload.memory_mb', 'payload.root_gb', 'payload.instance_type', 'payload.instance_flavor_id', 'payload.host', 'payload.launched_at', 'payload.image_meta.base_image_ref']],
    ['compute.instance.delete.end', 'nova', ['payload.instance_id', 'payload.tenant_id', 'payload.terminated_at', 'payload.deleted_at']],
    ['image.upload', 'glance', ['payload.id', 'payload.owner', 'payload.size']],
    ['volume.create.end', 'cinder', ['payload.volume_id', 'payload.tenant_id', 'payload.size', 'payload.volume_type', 'payload.status']],
    ['volume.attach.end', 'cinder', ['payload.volume_id', 'payload.tenant_id', 'payload.volume_attachment']],
    ['port.create.end', 'neutron', ['payload.port.id', 'payload.port.tenant_id', 'payload.port.device_id']],
    ['floatingip.create.end', 'neutron', ['payload.floatingip.id', 'payload.floatingip.tenant_id', 'payload.floatingip.floating_ip_address']],
    ['floatingip.delete.end', 'neutron', ['payload.floatingip_id']],
    ['identity.authenticate', 'keystone', ['payload.typeURI', 'payload.action', 'payload.outcome', 'payload.initiator.host.address', 'payload.eventTime']],
    ['audit.http.response', 'nova', ['payload.typeURI', 'payload.action', 'payload.outcome', 'payload.initiator.id', 'payload.initiator.project_id', 'payload.target.typeURI', 'payload.reason.reasonCode']],
  ] as const)('%s on exchange %s carries the fields Ceilometer reads', (type, exchange, paths) => {
    // The audit filter sits in front of every API, each on its own service's exchange.
    const messages = ofType(type).filter((m) => !type.startsWith('audit.') || m.exchange === exchange);
    expect(messages.length, `no ${type} was emitted`).toBeGreaterThan(0);
    for (const m of messages) {
      expect(m.exchange).toBe(exchange);
      for (const path of paths) expect(at(m.message, path), `${type}: ${path}`).not.toBeUndefined();
    }
  });

  it('audits the failed login as a CADF failure with the client address, and the good one as a success', () => {
    const outcomes = ofType('identity.authenticate').map((m) => m.message.payload.outcome);
    expect(outcomes).toContain('failure');
    expect(outcomes).toContain('success');
    const failure = ofType('identity.authenticate').find((m) => m.message.payload.outcome === 'failure');
    expect(at(failure?.message, 'payload.initiator.host.address')).toBe('127.0.0.1');
    expect(at(failure?.message, 'payload.typeURI')).toBe('http://schemas.dmtf.org/cloud/audit/1.0/event');
  });

  it('never puts a token on the bus', () => {
    const everything = seen.map((s) => JSON.stringify(s.envelope)).join('\n');
    expect(everything).not.toContain(admin.token);
  });
});
