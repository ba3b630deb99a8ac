/**
 * The built-in transactions: what a user does, done the way a user does it (the public
 * APIs through the load balancer, as the monitoring user), so a failure here is a failure
 * users see. Each is a function of the check context; it throws a CheckFailure naming the
 * step that failed.
 */
import { randomUUID } from 'node:crypto';
import { call, endpointOf, login, type CatalogEndpoint, type CloudSession, type Credentials } from './cloud-client.ts';
import { PROBE_RESOURCE_PREFIX, type CheckContext, type CheckOutcome, type Transaction } from './config.ts';
import { CHECK_ERROR_CODES, CheckFailure } from './errors.ts';
import type { MonitoringSetup } from './monitoring-project.ts';
import type { SessionCache } from './session-cache.ts';

/** How long a cleanup after a failed or timed-out run may take (it outlives the run's deadline). */
export const CLEANUP_TIMEOUT_MS = 30_000;
/** Nova's microversion that lets a server boot with `networks: "none"`: the check is about compute, not networking. */
const NOVA_NONE_NETWORKS_MICROVERSION = '2.37';

/** Catalog types that name the same service; the status board uses the first. */
const SERVICE_ALIASES: Readonly<Record<string, string>> = { volumev3: 'block-storage', volumev2: 'block-storage', volume: 'block-storage' };
export const serviceOfCatalogType = (type: string): string => SERVICE_ALIASES[type] ?? type;

/** The deployment model's processes and the service each serves (the status board's rows). */
const PROCESS_SERVICES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^keystone$/, 'identity'],
  [/^(nova-|libvirtd$)/, 'compute'],
  [/^glance-/, 'image'],
  [/^cinder-/, 'block-storage'],
  [/^neutron-/, 'network'],
  [/^placement-/, 'placement'],
  [/^heat-/, 'orchestration'],
  [/^mysqld$/, 'database'],
  [/^rabbitmq-server$/, 'messaging'],
  [/^memcached$/, 'cache'],
  [/^haproxy$/, 'load-balancer'],
];
export const serviceOfProcess = (process: string): string => PROCESS_SERVICES.find(([pattern]) => pattern.test(process))?.[1] ?? process;
/** The check name of one process's health rows (one row per host). */
export const processCheckName = (process: string): string => `process:${process}`;

export interface TransactionDeps {
  monitoring: SessionCache;
  admin: SessionCache;
  authUrl: string;
  monitoringCredentials: Credentials;
  region: string | null;
  /** Null when no transaction runs as the monitoring user. */
  setup: MonitoringSetup | null;
  pollIntervalMs: number;
  volumeSizeGb: number;
}

const probeName = () => `${PROBE_RESOURCE_PREFIX}${randomUUID().slice(0, 8)}`;

/** Runs `step` with the monitoring session; a 401 (token revoked, Keystone restarted) logs in again once. */
async function withSession<T>(sessions: SessionCache, context: CheckContext, step: (session: CloudSession) => Promise<T>): Promise<T> {
  const session = await sessions.get(context.signal);
  try {
    return await step(session);
  } catch (err) {
    if (!(err instanceof CheckFailure) || err.status !== 401) throw err;
    sessions.invalidate(session);
    return step(await sessions.get(context.signal));
  }
}

function endpoint(session: CloudSession, types: readonly string[], region: string | null, step: string): string {
  const found = endpointOf(session, types, region);
  if (!found) throw new CheckFailure(CHECK_ERROR_CODES.stepFailed, step, `the catalog lists no ${types.join('/')} endpoint${region === null ? '' : ` in region ${region}`}`);
  return found.url;
}

/** Polls `read` until `done` says the status is reached; `failed` names a status that ends the wait with a failure. */
async function waitFor<T>(context: CheckContext, pollMs: number, step: string, read: () => Promise<T>, done: (value: T) => boolean, failed: (value: T) => string | null): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    const why = failed(value);
    if (why !== null) throw new CheckFailure(CHECK_ERROR_CODES.stepFailed, step, why);
    await context.sleep(pollMs);
  }
}

