import { afterEach, describe, expect, it } from 'vitest';
import { CumulusError, ManualClock, openStateDatabase, silentLogger } from '../../core/index.ts';
import { CloudApiError } from '../errors.ts';
import { KeystoneService } from '../keystone/service.ts';
import type { RequestContext } from '../notifier.ts';
import { Notifier } from '../notifier.ts';
import { createCinder } from './index.ts';
import { NOW, cinderHarness, items, type Captured, type Harness, type Json, type Member } from './test-harness.ts';

const SERVER = '6f1b5b7e-8c1f-4d3c-9a51-0d4c3b2a1f00';
const IMAGE = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

let h: Harness;
afterEach(async () => {
  await h.close();
});

/** The oslo context a member's request would carry. */
const contextOf = (member: Member, name: string): RequestContext => ({
  requestId: `req-${name}`,
  userId: member.userId,
  userName: name,
  projectId: member.projectId,
  projectName: `${name}-project`,
  domainId: 'default',
  roles: ['member'],
  isAdmin: false,
  remoteAddress: '127.0.0.1',
});

/** Reads `a.b.0.c` in a message, as the meter definitions' JSONPaths do. */
const at = (message: Json, path: string): unknown => path.split('.').reduce<unknown>((node, key) => (node === null || node === undefined ? undefined : (node as Record<string, unknown>)[key]), message);

const ofType = (h: Harness, eventType: string): Captured[] => h.captured.filter((c) => c.message.event_type === (eventType as unknown as Json));
const one = (h: Harness, eventType: string): Captured => {
  const found = ofType(h, eventType);
  expect(found, eventType).toHaveLength(1);
  return found[0] as Captured;
};

