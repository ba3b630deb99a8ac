import type { FastifyInstance } from 'fastify';
import type { Bus, Clock, Logger, Lifecycle, ProjectDirectory, StateDatabase, TokenVerifier } from '../core/index.ts';
import { migrateState } from '../core/index.ts';
import type { CloudConfig } from './config.ts';
import { KeystoneService } from './keystone/service.ts';
import { registerKeystoneRoutes } from './keystone/routes.ts';
import { Notifier } from './notifier.ts';
import { hostUuid } from './nova/hypervisors.ts';
import { NovaService } from './nova/service.ts';
import { registerNovaRoutes } from './nova/routes.ts';
import { CLOUD_MIGRATIONS } from './state.ts';
import { registerAuditMiddleware, type AuditObserver } from './audit/index.ts';
import { createGlance, type GlanceService } from './glance/index.ts';
import { createPlacement, type PlacementService } from './placement/index.ts';
import { createNeutron, type NeutronService } from './neutron/index.ts';
import { createHeat, ResourceInError, sleep, type HeatOptions, type HeatService, type ResourceCreator } from './heat/index.ts';
import { createCinder, type CinderService } from './cinder/index.ts';
import { createSwift, type SwiftService } from './swift/index.ts';
import { createHypervisorSimulator, DEFAULT_SEED, novaInventory, type HypervisorSimulator } from './hypervisor/index.ts';
import { badRequest } from './errors.ts';
import type { ComputeImages, ComputeNetworking, ComputeVolumes, ServerAddress } from './nova/service.ts';
import type { CloudServiceDeps, CloudServiceModule } from './service-module.ts';
import { createServiceLogWriter, registerAccessLog } from './logs/index.ts';
import { createDeployment, DEFAULT_CONTROLLERS, registerDeploymentRoutes, registerFaultGate, type Deployment } from './deployment/index.ts';

/** APIs behind the CADF audit filter and with an access log. */
const OBSERVED_APIS: readonly AuditObserver[] = [
  { prefix: '/compute', service: 'compute', name: 'nova', exchange: 'nova' },
  { prefix: '/image', service: 'image', name: 'glance', exchange: 'glance' },
  { prefix: '/placement', service: 'placement', name: 'placement', exchange: 'placement' },
  { prefix: '/network', service: 'network', name: 'neutron', exchange: 'neutron' },
  { prefix: '/heat-api', service: 'orchestration', name: 'heat', exchange: 'heat' },
  { prefix: '/volume', service: 'volume', name: 'cinder', exchange: 'cinder' },
];

export * from './config.ts';
export type { RequestContext } from './notifier.ts';
export { osloTimestamp } from './notifier.ts';

export interface CloudDeps {
  db: StateDatabase;
  bus: Bus;
  clock: Clock;
  logger: Logger;
}

export interface Cloud extends Lifecycle {
  /** Mounts every service's API on the one server, under its catalog prefix. */
  register(app: FastifyInstance): void;
  /** Verifies tokens in-process for the API stages (embedded mode). */
  readonly tokens: TokenVerifier;
  /** Keystone's projects per domain, in-process (domain statements). */
  readonly projects: ProjectDirectory;
  /** For the CLI and tests: identity administration without HTTP. */
  readonly keystone: KeystoneService;
  readonly nova: NovaService;
  readonly glance: GlanceService;
  readonly placement: PlacementService;
  readonly neutron: NeutronService;
  readonly heat: HeatService;
  readonly cinder: CinderService;
  /** Null when no object store directory is configured. */
  readonly swift: SwiftService | null;
  /** What libvirt would tell the pollsters about each host's guests. */
  readonly hypervisor: HypervisorSimulator;
  /** Experimental: the hosts and processes of the deployment, and fault injection on them. */
  readonly deployment: Deployment;
}

/** Nova's view of Cinder: attach and detach as nova-compute does (reserve, then attach). */
function novaVolumes(cinder: CinderService): ComputeVolumes {
  return {
    async attach(server, volumeId, device, context) {
      cinder.reserveForAttach(volumeId, server.project_id);
      try {
        await cinder.attach(volumeId, { serverId: server.id, host: server.host, device }, context);
      } catch (err) {
        cinder.unreserveForAttach(volumeId);
        throw err;
      }
    },
    async detach(server, volumeId, context) {
      await cinder.detach(volumeId, server.id, context);
    },
    attachments: (serverId) => cinder.volumesOfServer(serverId).map((v) => ({ volumeId: v.volumeId, device: v.device, attachmentId: v.attachmentId })),
  };
}