/** Keystone: issue a token for the monitoring user, then revoke it (a 1 s check must not pile up tokens). */
export function tokenIssue(deps: Pick<TransactionDeps, 'authUrl' | 'monitoringCredentials'>): Transaction {
  return async (context) => {
    const session = await login(context.fetch, deps.authUrl, deps.monitoringCredentials, { step: 'issue token', signal: context.signal, noCatalog: true });
    await call(context.fetch, 'revoke token', `${deps.authUrl}/auth/tokens`, { method: 'DELETE', token: session.token, headers: { 'x-subject-token': session.token }, expect: [204], signal: context.signal });
  };
}

/** Nova: list flavors. */
export function flavorList(deps: Pick<TransactionDeps, 'monitoring' | 'region'>): Transaction {
  return (context) =>
    withSession(deps.monitoring, context, async (session) => {
      await call(context.fetch, 'list flavors', `${endpoint(session, ['compute'], deps.region, 'list flavors')}/flavors`, { token: session.token, expect: [200], signal: context.signal });
    });
}

/** Cinder: create a volume, wait until available, delete it, wait until gone. */
export function volumeCycle(deps: TransactionDeps): Transaction {
  return (context) =>
    withSession(deps.monitoring, context, async (session) => {
      const base = endpoint(session, ['block-storage', 'volumev3', 'volume'], deps.region, 'create volume');
      const token = session.token;
      const opts = { token, signal: context.signal };
      const created = await call(context.fetch, 'create volume', `${base}/volumes`, { ...opts, method: 'POST', expect: [202], body: { volume: { size: deps.volumeSizeGb, name: probeName() } } });
      const id = (created.body as { volume?: { id?: string } }).volume?.id;
      if (!id) throw new CheckFailure(CHECK_ERROR_CODES.stepFailed, 'create volume', `the answer of POST ${base}/volumes has no volume.id`);
      let deleted = false;
      try {
        const read = async () => ((await call(context.fetch, 'wait for volume available', `${base}/volumes/${id}`, { ...opts, expect: [200] })).body as { volume: { status: string } }).volume.status;
        await waitFor(context, deps.pollIntervalMs, 'wait for volume available', read, (s) => s === 'available', (s) => (s.startsWith('error') ? `volume ${id} went to ${s}` : null));
        await call(context.fetch, 'delete volume', `${base}/volumes/${id}`, { ...opts, method: 'DELETE', expect: [202] });
        deleted = true;
        const gone = async () => (await call(context.fetch, 'wait for volume deleted', `${base}/volumes/${id}`, { ...opts, expect: [200, 404] })).status;
        await waitFor(context, deps.pollIntervalMs, 'wait for volume deleted', gone, (status) => status === 404, () => null);
      } finally {
        if (!deleted) await cleanup(context.fetch, `${base}/volumes/${id}`, token);
      }
    });
}

