import { CumulusError, type Logger } from '../../core/index.ts';
import type { ApiClient, ApiRequest, ApiResponse } from './api-client.ts';
import { SIM_FLAVORS, SIM_IMAGES, type SimulatorConfig } from './config.ts';
import { demand, growth } from './load-model.ts';
import { SeededRandom } from './random.ts';

export interface SimulatorDeps {
  api: ApiClient;
  /** Moves the platform's clock (a WarpClock) to a simulated time. */
  setTime(ms: number): void;
  /** Waits until everything emitted so far went through the pipeline (called every simulated hour). */
  settle(): Promise<void>;
  /** The platform's hourly periodic tasks for [start, end): nova's usage audit, ... */
  everyHour?(start: Date, end: Date): Promise<void>;
  onProgress?(done: number, total: number): void;
  logger: Logger;
  adminPassword: string;
}

interface SimServer {
  id: string;
  flavor: string;
  /** Part of the tenant's steady base (kept) or of the elastic part (follows demand). */
  steady: boolean;
  resizedTo?: string;
}

interface Tenant {
  name: string;
  projectId: string;
  password: string;
  token: string;
  tokenUntil: number;
  baseServers: number;
  steadyShare: number;
  flavorWeights: Array<readonly [string, number]>;
  servers: SimServer[];
  serial: number;
}

export interface SimulationSummary {
  steps: number;
  serversCreated: number;
  serversDeleted: number;
  resizes: number;
  failedLogins: number;
  /** Creates and resizes refused by a project quota (part of the story, not a failure). */
  quotaRefusals: number;
  apiErrors: number;
}

const HOUR_MS = 3_600_000;
const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

class SimulationError extends CumulusError {
  constructor(message: string) {
    super('CUMULUS_SIMULATOR_API_FAILED', message, { httpStatus: 500 });
  }
}

/**
 * Plays seeded tenants against the control plane's public APIs: servers created and
 * deleted with diurnal and weekly demand and monthly growth, resizes, failed logins and
 * one brute-force burst, while the clock is warped forward step by step so months of
 * history flow through the whole pipeline in minutes.
 */
export class TenantSimulator {
  private readonly random: SeededRandom;
  private readonly tenants: Tenant[] = [];
  private adminToken = '';
  private adminTokenUntil = 0;
  private readonly summary: SimulationSummary = { steps: 0, serversCreated: 0, serversDeleted: 0, resizes: 0, failedLogins: 0, quotaRefusals: 0, apiErrors: 0 };

  constructor(
    private readonly config: SimulatorConfig,
    private readonly deps: SimulatorDeps,
  ) {
    this.random = new SeededRandom(config.seed);
  }

  private async call(request: ApiRequest, expected: readonly number[]): Promise<ApiResponse> {
    const response = await this.deps.api.request(request);
    if (!expected.includes(response.status)) {
      this.summary.apiErrors++;
      throw new SimulationError(`${request.method} ${request.path} answered ${response.status} (expected ${expected.join('/')}): ${JSON.stringify(response.body).slice(0, 300)}`);
    }
    return response;
  }

