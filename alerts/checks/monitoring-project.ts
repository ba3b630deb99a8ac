/**
 * The dedicated monitoring project: the transactions run as its own user, inside tight
 * quotas, so a prober gone wrong can never take more than a couple of small servers and
 * volumes from the cloud, and its usage is easy to tell apart (and to leave unrated).
 * Everything here is idempotent: it runs at every start.
 */
import type { Logger } from '../../core/index.ts';
import { call, endpointOf, type CloudSession } from './cloud-client.ts';
import { DEFAULT_PROBE_FLAVOR, PROBE_RESOURCE_PREFIX, type ProberConfig } from './config.ts';
import { CHECK_ERROR_CODES, CheckFailure } from './errors.ts';
import type { SessionCache } from './session-cache.ts';

/** What the transactions need from the setup. */
export interface MonitoringSetup {
  projectId: string;
  userId: string;
  /** The flavor the server check boots. */
  flavorId: string;
  /** An active image, or '' when the cloud has none (a cloud that needs one then fails the server check). */
  imageRef: string;
}

const COMPUTE_TYPES = ['compute'];
const VOLUME_TYPES = ['block-storage', 'volumev3', 'volume'];
const IMAGE_TYPES = ['image'];

const setupFailure = (step: string, message: string) => new CheckFailure(CHECK_ERROR_CODES.setupFailed, step, message);

function requireEndpoint(session: CloudSession, types: readonly string[], region: string | null, step: string): string {
  const endpoint = endpointOf(session, types, region);
  if (!endpoint) throw setupFailure(step, `the Keystone catalog lists no ${types.join('/')} endpoint${region === null ? '' : ` in region ${region}`}`);
  return endpoint.url;
}

interface Named {
  id: string;
  name: string;
}

/**
 * Ensures project, user, role assignment, compute (and, where the cloud has the API, block
 * storage) quotas and a small flavor exist, then removes what a crashed run left behind.
 */