/** Nova: boot a server from the small flavor, wait until ACTIVE, delete it, wait until gone. */
export function serverCycle(deps: TransactionDeps): Transaction {
  return (context) =>
    withSession(deps.monitoring, context, async (session) => {
      const base = endpoint(session, ['compute'], deps.region, 'boot server');
      const setup = deps.setup;
      if (!setup) throw new CheckFailure(CHECK_ERROR_CODES.setupFailed, 'boot server', 'the monitoring project is not set up');
      const token = session.token;
      const opts = { token, signal: context.signal, headers: { 'openstack-api-version': `compute ${NOVA_NONE_NETWORKS_MICROVERSION}`, 'x-openstack-nova-api-version': NOVA_NONE_NETWORKS_MICROVERSION } };
      const body = { server: { name: probeName(), flavorRef: setup.flavorId, imageRef: setup.imageRef, networks: 'none' } };
      const created = await call(context.fetch, 'boot server', `${base}/servers`, { ...opts, method: 'POST', expect: [202], body });
      const id = (created.body as { server?: { id?: string } }).server?.id;
      if (!id) throw new CheckFailure(CHECK_ERROR_CODES.stepFailed, 'boot server', `the answer of POST ${base}/servers has no server.id`);
      let deleted = false;
      try {
        const read = async () => ((await call(context.fetch, 'wait for server ACTIVE', `${base}/servers/${id}`, { ...opts, expect: [200] })).body as { server: { status: string; fault?: { message?: string } } }).server;
        await waitFor(context, deps.pollIntervalMs, 'wait for server ACTIVE', read, (s) => s.status === 'ACTIVE', (s) => (s.status === 'ERROR' ? `server ${id} went to ERROR${s.fault?.message ? ` (${s.fault.message})` : ''}` : null));
        await call(context.fetch, 'delete server', `${base}/servers/${id}`, { ...opts, method: 'DELETE', expect: [204, 202] });
        deleted = true;
        const gone = async () => {
          const answer = await call(context.fetch, 'wait for server deleted', `${base}/servers/${id}`, { ...opts, expect: [200, 404] });
          return answer.status === 404 || (answer.body as { server?: { status?: string } }).server?.status === 'DELETED';
        };
        await waitFor(context, deps.pollIntervalMs, 'wait for server deleted', gone, (isGone) => isGone, () => null);
      } finally {
        if (!deleted) await cleanup(context.fetch, `${base}/servers/${id}`, token);
      }
    });
}

/** A plain GET of a catalog endpoint: anything below 500 means the API answered (401 and 404 included). */
export function endpointGet(deps: Pick<TransactionDeps, 'monitoring'>, target: CatalogEndpoint): Transaction {
  return (context) =>
    withSession(deps.monitoring, context, async (session) => {
      await call(context.fetch, `GET ${target.type} endpoint`, target.url, { token: session.token, expect: (status) => status < 500, signal: context.signal });
    });
}

interface DeploymentAnswer {
  deployment?: { hosts?: Array<{ name: string; role: string; state: string; processes: Array<{ name: string; state: string; down_reason: string | null }> }> };
}

/**
 * The deployment model's process health: one row per host (of `roles`) and process, ok
 * while the process runs (slowed counts as running: latency is the transactions' to see).
 */
export function processHealth(deps: Pick<TransactionDeps, 'admin'>, deploymentUrl: string, roles: readonly string[]): Transaction {
  return (context) =>
    withSession(deps.admin, context, async (session) => {
      const answer = await call(context.fetch, 'read deployment', `${deploymentUrl}/deployment`, { token: session.token, expect: [200], signal: context.signal });
      const hosts = (answer.body as DeploymentAnswer).deployment?.hosts;
      if (!Array.isArray(hosts)) throw new CheckFailure(CHECK_ERROR_CODES.stepFailed, 'read deployment', `GET ${deploymentUrl}/deployment: the answer has no deployment.hosts list`);
      const outcomes: CheckOutcome[] = [];
      for (const host of hosts.filter((h) => roles.includes(h.role))) {
        for (const p of host.processes) {
          const up = p.state === 'running' || p.state === 'slowed';
          outcomes.push({
            checkName: processCheckName(p.name),
            service: serviceOfProcess(p.name),
            host: host.name,
            ok: up,
            ...(up ? {} : { error: host.state === 'down' ? `host ${host.name} is down` : `${p.name} is ${p.state}${p.down_reason ? ` (${p.down_reason})` : ''}` }),
          });
        }
      }
      return outcomes;
    });
}

/** Best effort: a run that failed half-way must not keep the monitoring project's tight quota. */
async function cleanup(fetchImpl: typeof fetch, url: string, token: string): Promise<void> {
  try {
    await fetchImpl(url, { method: 'DELETE', headers: { 'x-auth-token': token }, signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) });
  } catch {
    // The next start removes leftovers by name (monitoring-project.ts).
  }
}
