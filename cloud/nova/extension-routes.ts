import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden, notFound } from '../errors.ts';
import type { RequestContext } from '../notifier.ts';
import { ServerActions } from './actions.ts';
import { listHypervisors, type Hypervisor } from './hypervisors.ts';
import { atLeast, type Microversion } from './microversion.ts';
import type { NovaService } from './service.ts';
import { tenantUsages } from './usage.ts';

interface Helpers {
  nova: NovaService;
  ctx(request: FastifyRequest): RequestContext;
  mv(request: FastifyRequest): Microversion;
  nowMs(): number;
  base: string;
}

/** A management address per host, stable across restarts (the host's row number). */
const hostIp = (hv: Hypervisor) => `10.0.0.${10 + hv.id}`;

const requireAdmin = (context: RequestContext, rule: string) => {
  if (!context.isAdmin) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
};

/** Parses the naive ISO timestamps novaclient sends (`2026-11-01T00:00:00.000000`) as UTC. */
function usageTime(value: string | undefined, fallback: Date, name: string): Date {
  if (value === undefined || value === '') return fallback;
  const text = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw badRequest(`Invalid ${name} time. The time format should be YYYY-MM-DDTHH:MM:SS.ffffff`);
  return date;
}

/** Nova's API beyond flavors and servers: extra specs, actions, hypervisors, AZs, keypairs, quotas, usage. */
export function registerNovaExtensionRoutes(v21: FastifyInstance, h: Helpers): void {
  const actions = new ServerActions(h.nova);

  v21.get('/flavors/:id/os-extra_specs', async (request) => ({ extra_specs: h.nova.getFlavor((request.params as { id: string }).id).extra_specs }));
  v21.post('/flavors/:id/os-extra_specs', async (request) => {
    requireAdmin(h.ctx(request), 'os_compute_api:os-flavor-extra-specs:create');
    const specs = (request.body as { extra_specs?: Record<string, string> } | undefined)?.extra_specs;
    if (!specs || typeof specs !== 'object') throw badRequest("Invalid input for field/attribute extra_specs. 'extra_specs' is a required property");
    return { extra_specs: h.nova.setExtraSpecs((request.params as { id: string }).id, specs) };
  });
  v21.get('/flavors/:id/os-extra_specs/:key', async (request) => {
    const { id, key } = request.params as { id: string; key: string };
    const specs = h.nova.getFlavor(id).extra_specs;
    if (!(key in specs)) throw notFound(`Flavor ${id} has no extra specs with key ${key}.`);
    return { [key]: specs[key] };
  });
  v21.put('/flavors/:id/os-extra_specs/:key', async (request) => {
    requireAdmin(h.ctx(request), 'os_compute_api:os-flavor-extra-specs:update');
    const { id, key } = request.params as { id: string; key: string };
    const body = (request.body ?? {}) as Record<string, string>;
    if (Object.keys(body).length !== 1 || !(key in body)) throw badRequest('Request body and URI mismatch');
    h.nova.setExtraSpecs(id, body);
    return { [key]: String(body[key]) };
  });
  v21.delete('/flavors/:id/os-extra_specs/:key', async (request, reply) => {
    requireAdmin(h.ctx(request), 'os_compute_api:os-flavor-extra-specs:delete');
    const { id, key } = request.params as { id: string; key: string };
    h.nova.deleteExtraSpec(id, key);
    return reply.code(200).send();
  });

  v21.post('/servers/:id/action', async (request, reply) => {
    const body = request.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Object.keys(body).length !== 1) throw badRequest('Malformed request body: exactly one action is expected.');
    await actions.run((request.params as { id: string }).id, body, h.ctx(request));
    return reply.code(202).send();
  });

  const attachmentView = (serverId: string, a: { volumeId: string; device: string | null; attachmentId: string }, v: Microversion) => ({
    id: a.volumeId,
    serverId,
    volumeId: a.volumeId,
    device: a.device,
    ...(atLeast(v, 70) ? { tag: null } : {}),
    ...(atLeast(v, 79) ? { delete_on_termination: false } : {}),
    ...(atLeast(v, 89) ? { attachment_id: a.attachmentId } : {}),
  });
  const scopedServer = (request: FastifyRequest) => {
    const context = h.ctx(request);
    return h.nova.getServer((request.params as { id: string }).id, context.isAdmin ? null : context.projectId);
  };
  v21.get('/servers/:id/os-volume_attachments', async (request) => {
    const server = scopedServer(request);
    return { volumeAttachments: h.nova.volumeAttachments(server.id).map((a) => attachmentView(server.id, a, h.mv(request))) };
  });
  v21.get('/servers/:id/os-volume_attachments/:volumeId', async (request) => {
    const server = scopedServer(request);
    const { volumeId } = request.params as { volumeId: string };
    const found = h.nova.volumeAttachments(server.id).find((a) => a.volumeId === volumeId);
    if (!found) throw notFound(`Volume ${volumeId} is not attached to ${server.id}`);
    return { volumeAttachment: attachmentView(server.id, found, h.mv(request)) };
  });
  v21.post('/servers/:id/os-volume_attachments', async (request) => {
    const server = scopedServer(request);
    const input = (request.body as { volumeAttachment?: { volumeId?: unknown; device?: unknown } } | undefined)?.volumeAttachment;
    if (!input || typeof input.volumeId !== 'string') throw badRequest("Invalid input for field/attribute volumeAttachment. 'volumeId' is a required property");
    const { device } = await h.nova.attachVolume(server.id, input.volumeId, typeof input.device === 'string' && input.device !== '' ? input.device : null, h.ctx(request));
    const attachment = h.nova.volumeAttachments(server.id).find((a) => a.volumeId === input.volumeId) ?? { volumeId: input.volumeId, device, attachmentId: '' };
    return { volumeAttachment: attachmentView(server.id, attachment, h.mv(request)) };
  });
  v21.delete('/servers/:id/os-volume_attachments/:volumeId', async (request, reply) => {
    const server = scopedServer(request);
    await h.nova.detachVolume(server.id, (request.params as { volumeId: string }).volumeId, h.ctx(request));
    return reply.code(202).send();
  });

  const hypervisorView = (hv: Hypervisor, v: Microversion, detailed: boolean) => {
    const id = atLeast(v, 53) ? hv.uuid : hv.id;
    const summary = { id, hypervisor_hostname: hv.hypervisor_hostname, state: hv.state, status: hv.status };
    if (!detailed) return summary;
    const service = { host: hv.host, id: atLeast(v, 53) ? hv.uuid : hv.id, disabled_reason: null };
    if (atLeast(v, 88)) return { ...summary, host_ip: hostIp(hv), hypervisor_type: 'QEMU', hypervisor_version: 8002000, service };
    return {
      ...summary,
      host_ip: hostIp(hv),
      hypervisor_type: 'QEMU',
      hypervisor_version: 8002000,
      vcpus: hv.vcpus,
      memory_mb: hv.memory_mb,
      local_gb: hv.local_gb,
      vcpus_used: hv.vcpus_used,
      memory_mb_used: hv.memory_mb_used,
      local_gb_used: hv.local_gb_used,
      free_ram_mb: hv.memory_mb - hv.memory_mb_used,
      free_disk_gb: hv.local_gb - hv.local_gb_used,
      current_workload: 0,
      running_vms: hv.running_vms,
      disk_available_least: hv.local_gb - hv.local_gb_used,
      cpu_info: JSON.stringify({ arch: 'x86_64', model: 'Cascadelake-Server', vendor: 'Intel', topology: { cells: 2, sockets: 1, cores: hv.vcpus / 4, threads: 2 }, features: [] }),
      service,
    };
  };
  v21.get('/os-hypervisors', async (request) => {
    requireAdmin(h.ctx(request), 'os_compute_api:os-hypervisors:list');
    return { hypervisors: listHypervisors(h.nova.database).map((hv) => hypervisorView(hv, h.mv(request), false)) };
  });
  v21.get('/os-hypervisors/detail', async (request) => {
    requireAdmin(h.ctx(request), 'os_compute_api:os-hypervisors:list-detail');
    return { hypervisors: listHypervisors(h.nova.database).map((hv) => hypervisorView(hv, h.mv(request), true)) };
  });
  v21.get('/os-hypervisors/statistics', async (request) => {
    requireAdmin(h.ctx(request), 'os_compute_api:os-hypervisors:statistics');
    const all = listHypervisors(h.nova.database);
    const sum = (pick: (hv: Hypervisor) => number) => all.reduce((total, hv) => total + pick(hv), 0);
    return {
      hypervisor_statistics: {
        count: all.length,
        vcpus: sum((hv) => hv.vcpus),
        memory_mb: sum((hv) => hv.memory_mb),
        local_gb: sum((hv) => hv.local_gb),
        vcpus_used: sum((hv) => hv.vcpus_used),
        memory_mb_used: sum((hv) => hv.memory_mb_used),
        local_gb_used: sum((hv) => hv.local_gb_used),
        free_ram_mb: sum((hv) => hv.memory_mb - hv.memory_mb_used),
        free_disk_gb: sum((hv) => hv.local_gb - hv.local_gb_used),
        current_workload: 0,
        running_vms: sum((hv) => hv.running_vms),
        disk_available_least: sum((hv) => hv.local_gb - hv.local_gb_used),
      },
    };
  });
  v21.get('/os-hypervisors/:id', async (request) => {
    requireAdmin(h.ctx(request), 'os_compute_api:os-hypervisors:show');
    const { id } = request.params as { id: string };
    const found = listHypervisors(h.nova.database).find((hv) => String(hv.id) === id || hv.uuid === id || hv.hypervisor_hostname === id);
    if (!found) throw notFound(`Hypervisor with ID ${id} could not be found.`);
    return { hypervisor: hypervisorView(found, h.mv(request), true) };
  });

  v21.get('/os-availability-zone', async () => {
    const zones = [...new Set(listHypervisors(h.nova.database).map((hv) => hv.availability_zone))];
    return { availabilityZoneInfo: zones.map((zoneName) => ({ zoneName, zoneState: { available: true }, hosts: null })) };
  });
  v21.get('/os-availability-zone/detail', async (request) => {
    requireAdmin(h.ctx(request), 'os_compute_api:os-availability-zone:detail');
    const byZone = new Map<string, Record<string, unknown>>();
    for (const hv of listHypervisors(h.nova.database)) {
      const hosts = byZone.get(hv.availability_zone) ?? {};
      hosts[hv.host] = { 'nova-compute': { available: hv.state === 'up', active: hv.status === 'enabled', updated_at: new Date(h.nowMs()).toISOString().replace('Z', '') } };
      byZone.set(hv.availability_zone, hosts);
    }
    return { availabilityZoneInfo: [...byZone.entries()].map(([zoneName, hosts]) => ({ zoneName, zoneState: { available: true }, hosts })) };
  });

  v21.get('/os-keypairs', async (request) => {
    const context = h.ctx(request);
    return { keypairs: h.nova.keypairs.list(context.userId as string).map((k) => ({ keypair: { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint, ...(atLeast(h.mv(request), 2) ? { type: k.type } : {}) } })) };
  });
  v21.get('/os-keypairs/:name', async (request) => {
    const k = h.nova.keypairs.get(h.ctx(request).userId as string, (request.params as { name: string }).name);
    return { keypair: { ...k, id: 1, deleted: false, updated_at: null, deleted_at: null } };
  });
  v21.post('/os-keypairs', async (request, reply) => {
    const input = (request.body as { keypair?: { name?: string; public_key?: string; type?: string } } | undefined)?.keypair;
    if (!input?.name) throw badRequest("Invalid input for field/attribute keypair. 'name' is a required property");
    if (!input.public_key && atLeast(h.mv(request), 92)) throw badRequest("Invalid input for field/attribute keypair. 'public_key' is a required property");
    const created = h.nova.keypairs.create(h.ctx(request).userId as string, { name: input.name, public_key: input.public_key, type: input.type });
    return reply.code(atLeast(h.mv(request), 2) ? 201 : 200).send({ keypair: created });
  });
  v21.delete('/os-keypairs/:name', async (request, reply) => {
    h.nova.keypairs.delete(h.ctx(request).userId as string, (request.params as { name: string }).name);
    return reply.code(atLeast(h.mv(request), 2) ? 204 : 202).send();
  });

  const quotaSet = (projectId: string, detail: boolean) => {
    const limits = h.nova.quotas.limits(projectId);
    const used = h.nova.quotas.usage(projectId) as Record<string, number>;
    const entries = Object.entries(limits).map(([k, limit]) => [k, detail ? { limit, in_use: used[k] ?? 0, reserved: 0 } : limit]);
    return { quota_set: { id: projectId, ...Object.fromEntries(entries) } };
  };
  const quotaProject = (request: FastifyRequest) => {
    const { projectId } = request.params as { projectId: string };
    const context = h.ctx(request);
    if (!context.isAdmin && context.projectId !== projectId) throw forbidden("Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.");
    return projectId;
  };
  v21.get('/os-quota-sets/:projectId', async (request) => quotaSet(quotaProject(request), false));
  v21.get('/os-quota-sets/:projectId/detail', async (request) => quotaSet(quotaProject(request), true));
  v21.get('/os-quota-sets/:projectId/defaults', async (request) => quotaSet(`${quotaProject(request)}-defaults`, false));
  v21.put('/os-quota-sets/:projectId', async (request) => {
    requireAdmin(h.ctx(request), 'os_compute_api:os-quota-sets:update');
    const { projectId } = request.params as { projectId: string };
    const values = (request.body as { quota_set?: Record<string, unknown> } | undefined)?.quota_set ?? {};
    const numeric: Record<string, number> = {};
    for (const [k, v] of Object.entries(values)) {
      if (k === 'force') continue;
      const n = Number(v);
      if (!Number.isInteger(n) || n < -1) throw badRequest(`Invalid input for field/attribute ${k}. Value: ${String(v)}. It must be an integer >= -1`);
      numeric[k] = n;
    }
    h.nova.quotas.set(projectId, numeric);
    return quotaSet(projectId, false);
  });
  v21.get('/limits', async (request) => {
    const context = h.ctx(request);
    const projectId = (request.query as Record<string, string>).tenant_id ?? context.projectId ?? '';
    const limits = h.nova.quotas.limits(projectId);
    const used = h.nova.quotas.usage(projectId);
    return {
      limits: {
        rate: [],
        absolute: {
          maxTotalInstances: limits.instances,
          maxTotalCores: limits.cores,
          maxTotalRAMSize: limits.ram,
          maxTotalKeypairs: limits.key_pairs,
          maxServerMeta: limits.metadata_items,
          maxServerGroups: limits.server_groups,
          maxServerGroupMembers: limits.server_group_members,
          totalInstancesUsed: used.instances,
          totalCoresUsed: used.cores,
          totalRAMUsed: used.ram,
          totalServerGroupsUsed: 0,
        },
      },
    };
  });

  const usage = (request: FastifyRequest, projectId?: string) => {
    const query = request.query as Record<string, string | undefined>;
    const now = new Date(h.nowMs());
    const end = usageTime(query.end, now, 'end');
    const start = usageTime(query.start, new Date(end.getTime() - 24 * 3_600_000), 'start');
    if (start >= end) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
    return tenantUsages(h.nova.database, { start, end, nowMs: h.nowMs(), projectId, detailed: query.detailed === '1' || projectId !== undefined });
  };
  v21.get('/os-simple-tenant-usage', async (request) => {
    requireAdmin(h.ctx(request), 'os_compute_api:os-simple-tenant-usage:list');
    return { tenant_usages: usage(request) };
  });
  v21.get('/os-simple-tenant-usage/:projectId', async (request) => {
    const { projectId } = request.params as { projectId: string };
    const context = h.ctx(request);
    if (!context.isAdmin && context.projectId !== projectId) throw forbidden("Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.");
    return { tenant_usage: usage(request, projectId)[0] ?? {} };
  });
}