/** Heat's OS::Cinder::Volume, created through Cinder and tagged with the stack's metering metadata. */
function heatVolumes(cinder: CinderService): ResourceCreator {
  return {
    async create({ properties, physicalName, meteringMetadata }, context) {
      const own = typeof properties.metadata === 'object' && properties.metadata !== null ? (properties.metadata as Record<string, unknown>) : {};
      const volume = cinder.createVolume(
        {
          size: properties.size,
          name: properties.name ?? physicalName,
          description: properties.description,
          volumeType: properties.volume_type,
          availabilityZone: properties.availability_zone,
          imageRef: properties.image,
          snapshotId: properties.snapshot_id,
          sourceVolid: properties.source_volid,
          metadata: { ...own, ...meteringMetadata },
        },
        context,
      );
      return { id: volume.id, attributes: { size: volume.size, display_name: volume.name } };
    },
    async checkCreateComplete(id, context, signal) {
      for (;;) {
        const volume = cinder.get(id, context.isAdmin ? null : context.projectId);
        if (volume.status === 'available') return;
        if (volume.status === 'error') throw new ResourceInError('error', 'Unknown');
        await sleep(50, signal);
      }
    },
    async delete(id, context) {
      cinder.deleteVolume(id, context);
    },
  };
}

/** Nova's view of Neutron: ports for servers, and their addresses. */
/** Nova's copy of an image's metadata at boot (nova/utils.py get_system_metadata_from_image): values as text, properties included. */
function novaImages(glance: GlanceService): ComputeImages {
  return {
    imageMeta(imageId, projectId) {
      const image = glance.find(imageId, projectId);
      if (!image) return null;
      const meta: Record<string, string> = { min_ram: String(image.min_ram), min_disk: String(image.min_disk) };
      if (image.disk_format !== null) meta.disk_format = image.disk_format;
      if (image.container_format !== null) meta.container_format = image.container_format;
      for (const [key, value] of Object.entries(image.properties)) if (value !== null) meta[key] = value;
      return meta;
    },
  };
}

function novaNetworking(neutron: NeutronService): ComputeNetworking {
  return {
    checkNetwork(networkId, projectId) {
      try {
        neutron.findNetwork(networkId, projectId);
      } catch {
        throw badRequest(`Network ${networkId} could not be found.`);
      }
    },
    defaultNetwork(projectId) {
      try {
        return neutron.findNetwork('private', projectId).id;
      } catch {
        return null;
      }
    },
    async plug(serverId, projectId, host, networkIds, context) {
      for (const networkId of networkIds) await neutron.createPort({ networkId, projectId, deviceId: serverId, deviceOwner: 'compute:nova', hostId: host, context });
    },
    async unplug(serverId, context) {
      await neutron.deletePortsOfDevice(serverId, context);
    },
    addresses(serverId) {
      const result: Record<string, ServerAddress[]> = {};
      const floating = neutron.floatingIpsOfDevice(serverId);
      for (const port of neutron.portsOfDevice(serverId)) {
        const network = neutron.findNetwork(port.network_id, null).name;
        const list = (result[network] ??= []);
        for (const ip of port.fixed_ips) {
          list.push({ version: ip.ip_address.includes(':') ? 6 : 4, addr: ip.ip_address, type: 'fixed', mac: port.mac_address });
          for (const f of floating.filter((fip) => fip.port_id === port.id && fip.fixed_ip_address === ip.ip_address)) list.push({ version: 4, addr: f.floating_ip_address, type: 'floating', mac: port.mac_address });
        }
      }
      return result;
    },
  };
}

/**
 * The embedded OpenStack control plane. It knows nothing of telemetry: it serves the
 * services' APIs and emits what the real services emit on the bus.
 */
/** Per-service settings beyond CloudConfig, for tests and the composition (experimental). */
export interface CloudOverrides {
  heat?: Partial<HeatOptions>;
}