describe('cinder notifications', () => {
  it('emits volume.create.start/end in the oslo v2 envelope on exchange cinder, with _usage_from_volume payloads', async () => {
    h = await cinderHarness();
    const alice = contextOf(h.alice, 'alice');
    const volume = h.cinder.createVolume({ size: '2', name: 'db', metadata: { tier: 'gold' }, imageRef: IMAGE }, alice);
    await h.settle();
    await h.received(2);
    expect(h.events()).toEqual(['volume.create.start', 'volume.create.end']);
    const typeId = h.cinder.defaultType().id;
    for (const { exchange, routingKey, envelope, message } of h.captured) {
      expect(exchange).toBe('cinder');
      expect(routingKey).toBe('notifications.info');
      expect(Object.keys(envelope).sort()).toEqual(['oslo.message', 'oslo.version']);
      expect(envelope['oslo.version']).toBe('2.0');
      expect(message).toMatchObject({
        publisher_id: 'volume.cinder-volume-1@lvmdriver-1#lvmdriver-1',
        priority: 'INFO',
        timestamp: '2026-01-02 03:04:05.678000',
        _context_user_id: h.alice.userId,
        _context_project_id: h.alice.projectId,
        _context_request_id: 'req-alice',
        _context_is_admin: false,
      });
      expect(message.payload).toMatchObject({
        tenant_id: h.alice.projectId,
        user_id: h.alice.userId,
        volume_id: volume.id,
        display_name: 'db',
        size: 2,
        volume_type: typeId,
        availability_zone: 'nova',
        host: 'cinder-volume-1@lvmdriver-1#lvmdriver-1',
        created_at: '2026-01-02T03:04:05.678000+00:00',
        snapshot_id: null,
        replication_status: 'disabled',
        replication_extended_status: null,
        replication_driver_data: null,
        metadata: [{ key: 'tier', value: 'gold' }],
        volume_attachment: [],
        glance_metadata: [{ volume_id: volume.id, snapshot_id: null, key: 'image_id', value: IMAGE }],
      });
    }
    const [start, end] = h.captured as [Captured, Captured];
    expect(start.message.payload).toMatchObject({ status: 'creating', launched_at: '2026-01-02T03:04:05.678000' });
    expect(end.message.payload).toMatchObject({ status: 'available', launched_at: '2026-01-02T03:04:05.678000+00:00' });
    expect(start.message.message_id).not.toEqual(end.message.message_id);
  });

  it('derives every volume, snapshot and backup meter of Ceilometer\'s meters.yaml from what it emits', async () => {
    h = await cinderHarness({ capacityGb: 100 });
    const alice = contextOf(h.alice, 'alice');
    const gold = h.cinder.types.create({ name: 'gold' }, h.cinder.adminContext());
    const silver = h.cinder.types.create({ name: 'silver' }, h.cinder.adminContext());
    const volume = h.cinder.createVolume({ size: 1, name: 'data', volumeType: 'gold', imageRef: IMAGE }, alice);
    await h.settle();
    h.cinder.extendVolume(volume.id, 2, alice);
    await h.settle();
    await h.cinder.updateVolume(volume.id, { name: 'data-2' }, alice);
    h.cinder.retype(volume.id, 'silver', alice);
    await h.settle();
    h.cinder.reserveForAttach(volume.id, h.alice.projectId);
    await h.cinder.attach(volume.id, { serverId: SERVER, host: 'compute-1', device: '/dev/vdb' }, alice);
    await h.cinder.detach(volume.id, SERVER, alice);
    const snapshot = h.cinder.snapshots.create({ volumeId: volume.id, name: 'snap' }, false, alice);
    await h.settle();
    const backup = h.cinder.backups.create({ volumeId: volume.id, name: 'bk' }, alice);
    await h.settle();
    await h.cinder.emitExists(new Date('2026-01-02T00:00:00Z'), new Date('2026-01-03T00:00:00Z'));
    await h.cinder.emitCapacity();
    h.cinder.snapshots.delete(snapshot.id, alice);
    await h.settle();
    h.cinder.backups.delete(backup.id, alice);
    await h.settle();
    h.cinder.deleteVolume(volume.id, alice);
    await h.settle();
    await h.received(26);

    expect(h.events()).toEqual([
      'volume.create.start', 'volume.create.end',
      'volume.resize.start', 'volume.resize.end',
      'volume.update.start', 'volume.update.end',
      'volume.retype',
      'volume.attach.start', 'volume.attach.end',
      'volume.detach.start', 'volume.detach.end',
      'snapshot.create.start', 'snapshot.create.end',
      'backup.create.start', 'backup.create.end',
      'volume.exists', 'snapshot.exists', 'backup.exists',
      'capacity.pool', 'capacity.backend',
      'snapshot.delete.start', 'snapshot.delete.end',
      'backup.delete.start', 'backup.delete.end',
      'volume.delete.start', 'volume.delete.end',
    ]);

    // volume.size: volume.exists|volume.retype|volume.create.*|volume.delete.*|volume.resize.*|volume.attach.*|volume.detach.*|volume.update.*
    const volumeSize = /^(volume\.exists|volume\.retype|volume\.create\..*|volume\.delete\..*|volume\.resize\..*|volume\.attach\..*|volume\.detach\..*|volume\.update\..*|volume\.manage\..*)$/;
    const volumeEvents = h.captured.filter((c) => volumeSize.test(String(c.message.event_type)));
    expect(volumeEvents).toHaveLength(14);
    for (const { message } of volumeEvents) {
      expect(typeof at(message, 'payload.size')).toBe('number');
      expect(at(message, 'payload.user_id')).toBe(h.alice.userId);
      expect(at(message, 'payload.tenant_id')).toBe(h.alice.projectId);
      expect(at(message, 'payload.volume_id')).toBe(volume.id);
      expect(at(message, 'payload.display_name')).toEqual(expect.stringMatching(/^data/));
      expect([gold.id, silver.id]).toContain(at(message, 'payload.volume_type'));
      // image_id: $.payload.glance_metadata[?key=image_id].value
      expect(items(at(message, 'payload.glance_metadata') as Json).find((g) => g.key === ('image_id' as unknown as Json))?.value).toBe(IMAGE);
    }
    expect(at(one(h, 'volume.resize.start').message, 'payload.size')).toBe(1);
    expect(at(one(h, 'volume.resize.end').message, 'payload.size')).toBe(2);
    expect(at(one(h, 'volume.retype').message, 'payload.volume_type')).toBe(silver.id);
    expect(at(one(h, 'volume.update.end').message, 'payload.display_name')).toBe('data-2');
    expect(one(h, 'volume.update.end').message.publisher_id).toBe('volume.cinder-api-1');
    // instance_id: $.payload.volume_attachment[0].server_id, present while attached.
    expect(at(one(h, 'volume.attach.start').message, 'payload.volume_attachment')).toEqual([]);
    expect(at(one(h, 'volume.attach.end').message, 'payload.volume_attachment.0.server_id')).toBe(SERVER);
    expect(at(one(h, 'volume.attach.end').message, 'payload.volume_attachment.0.instance_uuid')).toBe(SERVER);
    expect(at(one(h, 'volume.detach.start').message, 'payload.volume_attachment.0.server_id')).toBe(SERVER);
    expect(at(one(h, 'volume.detach.end').message, 'payload.volume_attachment')).toEqual([]);
    expect(at(one(h, 'volume.delete.start').message, 'payload.status')).toBe('deleting');
    expect(at(one(h, 'volume.delete.end').message, 'payload.status')).toBe('deleted');
    expect(one(h, 'volume.delete.end').message.publisher_id).toBe('volume.cinder-volume-1@lvmdriver-1');

    // snapshot.size: snapshot.exists|snapshot.create.*|snapshot.delete.*, volume $.payload.volume_size.
    const snapshotEvents = h.captured.filter((c) => /^snapshot\.(exists|create\..*|delete\..*)$/.test(String(c.message.event_type)));
    expect(snapshotEvents).toHaveLength(5);
    for (const { message } of snapshotEvents) {
      expect(message.publisher_id).toBe('snapshot.cinder-volume-1@lvmdriver-1');
      expect(message.payload).toMatchObject({ volume_size: 2, user_id: h.alice.userId, tenant_id: h.alice.projectId, snapshot_id: snapshot.id, display_name: 'snap', volume_id: volume.id, availability_zone: 'nova', metadata: '{}' });
    }
    expect(at(one(h, 'snapshot.delete.end').message, 'payload')).toMatchObject({ status: 'deleted', deleted: 'True' });
    expect(at(one(h, 'snapshot.create.end').message, 'payload')).toMatchObject({ status: 'available', deleted: 'False', created_at: '2026-01-02T03:04:05.678000+00:00' });

    // backup.size: backup.exists|backup.create.*|backup.delete.*, volume $.payload.size.
    const backupEvents = h.captured.filter((c) => /^backup\.(exists|create\..*|delete\..*)$/.test(String(c.message.event_type)));
    expect(backupEvents).toHaveLength(5);
    for (const { message } of backupEvents) {
      expect(message.publisher_id).toBe('backup.cinder-backup-1');
      expect(message.payload).toMatchObject({ size: 2, user_id: h.alice.userId, tenant_id: h.alice.projectId, backup_id: backup.id, display_name: 'bk', volume_id: volume.id, host: 'cinder-backup-1' });
    }
    expect(at(one(h, 'backup.create.end').message, 'payload')).toMatchObject({ status: 'available', service: 'cinder.backup.drivers.swift.SwiftBackupDriver', num_dependent_backups: 0, parent_id: null, fail_reason: null });

    // volume.provider.capacity.* (capacity.backend.*) and volume.provider.pool.capacity.* (capacity.pool.*).
    const pool = one(h, 'capacity.pool').message;
    const backend = one(h, 'capacity.backend').message;
    expect(pool.publisher_id).toBe('capacity.cinder-scheduler-1');
    expect(pool.payload).toEqual({ name_to_id: 'cinder-volume-1@lvmdriver-1#lvmdriver-1', total: 100, free: 98, allocated: 2, provisioned: 2, virtual_free: 98, reported_at: '2026-01-02T03:04:05.678000' });
    expect(String(pool.payload?.name_to_id).split('#')[0]).toBe('cinder-volume-1@lvmdriver-1');
    expect(backend.payload).toMatchObject({ name_to_id: 'cinder-volume-1@lvmdriver-1', total: 100, free: 98, allocated: 2, provisioned: 2, virtual_free: 98 });
    // meters.yaml's event types are regular expressions Ceilometer matches from the start (re.match).
    expect(/capacity.pool.*/.exec(String(pool.event_type))?.index).toBe(0);
    expect(/capacity.backend.*/.exec(String(backend.event_type))?.index).toBe(0);
  });

  it('puts a volume the backend cannot hold in error, with scheduler.create_volume on notifications.error', async () => {
    h = await cinderHarness({ capacityGb: 10 });
    const alice = contextOf(h.alice, 'alice');
    h.cinder.createVolume({ size: 8, name: 'fits' }, alice);
    await h.settle();
    const big = h.cinder.createVolume({ size: 5, name: 'too-big' }, alice);
    await h.settle();
    expect(h.cinder.get(big.id, h.alice.projectId).status).toBe('error');
    await h.received(3);
    const error = one(h, 'scheduler.create_volume');
    expect(error.routingKey).toBe('notifications.error');
    expect(error.message).toMatchObject({ priority: 'ERROR', publisher_id: 'scheduler.cinder-scheduler-1' });
    expect(error.message.payload).toMatchObject({ volume_id: big.id, method: 'create_volume', state: { volume_state: { status: 'error' } }, reason: expect.stringContaining('No valid backend') });
    expect(ofType(h, 'volume.create.end')).toHaveLength(1);
    // An errored volume can be deleted, and then it no longer counts.
    h.cinder.deleteVolume(big.id, alice);
    await h.settle();
    expect(() => h.cinder.get(big.id, null)).toThrow(CloudApiError);
  });
});

