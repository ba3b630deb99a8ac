import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../cli/platform.ts';
import { loadConfig, silentLogger } from '../core/index.ts';
import { IN_CI } from './support/services.ts';
import { OPENSTACK_CLI, cliAvailable, openstack, type CliCredentials } from './support/openstack-cli.ts';

const available = cliAvailable();
if (!available && !IN_CI) process.stderr.write(`[skip] ${OPENSTACK_CLI} is not installed (bash scripts/debian-packages.sh); CI fails instead of skipping\n`);

type Row = Record<string, unknown>;

/** The real python3-openstackclient from Debian driving `cumulus up`'s control plane. */
describe.runIf(available || IN_CI)('the real openstack CLI against the embedded control plane', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-cli-'));
  let platform: Platform;
  let creds: CliCredentials;
  const os = <T = Row>(...args: string[]) => openstack<T>(creds, args);

  beforeAll(async () => {
    const config = loadConfig({ env: {}, overrides: { port: 0, dataDir: join(dir, 'data'), logLevel: 'silent', adminPassword: 'cli-admin-password' } });
    // No synthetic checks: their probe flavor and servers would show in the exact lists checked here.
    platform = await startPlatform(config, { logger: silentLogger(), buildDelayMs: 20, alerts: { syntheticChecks: false } });
    creds = { authUrl: `${platform.url}/identity/v3`, username: 'admin', password: 'cli-admin-password', project: 'admin' };
  });

  afterAll(async () => {
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has the openstack CLI installed', () => {
    expect(available, `${OPENSTACK_CLI} must be installed (bash scripts/debian-packages.sh)`).toBe(true);
  });

  it('issues a token and lists the catalog and projects', async () => {
    const token = await os('token', 'issue');
    expect(token.id).toEqual(expect.any(String));
    expect(token.project_id).toEqual(expect.any(String));
    const catalog = await os<Row[]>('catalog', 'list');
    expect(catalog.map((c) => c.Type)).toEqual(expect.arrayContaining(['identity', 'compute', 'image', 'placement', 'metric']));
    const projects = await os<Row[]>('project', 'list');
    expect(projects.map((p) => p.Name)).toEqual(expect.arrayContaining(['admin', 'service']));
  });

  it('refuses a wrong password with a 401', async () => {
    await expect(openstack({ ...creds, password: 'wrong-password' }, ['token', 'issue'])).rejects.toThrow(/401|authenticat/i);
  });

  it('creates and lists flavors, uploads images, and runs a server through create, show, resize and delete', async () => {
    await os('flavor', 'create', '--vcpus', '1', '--ram', '1024', '--disk', '10', 'm1.tiny');
    await os('flavor', 'create', '--vcpus', '2', '--ram', '2048', '--disk', '20', 'm1.small');
    const flavors = await os<Row[]>('flavor', 'list');
    expect(flavors.map((f) => f.Name).sort()).toEqual(['m1.small', 'm1.tiny']);

    const file = join(dir, 'cirros.img');
    writeFileSync(file, Buffer.alloc(2 * 1024 * 1024, 7));
    await os('image', 'create', '--file', file, '--disk-format', 'raw', '--container-format', 'bare', '--property', 'os_distro=rhel', 'rhel-9');
    const images = await os<Row[]>('image', 'list');
    expect(images).toEqual([expect.objectContaining({ Name: 'rhel-9', Status: 'active' })]);
    const image = await os('image', 'show', 'rhel-9');
    expect(image.size).toBe(2 * 1024 * 1024);

    const server = await os('server', 'create', '--flavor', 'm1.tiny', '--image', 'rhel-9', '--wait', 'web-1');
    expect(server.status).toBe('ACTIVE');
    const listed = await os<Row[]>('server', 'list');
    expect(listed).toEqual([expect.objectContaining({ Name: 'web-1', Status: 'ACTIVE', Image: 'rhel-9', Flavor: 'm1.tiny' })]);
    const shown = await os('server', 'show', 'web-1');
    expect(shown['OS-EXT-STS:vm_state']).toBe('active');

    await openstack(creds, ['server', 'resize', '--flavor', 'm1.small', '--wait', 'web-1'], { json: false });
    const resized = await os('server', 'show', 'web-1');
    expect(resized.status).toBe('VERIFY_RESIZE');
    await openstack(creds, ['server', 'resize', 'confirm', 'web-1'], { json: false });
    const confirmed = await os('server', 'show', 'web-1');
    expect(confirmed.status).toBe('ACTIVE');
    expect(String(confirmed.flavor)).toContain('m1.small');

    await openstack(creds, ['server', 'delete', '--wait', 'web-1'], { json: false });
    expect(await os<Row[]>('server', 'list')).toEqual([]);
    await openstack(creds, ['image', 'delete', 'rhel-9'], { json: false });
    expect(await os<Row[]>('image', 'list')).toEqual([]);
  });

  it('creates networks and floating IPs, and attaches a server to a network', async () => {
    await os('network', 'create', 'app-net');
    await os('subnet', 'create', '--network', 'app-net', '--subnet-range', '192.168.50.0/24', 'app-subnet');
    const networks = await os<Row[]>('network', 'list');
    expect(networks.map((n) => n.Name)).toEqual(expect.arrayContaining(['app-net', 'public', 'private']));

    const server = await os('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros-net', '--network', 'app-net', '--wait', 'net-1').catch(async () => {
      const file = join(dir, 'cirros-net.img');
      writeFileSync(file, Buffer.alloc(1024, 1));
      await os('image', 'create', '--file', file, '--disk-format', 'raw', 'cirros-net');
      return os('server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros-net', '--network', 'app-net', '--wait', 'net-1');
    });
    expect(server.status).toBe('ACTIVE');
    expect(JSON.stringify(server.addresses)).toMatch(/app-net.*192\.168\.50\.\d+/);
    const ports = await os<Row[]>('port', 'list', '--server', 'net-1');
    expect(ports).toHaveLength(1);

    const fip = await os('floating', 'ip', 'create', 'public');
    expect(String(fip.floating_ip_address)).toMatch(/^172\.24\.4\.\d+$/);
    const listed = await os<Row[]>('floating', 'ip', 'list');
    expect(listed.map((f) => f['Floating IP Address'])).toContain(fip.floating_ip_address);
    await openstack(creds, ['floating', 'ip', 'delete', String(fip.floating_ip_address)], { json: false });
    expect(await os<Row[]>('floating', 'ip', 'list')).toEqual([]);

    await openstack(creds, ['server', 'delete', '--wait', 'net-1'], { json: false });
    expect(await os<Row[]>('port', 'list', '--network', 'app-net', '--device-owner', 'compute:nova')).toEqual([]);
  });

  it('creates volumes, attaches one to a server and deletes them', async () => {
    const volume = await os('volume', 'create', '--size', '2', 'data-1');
    expect(volume.size).toBe(2);
    const deadline = Date.now() + 20_000;
    while ((await os('volume', 'show', 'data-1')).status !== 'available') {
      if (Date.now() > deadline) throw new Error('volume data-1 never became available');
      await new Promise((r) => setTimeout(r, 200));
    }
    const volumes = await os<Row[]>('volume', 'list');
    expect(volumes).toEqual([expect.objectContaining({ Name: 'data-1', Status: 'available', Size: 2 })]);

    const file = join(dir, 'vol-image.img');
    writeFileSync(file, Buffer.alloc(1024, 3));
    await os('image', 'create', '--file', file, '--disk-format', 'raw', 'vol-image');
    await os('server', 'create', '--flavor', 'm1.tiny', '--image', 'vol-image', '--wait', 'vol-host');
    await openstack(creds, ['server', 'add', 'volume', 'vol-host', 'data-1'], { json: false });
    const attached = await os('volume', 'show', 'data-1');
    expect(attached.status).toBe('in-use');
    expect(JSON.stringify(attached.attachments)).toContain('/dev/vdb');
    const server = await os('server', 'show', 'vol-host');
    expect(JSON.stringify(server.volumes_attached)).toContain(String(volume.id));

    // Deleting the server detaches the volume, which then can be deleted.
    await openstack(creds, ['server', 'delete', '--wait', 'vol-host'], { json: false });
    expect((await os('volume', 'show', 'data-1')).status).toBe('available');
    await openstack(creds, ['volume', 'delete', 'data-1'], { json: false });
    const gone = Date.now() + 20_000;
    while ((await os<Row[]>('volume', 'list')).length > 0) {
      if (Date.now() > gone) throw new Error('volume data-1 was never deleted');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it('stores containers and objects', async () => {
    await os('container', 'create', 'backups');
    const file = join(dir, 'dump.sql');
    writeFileSync(file, 'SELECT 1;\n'.repeat(1000));
    await os('object', 'create', 'backups', file);
    const containers = await os<Row[]>('container', 'list');
    expect(containers).toEqual([expect.objectContaining({ Name: 'backups' })]);
    const shown = await os('container', 'show', 'backups');
    expect(Number(shown.bytes_used)).toBe(10_000);
    expect(Number(shown.object_count)).toBe(1);
  });

  it('reports hypervisors, their statistics and usage', async () => {
    const hypervisors = await os<Row[]>('hypervisor', 'list');
    expect(hypervisors.length).toBe(4);
    expect(hypervisors[0]).toEqual(expect.objectContaining({ State: 'up', 'Hypervisor Type': 'QEMU' }));
    const stats = await os('hypervisor', 'stats', 'show');
    expect(stats.count).toBe(4);
    expect(stats.vcpus).toBe(256);
    // JSON output carries project ids (the table format resolves them to names through Keystone).
    const usage = await os<Row[]>('usage', 'list');
    const adminProject = (await os('token', 'issue')).project_id;
    expect(usage.map((u) => u.Project)).toContain(adminProject);
    expect(Number((usage.find((u) => u.Project === adminProject) as Row)['CPU Hours'])).toBeGreaterThan(0);
    const table = await openstack<string>(creds, ['usage', 'list'], { json: false });
    expect(table).toMatch(/\| admin\s+\|/);
  });
});