  private async login(user: string, password: string, project: string, remoteAddress = '198.51.100.10'): Promise<ApiResponse> {
    return this.deps.api.request({
      method: 'POST',
      path: '/identity/v3/auth/tokens',
      remoteAddress,
      body: { auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } }, scope: { project: { name: project, domain: { id: 'default' } } } } },
    });
  }

  private async token(nowMs: number, tenant?: Tenant): Promise<string> {
    if (!tenant) {
      if (this.adminTokenUntil - TOKEN_REFRESH_MARGIN_MS > nowMs) return this.adminToken;
      const res = await this.login('admin', this.deps.adminPassword, 'admin');
      if (res.status !== 201) throw new SimulationError(`admin login failed with ${res.status}; is the admin password right?`);
      this.adminToken = String(res.headers['x-subject-token']);
      this.adminTokenUntil = Date.parse((res.body as { token: { expires_at: string } }).token.expires_at);
      return this.adminToken;
    }
    if (tenant.tokenUntil - TOKEN_REFRESH_MARGIN_MS > nowMs) return tenant.token;
    const res = await this.login(tenant.name, tenant.password, `${tenant.name}-project`);
    if (res.status !== 201) throw new SimulationError(`login of ${tenant.name} failed with ${res.status}`);
    tenant.token = String(res.headers['x-subject-token']);
    tenant.tokenUntil = Date.parse((res.body as { token: { expires_at: string } }).token.expires_at);
    return tenant.token;
  }

  /** Flavors, images and tenants, created through the APIs when missing (a re-run finds them). */
  private async bootstrap(nowMs: number): Promise<void> {
    const admin = await this.token(nowMs);
    const flavors = (await this.call({ method: 'GET', path: '/compute/v2.1/flavors', token: admin }, [200])).body as { flavors: Array<{ name: string }> };
    for (const flavor of SIM_FLAVORS) {
      if (flavors.flavors.some((f) => f.name === flavor.name)) continue;
      await this.call({ method: 'POST', path: '/compute/v2.1/flavors', token: admin, body: { flavor: { ...flavor, id: flavor.name } } }, [200]);
    }
    const images = (await this.call({ method: 'GET', path: '/image/v2/images?limit=1000', token: admin }, [200])).body as { images: Array<{ name: string }> };
    for (const image of SIM_IMAGES) {
      if (images.images.some((i) => i.name === image.name)) continue;
      const created = (await this.call({ method: 'POST', path: '/image/v2/images', token: admin, body: { name: image.name, disk_format: 'qcow2', container_format: 'bare', visibility: 'public', os_distro: image.os_distro } }, [201])).body as { id: string };
      await this.call({ method: 'PUT', path: `/image/v2/images/${created.id}/file`, token: admin, data: Buffer.alloc(64 * 1024, image.name.length) }, [204]);
    }
    const projects = ((await this.call({ method: 'GET', path: '/identity/v3/projects', token: admin }, [200])).body as { projects: Array<{ id: string; name: string }> }).projects;
    const roles = ((await this.call({ method: 'GET', path: '/identity/v3/roles', token: admin }, [200])).body as { roles: Array<{ id: string; name: string }> }).roles;
    const member = roles.find((r) => r.name === 'member') as { id: string };
    for (let i = 0; i < this.config.tenants; i++) {
      const name = `tenant${String(i + 1).padStart(2, '0')}`;
      const password = `${name}-sim-${this.config.seed}`;
      let project = projects.find((p) => p.name === `${name}-project`);
      if (!project) {
        project = ((await this.call({ method: 'POST', path: '/identity/v3/projects', token: admin, body: { project: { name: `${name}-project`, description: `Simulated tenant ${i + 1}` } } }, [201])).body as { project: { id: string; name: string } }).project;
        const user = ((await this.call({ method: 'POST', path: '/identity/v3/users', token: admin, body: { user: { name, password, default_project_id: project.id } } }, [201])).body as { user: { id: string } }).user;
        await this.call({ method: 'PUT', path: `/identity/v3/projects/${project.id}/users/${user.id}/roles/${member.id}`, token: admin }, [204]);
        // Room for growth, as an operator raises the defaults (10 instances, 20 cores) for real tenants.
        await this.call({ method: 'PUT', path: `/compute/v2.1/os-quota-sets/${project.id}`, token: admin, body: { quota_set: { instances: 100, cores: 400, ram: 800_000 } } }, [200]);
      }
      const small = this.random.next();
      this.tenants.push({
        name,
        projectId: project.id,
        password,
        token: '',
        tokenUntil: 0,
        baseServers: this.random.int(2, 10),
        steadyShare: 0.4 + this.random.next() * 0.4,
        flavorWeights: [
          ['m1.tiny', 1 + small * 2],
          ['m1.small', 4],
          ['m1.medium', 3],
          ['m1.large', 1.5],
          ['m1.xlarge', 0.5],
        ],
        servers: [],
        serial: 0,
      });
    }
  }

  private async createServer(tenant: Tenant, nowMs: number, steady: boolean): Promise<void> {
    const flavor = this.random.weighted(tenant.flavorWeights);
    const image = this.random.weighted(SIM_IMAGES.map((i) => [i.name, i.weight] as const));
    const imageId = await this.imageId(image, nowMs);
    tenant.serial++;
    const res = await this.deps.api.request({
      method: 'POST',
      path: '/compute/v2.1/servers',
      token: await this.token(nowMs, tenant),
      body: { server: { name: `${tenant.name}-vm-${tenant.serial}`, flavorRef: flavor, imageRef: imageId, metadata: { tier: steady ? 'steady' : 'elastic' } } },
    });
    if (res.status === 202) {
      tenant.servers.push({ id: (res.body as { server: { id: string } }).server.id, flavor, steady });
      this.summary.serversCreated++;
    } else if (res.status === 403) {
      // A quota refusal is part of the story: counted, not fatal.
      this.summary.quotaRefusals++;
    } else {
      this.summary.apiErrors++;
      this.deps.logger.debug({ status: res.status, tenant: tenant.name }, 'simulated server create refused');
    }
  }

  private readonly imageIds = new Map<string, string>();

  private async imageId(name: string, nowMs: number): Promise<string> {
    const known = this.imageIds.get(name);
    if (known) return known;
    const res = await this.call({ method: 'GET', path: `/image/v2/images?name=${encodeURIComponent(name)}`, token: await this.token(nowMs) }, [200]);
    const id = (res.body as { images: Array<{ id: string }> }).images[0]?.id;
    if (!id) throw new SimulationError(`image ${name} is missing`);
    this.imageIds.set(name, id);
    return id;
  }

  private async deleteServer(tenant: Tenant, server: SimServer, nowMs: number): Promise<void> {
    const res = await this.deps.api.request({ method: 'DELETE', path: `/compute/v2.1/servers/${server.id}`, token: await this.token(nowMs, tenant) });
    tenant.servers = tenant.servers.filter((s) => s !== server);
    if (res.status === 204 || res.status === 404) this.summary.serversDeleted++;
    else this.summary.apiErrors++;
  }

  private async stepTenant(tenant: Tenant, nowMs: number, startMs: number): Promise<void> {
    // The steady part only grows month on month; the elastic part also follows the day and week.
    const steadyTarget = Math.round(tenant.baseServers * tenant.steadyShare * growth(this.config.load, nowMs, startMs));
    const elasticTarget = Math.round(tenant.baseServers * (1 - tenant.steadyShare) * demand(this.config.load, nowMs, startMs));
    const steady = tenant.servers.filter((s) => s.steady);
    const elastic = tenant.servers.filter((s) => !s.steady);
    for (let n = steady.length; n < steadyTarget; n++) await this.createServer(tenant, nowMs, true);
    for (let n = elastic.length; n < elasticTarget; n++) await this.createServer(tenant, nowMs, false);
    for (const server of elastic.slice(0, Math.max(0, elastic.length - elasticTarget))) await this.deleteServer(tenant, server, nowMs);

    // A pending resize is confirmed a step later, as an operator checks the result first.
    for (const server of tenant.servers.filter((s) => s.resizedTo)) {
      await this.deps.api.request({ method: 'POST', path: `/compute/v2.1/servers/${server.id}/action`, token: await this.token(nowMs, tenant), body: { confirmResize: null } });
      server.flavor = server.resizedTo as string;
      delete server.resizedTo;
    }
    if (tenant.servers.length > 0 && this.random.chance(this.config.resizeChancePerStep)) {
      const server = tenant.servers[this.random.int(0, tenant.servers.length - 1)] as SimServer;
      const bigger = SIM_FLAVORS[Math.min(SIM_FLAVORS.findIndex((f) => f.name === server.flavor) + 1, SIM_FLAVORS.length - 1)]?.name ?? server.flavor;
      if (bigger !== server.flavor) {
        const res = await this.deps.api.request({ method: 'POST', path: `/compute/v2.1/servers/${server.id}/action`, token: await this.token(nowMs, tenant), body: { resize: { flavorRef: bigger } } });
        if (res.status === 202) {
          server.resizedTo = bigger;
          this.summary.resizes++;
        }
      }
    }
  }

  private async failedLogins(count: number, address: () => string, user: () => string): Promise<void> {
    for (let i = 0; i < count; i++) {
      const res = await this.login(user(), 'not-the-password', 'admin', address());
      if (res.status === 401) this.summary.failedLogins++;
    }
  }

  /**
   * Keeps playing in real time after a warp (or from the start): one step every
   * `intervalMs` until `running()` turns false. Demand keeps its curves; growth counts
   * from `originMs`.
   */
  async live(originMs: number, intervalMs: number, running: () => boolean, nowMs: () => number): Promise<void> {
    if (this.tenants.length === 0) await this.bootstrap(nowMs());
    while (running()) {
      const now = nowMs();
      for (const tenant of this.tenants) await this.stepTenant(tenant, now, originMs);
      const typos = this.random.poisson(this.config.failedLoginsPerStep);
      if (typos > 0) await this.failedLogins(typos, () => `198.51.100.${this.random.int(20, 250)}`, () => (this.tenants[this.random.int(0, this.tenants.length - 1)] as Tenant).name);
      this.summary.steps++;
      const until = Date.now() + intervalMs;
      while (running() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, Math.min(500, until - Date.now())));
    }
  }

  /** Runs from `startMs` to `endMs` (simulated), one step at a time. */
  async run(startMs: number, endMs: number): Promise<SimulationSummary> {
    this.deps.setTime(startMs);
    await this.bootstrap(startMs);
    const steps = Math.max(1, Math.ceil((endMs - startMs) / this.config.stepMs));
    const burstStep = this.config.bruteForceAttempts > 0 ? this.random.int(0, steps - 1) : -1;
    let hourStart = Math.floor(startMs / HOUR_MS) * HOUR_MS;
    for (let step = 0; step < steps; step++) {
      const nowMs = Math.min(startMs + step * this.config.stepMs, endMs);
      this.deps.setTime(nowMs);
      for (const tenant of this.tenants) await this.stepTenant(tenant, nowMs, startMs);
      const typos = this.random.poisson(this.config.failedLoginsPerStep);
      if (typos > 0) {
        await this.failedLogins(
          typos,
          () => `198.51.100.${this.random.int(20, 250)}`,
          () => (this.tenants[this.random.int(0, this.tenants.length - 1)] as Tenant).name,
        );
      }
      if (step === burstStep) await this.failedLogins(this.config.bruteForceAttempts, () => '203.0.113.66', () => 'admin');
      if (nowMs - hourStart >= HOUR_MS || step === steps - 1) {
        const hourEnd = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
        if (hourEnd > hourStart) await this.deps.everyHour?.(new Date(hourStart), new Date(hourEnd));
        hourStart = hourEnd;
        await this.deps.settle();
      }
      this.summary.steps = step + 1;
      this.deps.onProgress?.(step + 1, steps);
    }
    await this.deps.settle();
    return { ...this.summary };
  }
}