export async function ensureMonitoringProject(config: ProberConfig, admin: SessionCache, monitoring: SessionCache, deps: { fetch: typeof fetch; logger: Logger }): Promise<MonitoringSetup> {
  const f = deps.fetch;
  const session = await admin.get();
  const token = session.token;
  const keystone = config.authUrl;
  const wanted = config.monitoring;
  const creds = wanted.credentials;

  // 1. The project and the user, created when absent.
  const projects = (await call(f, 'find monitoring project', `${keystone}/projects?name=${encodeURIComponent(creds.projectName)}`, { token })).body as { projects?: Named[] };
  let projectId = projects.projects?.find((p) => p.name === creds.projectName)?.id;
  if (!projectId) {
    const created = await call(f, 'create monitoring project', `${keystone}/projects`, { method: 'POST', token, expect: [201], body: { project: { name: creds.projectName, domain_id: 'default', description: 'Cumulus synthetic availability checks (tight quotas)' } } });
    projectId = (created.body as { project: Named }).project.id;
  }
  const users = (await call(f, 'find monitoring user', `${keystone}/users?name=${encodeURIComponent(creds.username)}`, { token })).body as { users?: Named[] };
  let userId = users.users?.find((u) => u.name === creds.username)?.id;
  if (!userId) {
    const created = await call(f, 'create monitoring user', `${keystone}/users`, { method: 'POST', token, expect: [201], body: { user: { name: creds.username, password: creds.password, domain_id: 'default', default_project_id: projectId } } });
    userId = (created.body as { user: Named }).user.id;
  }

  // 2. Its role on the project (PUT is idempotent).
  const roles = (await call(f, 'list roles', `${keystone}/roles`, { token })).body as { roles?: Named[] };
  const roleId = roles.roles?.find((r) => r.name === wanted.role)?.id;
  if (!roleId) throw setupFailure('list roles', `Keystone has no role named ${wanted.role} (monitoring.role)`);
  await call(f, 'assign monitoring role', `${keystone}/projects/${projectId}/users/${userId}/roles/${roleId}`, { method: 'PUT', token, expect: [204, 201, 200] });

  // 3. Tight quotas. Compute is required; Cinder's quota API is used where the cloud has it.
  const compute = requireEndpoint(session, COMPUTE_TYPES, config.region, 'compute quotas');
  const q = wanted.quotas;
  await call(f, 'set compute quotas', `${compute}/os-quota-sets/${projectId}`, { method: 'PUT', token, body: { quota_set: { instances: q.instances, cores: q.cores, ram: q.ramMb } } });
  const volume = endpointOf(session, VOLUME_TYPES, config.region);
  if (volume) {
    try {
      await call(f, 'set volume quotas', `${volume.url}/os-quota-sets/${projectId}`, { method: 'PUT', token, body: { quota_set: { volumes: q.volumes, gigabytes: q.gigabytes, snapshots: 0, backups: 0 } } });
    } catch (err) {
      if (!(err instanceof CheckFailure) || err.status !== 404) throw err;
      deps.logger.warn({ projectId }, 'prober: the block storage API has no os-quota-sets; the monitoring project keeps its default volume quotas');
    }
  }

  // 4. The smallest flavor inside the quotas, or our own.
  const flavors = ((await call(f, 'list flavors', `${compute}/flavors/detail`, { token })).body as { flavors?: Array<Named & { vcpus: number; ram: number; disk: number }> }).flavors ?? [];
  // Disk-less flavors last: some schedulers ask for DISK_GB 0 and find no host (see DEFAULT_PROBE_FLAVOR).
  const fitting = flavors.filter((fl) => fl.vcpus <= q.cores && fl.ram <= q.ramMb && fl.disk <= q.gigabytes * 10).sort((a, b) => Number(a.disk === 0) - Number(b.disk === 0) || a.ram - b.ram || a.vcpus - b.vcpus || a.disk - b.disk);
  let flavorId = fitting[0]?.id;
  if (!flavorId) {
    const p = DEFAULT_PROBE_FLAVOR;
    const created = await call(f, 'create probe flavor', `${compute}/flavors`, { method: 'POST', token, body: { flavor: { name: p.name, vcpus: p.vcpus, ram: p.ramMb, disk: p.diskGb, 'os-flavor-access:is_public': true } } });
    flavorId = (created.body as { flavor: Named }).flavor.id;
  }

  // 5. An active image, when the cloud has an image service.
  let imageRef = '';
  const image = endpointOf(session, IMAGE_TYPES, config.region);
  if (image) {
    const images = (await call(f, 'list images', `${image.url}/v2/images?status=active&limit=1`, { token })).body as { images?: Named[] };
    imageRef = images.images?.[0]?.id ?? '';
  }

  // 6. Leftovers of a crashed run (named with our prefix) would hold the tight quota: remove them.
  await removeLeftovers(config, monitoring, f, deps.logger);
  return { projectId, userId, flavorId, imageRef };
}

async function removeLeftovers(config: ProberConfig, monitoring: SessionCache, f: typeof fetch, logger: Logger): Promise<void> {
  let session: CloudSession;
  try {
    session = await monitoring.get();
  } catch (err) {
    // An existing user with another password: say so, rather than fail every check with 401s (which look like brute force).
    if (err instanceof CheckFailure && err.status === 401) {
      const user = config.monitoring.credentials.username;
      throw setupFailure('login as monitoring user', `Keystone refused the configured password of the existing user ${user}: set monitoring.password to its password, or delete the user so that the prober creates it`);
    }
    throw err;
  }
  const token = session.token;
  const compute = requireEndpoint(session, COMPUTE_TYPES, config.region, 'leftover servers');
  const servers = ((await call(f, 'list leftover servers', `${compute}/servers`, { token })).body as { servers?: Named[] }).servers ?? [];
  for (const server of servers.filter((s) => s.name.startsWith(PROBE_RESOURCE_PREFIX))) {
    await call(f, 'delete leftover server', `${compute}/servers/${server.id}`, { method: 'DELETE', token, expect: [204, 202, 404] });
    logger.info({ serverId: server.id }, 'prober: removed a leftover probe server');
  }
  const volume = endpointOf(session, VOLUME_TYPES, config.region);
  if (!volume) return;
  const volumes = ((await call(f, 'list leftover volumes', `${volume.url}/volumes`, { token })).body as { volumes?: Array<Named & { name: string | null }> }).volumes ?? [];
  for (const v of volumes.filter((x) => (x.name ?? '').startsWith(PROBE_RESOURCE_PREFIX))) {
    await call(f, 'delete leftover volume', `${volume.url}/volumes/${v.id}?force=true`, { method: 'DELETE', token, expect: [202, 404, 400] });
    logger.info({ volumeId: v.id }, 'prober: removed a leftover probe volume');
  }
}