export function createCloud(config: CloudConfig, deps: CloudDeps, overrides: CloudOverrides = {}): Cloud {
  migrateState(deps.db, 'cloud', CLOUD_MIGRATIONS);
  const notifier = new Notifier(deps.bus, deps.clock);
  const keystone = new KeystoneService(deps.db, deps.clock, config.tokenTtlMs);
  // The first controller of the deployment model: the access lines' pids are then the model's.
  const controllerHost = config.controllerHost ?? DEFAULT_CONTROLLERS[0] ?? 'controller';
  const serviceDeps = (name: string): CloudServiceDeps => ({ db: deps.db, notifier, keystone, clock: deps.clock, logger: deps.logger.child({ service: name }), publicUrl: config.publicUrl, region: config.region });
  const placement = createPlacement(serviceDeps('placement'));
  const glance = createGlance(serviceDeps('glance'));
  const neutron = createNeutron(serviceDeps('neutron'), { host: controllerHost });
  const cinder = createCinder(serviceDeps('cinder'), { transitionDelayMs: config.buildDelayMs, backendHost: `${controllerHost}@lvmdriver-1`, apiHost: controllerHost, schedulerHost: controllerHost, backupHost: controllerHost });
  const swift = config.objectStoreDir ? createSwift(serviceDeps('swift'), { dataDir: config.objectStoreDir }) : null;
  const nova = new NovaService(deps.db, notifier, deps.clock, deps.logger.child({ service: 'nova' }), config.buildDelayMs, (id) => keystone.projectName(id), {
    candidateHosts: (resources) => placement.service.allocationCandidates(resources).allocationRequests.map((r) => placement.service.getProvider(r.anchorRootUuid).name),
    claim: (consumer, host, resources, projectId, userId) => placement.service.allocate(consumer, hostUuid(host), resources, projectId, userId),
    release: (consumer) => void placement.service.deallocate(consumer),
  }, novaNetworking(neutron.service), novaVolumes(cinder.service), novaImages(glance.service));
  const hypervisor = createHypervisorSimulator(serviceDeps('hypervisor'), {
    nova: novaInventory(nova, {
      lastStartedAt: (server) => (server as { last_started_at?: string | null }).last_started_at ?? null,
      portsOf: (serverId) => neutron.service.portsOfDevice(serverId).map((p) => ({ id: p.id, macAddress: p.mac_address })),
    }),
    seed: config.hypervisorSeed ?? DEFAULT_SEED,
  });
  const heat = createHeat(serviceDeps('heat'), { compute: nova, host: controllerHost, resourceTypes: { 'OS::Cinder::Volume': heatVolumes(cinder.service) }, ...overrides.heat });
  // Every service besides Keystone and Nova, in start order (stopped in reverse).
  const modules: CloudServiceModule[] = [placement, glance, neutron, cinder, ...(swift ? [swift] : []), hypervisor, heat];
  const serviceLogs = config.logDirectory
    ? createServiceLogWriter({ directory: config.logDirectory, apiHost: controllerHost }, { clock: deps.clock, logger: deps.logger.child({ component: 'cloud.logs' }) })
    : null;
  const deployment = createDeployment(
    { computeHosts: config.computeHosts.map((h) => h.name) },
    { db: deps.db, clock: deps.clock, notifier, logger: deps.logger.child({ component: 'cloud.deployment' }), logs: serviceLogs, computeHostState: (host, state) => nova.setHostState(host, state) },
  );
  return {
    tokens: keystone,
    projects: keystone,
    keystone,
    nova,
    glance: glance.service,
    placement: placement.service,
    neutron: neutron.service,
    heat: heat.service,
    cinder: cinder.service,
    swift: swift?.service ?? null,
    hypervisor: hypervisor.service,
    deployment,
    async start() {
      keystone.bootstrap(config.adminPassword);
      nova.seedHosts(config.computeHosts);
      // nova-compute's resource tracker: one provider per host, with its inventory, keyed by the host's UUID.
      for (const h of config.computeHosts) placement.service.ensureComputeNode({ name: h.name, uuid: hostUuid(h.name), vcpus: h.vcpus, memoryMb: h.memoryMb, diskGb: h.diskGb, aggregate: h.availabilityZone });
      for (const module of modules) await module.start?.();
      if (serviceLogs) await serviceLogs.start();
      // After the writer (it writes the boot lines) and Nova's hosts (it sets their state).
      await deployment.start();
    },
    register(app) {
      // First, so the hooks see every request under a prefix (401s and 404s included).
      registerAuditMiddleware(app, { notifier, keystone, clock: deps.clock, publicUrl: config.publicUrl, observers: OBSERVED_APIS, logger: deps.logger.child({ component: 'cloud.audit' }) });
      if (serviceLogs) registerAccessLog(app, serviceLogs, OBSERVED_APIS.map(({ prefix, name }) => ({ prefix, name })));
      // After the audit filter, so a 503 is audited; before the routes.
      registerFaultGate(app, deployment);
      registerDeploymentRoutes(app, deployment, keystone);
      registerKeystoneRoutes(app, keystone, config, { notifier, clock: deps.clock, publisherId: `identity.${controllerHost}`, logger: deps.logger.child({ component: 'cloud.keystone' }) });
      registerNovaRoutes(app, nova, keystone, config);
      // Swift's server-side COPY needs the method registered once on the server.
      if (swift && !app.supportedMethods.includes('COPY')) app.addHttpMethod('COPY', { hasBody: true });
      for (const module of modules) module.register(app);
    },
    async stop() {
      // Heat first: its stacks wait on Nova's builds (its second stop in the modules loop is a no-op).
      await heat.stop?.();
      await nova.stop();
      for (const module of [...modules].reverse()) await module.stop?.();
      // The simulated cloud keeps running across a platform restart: no stop lines here.
      await deployment.stop();
      if (serviceLogs) await serviceLogs.stop();
    },
  };
}