describe('cinder for nova', () => {
  it('reserves, attaches, lists and detaches the volumes of a server', async () => {
    h = await cinderHarness();
    const alice = contextOf(h.alice, 'alice');
    const first = h.cinder.createVolume({ size: 1, name: 'one' }, alice);
    const second = h.cinder.createVolume({ size: 1, name: 'two' }, alice);
    await h.settle();

    const wrongProject = (() => {
      try {
        h.cinder.reserveForAttach(first.id, h.bob.projectId);
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(wrongProject).toBeInstanceOf(CumulusError);
    expect((wrongProject as CumulusError).code).toBe('CUMULUS_CLOUD_NOT_FOUND');
    expect((wrongProject as CumulusError).httpStatus).toBe(404);

    expect(h.cinder.reserveForAttach(first.id, h.alice.projectId).status).toBe('attaching');
    const attachment = await h.cinder.attach(first.id, { serverId: SERVER, host: 'compute-1', device: '/dev/vdb' }, alice);
    expect(attachment).toMatchObject({ volume_id: first.id, instance_uuid: SERVER, mountpoint: '/dev/vdb', attached_host: 'compute-1', attach_status: 'attached' });
    h.cinder.reserveForAttach(second.id, null);
    await h.cinder.attach(second.id, { serverId: SERVER, host: 'compute-1', device: '/dev/vdc' });
    expect(h.cinder.get(first.id, h.alice.projectId)).toMatchObject({ status: 'in-use', attach_status: 'attached' });
    expect(h.cinder.volumesOfServer(SERVER)).toEqual([
      { volumeId: first.id, attachmentId: attachment.id, device: '/dev/vdb', host: 'compute-1' },
      { volumeId: second.id, attachmentId: expect.any(String), device: '/dev/vdc', host: 'compute-1' },
    ]);
    // An attached volume cannot be reserved again (it is not multiattach).
    expect(() => h.cinder.reserveForAttach(first.id, null)).toThrow(/Volume status must be available to reserve, but the status is in-use/);

    const detached = await h.cinder.detach(first.id, SERVER, alice);
    expect(detached).toMatchObject({ status: 'available', attach_status: 'detached' });
    expect(h.cinder.volumesOfServer(SERVER).map((v) => v.volumeId)).toEqual([second.id]);
    await expect(h.cinder.detach(first.id, SERVER)).rejects.toMatchObject({ code: 'CUMULUS_CLOUD_NOT_FOUND', httpStatus: 404 });

    // A failed attach on Nova's side is rolled back by unreserving.
    h.cinder.reserveForAttach(first.id, null);
    expect(h.cinder.unreserveForAttach(first.id).status).toBe('available');

    await h.received(8);
    const attachEnd = ofType(h, 'volume.attach.end')[0] as Captured;
    expect(attachEnd.message).toMatchObject({ _context_user_id: h.alice.userId, _context_request_id: 'req-alice' });
    // Without a context, Nova's calls carry Cinder's admin context.
    const secondAttach = ofType(h, 'volume.attach.end')[1] as Captured;
    expect(secondAttach.message).toMatchObject({ _context_user_id: null, _context_is_admin: true });
  });
});

describe('cinder usage audit', () => {
  it('emits volume/snapshot/backup.exists for what existed during the period, deleted ones included', async () => {
    h = await cinderHarness();
    const alice = contextOf(h.alice, 'alice');
    h.clock.set(new Date('2026-01-02T00:00:00Z'));
    const kept = h.cinder.createVolume({ size: 3, name: 'kept' }, alice);
    const gone = h.cinder.createVolume({ size: 1, name: 'gone' }, alice);
    await h.settle();
    const snapshot = h.cinder.snapshots.create({ volumeId: kept.id, name: 's' }, false, alice);
    await h.settle();
    const backup = h.cinder.backups.create({ volumeId: kept.id, name: 'b' }, alice);
    await h.settle();
    h.clock.set(new Date('2026-01-02T01:30:00Z'));
    h.cinder.deleteVolume(gone.id, alice);
    await h.settle();
    h.clock.set(new Date('2026-01-02T05:00:00Z'));
    h.cinder.createVolume({ size: 1, name: 'later' }, alice);
    await h.settle();
    await h.received(12);
    const before = h.captured.length;

    // 1. An hour after the delete: the deleted volume and the later one are not reported.
    expect(await h.cinder.emitExists(new Date('2026-01-02T02:00:00Z'), new Date('2026-01-02T03:00:00Z'))).toBe(3);
    await h.received(before + 3);
    const audit = h.captured.slice(before);
    expect(audit.map((c) => c.message.event_type)).toEqual(['volume.exists', 'snapshot.exists', 'backup.exists']);
    for (const { message } of audit) {
      expect(message.payload).toMatchObject({ audit_period_beginning: '2026-01-02 02:00:00+00:00', audit_period_ending: '2026-01-02 03:00:00+00:00' });
      expect(message).toMatchObject({ _context_is_admin: true, _context_user_id: null, _context_project_id: null });
    }
    expect(audit[0]?.message.payload).toMatchObject({ volume_id: kept.id, size: 3, status: 'available', created_at: '2026-01-02T00:00:00+00:00', launched_at: '2026-01-02T00:00:00+00:00' });
    expect(audit[0]?.message.publisher_id).toBe('volume.cinder-volume-1@lvmdriver-1');
    expect(audit[1]?.message.payload).toMatchObject({ snapshot_id: snapshot.id, volume_size: 3 });
    expect(audit[2]?.message.payload).toMatchObject({ backup_id: backup.id, size: 3 });

    // 2. The hour of the delete: the deleted volume existed then, with its final state.
    const again = h.captured.length;
    expect(await h.cinder.emitExists(new Date('2026-01-02T01:00:00Z'), new Date('2026-01-02T02:00:00Z'))).toBe(4);
    await h.received(again + 4);
    const volumes = h.captured.slice(again).filter((c) => c.message.event_type === ('volume.exists' as unknown as Json));
    expect(volumes.map((c) => c.message.payload?.volume_id).sort()).toEqual([gone.id, kept.id].sort());
    expect(volumes.find((c) => c.message.payload?.volume_id === (gone.id as unknown as Json))?.message.payload?.status).toBe('deleted');

    await expect(h.cinder.emitExists(new Date('2026-01-02T02:00:00Z'), new Date('2026-01-02T02:00:00Z'))).rejects.toThrow(RangeError);
  });
});

describe('createCinder', () => {
  it('refuses bad options with a typed error naming the field', async () => {
    h = await cinderHarness();
    const db = openStateDatabase(':memory:');
    const clock = new ManualClock(NOW);
    const deps = {
      db,
      notifier: new Notifier({ kind: 'memory', start: async () => {}, stop: async () => {}, publish: async () => {}, subscribe: async () => ({ close: async () => {} }) }, clock),
      keystone: new KeystoneService(db, clock, 1000),
      clock,
      logger: silentLogger(),
      publicUrl: 'http://x',
      region: 'RegionOne',
    };
    expect(() => createCinder(deps, { transitionDelayMs: -1 })).toThrow(expect.objectContaining({ code: 'CUMULUS_CONFIG_INVALID', message: expect.stringContaining('cinder.transitionDelayMs') }));
    expect(() => createCinder(deps, { backendHost: 'no-backend' })).toThrow(/cinder.backendHost must look like host@backend/);
    expect(() => createCinder(deps, { capacityGb: 0 })).toThrow(/cinder.capacityGb/);
    // Migrating twice and bootstrapping twice leave one default type.
    const module = createCinder(deps);
    await module.start?.();
    await createCinder(deps).start?.();
    expect(module.service.types.list(module.service.adminContext(), 'None').map((t) => t.name)).toEqual(['__DEFAULT__']);
    db.close();
  });
});
