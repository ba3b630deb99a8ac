import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CumulusError } from '../../core/index.ts';
import { keystoneErrorBody } from '../errors.ts';
import type { KeystoneService } from '../keystone/service.ts';
import type { RequestContext } from '../notifier.ts';
import { contextFromRequest } from '../request-context.ts';
import type { AllocationRequest, CandidateRequest, ProviderNode, RequestGroup } from './candidates.ts';
import { capacityOf } from './candidates.ts';
import { MAX_MICROVERSION, MIN_MICROVERSION } from './config.ts';
import { PLACEMENT_CODE, PlacementError, badRequest, forbidden, notFound } from './errors.ts';
import { MicroversionError, atLeast, negotiate, type Microversion } from './microversion.ts';
import {
  allOf,
  checkQueryKeys,
  lastOf,
  normalizeUuid,
  parseInTree,
  parseMemberOfParams,
  parseResources,
  parseTraitParams,
  parseTraits,
  type Query,
} from './query-params.ts';
import * as schemas from './request-schemas.ts';
import { violation, type Schema } from './schema.ts';
import { INVENTORY_DEFAULTS, type AllocationWrite, type Inventory, type PlacementService, type ResourceProvider } from './service.ts';

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';
const METHODS: readonly Method[] = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'];

/** What every handler gets: the request, its negotiated microversion and the caller. */
interface Call {
  request: FastifyRequest;
  reply: FastifyReply;
  version: Microversion;
  context: RequestContext | null;
  params: Record<string, string>;
  query: Query;
}

type Handler = (call: Call) => unknown;

interface RequestState {
  version?: Microversion;
  context?: RequestContext;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
};

/** webob's explanations, after its strip_tags (line breaks become spaces). */
const EXPLANATIONS: Record<number, string> = {
  400: 'The server could not comply with the request since it is either malformed or otherwise incorrect. ',
  403: 'Access was denied to this resource.',
  404: 'The resource could not be found.',
  409: 'There was a conflict when trying to complete your request.',
  500: 'The server has either erred or is incapable of performing the requested operation. ',
};

/** The `detail` Placement's json_error_formatter receives: webob's page body with tags stripped. */
function errorDetail(status: number, message: string, request: FastifyRequest): string {
  switch (status) {
    case 405:
      return `The method ${request.method} is not allowed for this resource. \n\n ${message}`;
    case 406:
      return `The resource could not be generated that was acceptable to your browser (content of type ${request.headers.accept ?? '${HTTP_ACCEPT}'}. \n\n ${message}`;
    case 415:
      return `The request media type ${mediaType(request) || 'None'} is not supported by this server. \n\n ${message}`;
    default:
      return `${EXPLANATIONS[status] ?? ''}\n\n ${message}  `;
  }
}

const mediaType = (request: FastifyRequest): string => (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

/** A status without a message of its own (webob raised bare). */
const bare = (status: number) => new PlacementError(status === 405 ? 'CUMULUS_CLOUD_METHOD_NOT_ALLOWED' : 'CUMULUS_PLACEMENT_NOT_FOUND', status, '');

/**
 * OpenStack Placement under /placement (admin API, as Placement's default policy): every
 * route of placement/handler.py with its microversion rules, Placement's error body
 * (`{"errors": [{status, title, detail, code, request_id}]}`), and 405 with Allow for a
 * known path asked with another method.
 */
export function registerPlacementRoutes(app: FastifyInstance, placement: PlacementService, keystone: KeystoneService, settings: { publicUrl: string }): void {
  const mount = '/placement';
  const absolute = `${settings.publicUrl.replace(/\/+$/, '')}${mount}`;
  const state = new WeakMap<FastifyRequest, RequestState>();

  const providerUrl = (uuid: string) => `${mount}/resource_providers/${uuid}`;
  const providerView = (rp: ResourceProvider, v: Microversion) => {
    const self = providerUrl(rp.uuid);
    const rels = ['inventories', 'usages', ...(atLeast(v, 1) ? ['aggregates'] : []), ...(atLeast(v, 6) ? ['traits'] : []), ...(atLeast(v, 11) ? ['allocations'] : [])];
    return {
      uuid: rp.uuid,
      name: rp.name,
      generation: rp.generation,
      links: [{ rel: 'self', href: self }, ...rels.map((rel) => ({ rel, href: `${self}/${rel}` }))],
      ...(atLeast(v, 14) ? { parent_provider_uuid: rp.parent_provider_uuid, root_provider_uuid: rp.root_provider_uuid } : {}),
    };
  };
  const inventoryView = (inv: Inventory, generation?: number) => ({
    total: inv.total,
    reserved: inv.reserved,
    min_unit: inv.min_unit,
    max_unit: inv.max_unit,
    step_size: inv.step_size,
    allocation_ratio: inv.allocation_ratio,
    // Placement omits a falsy generation here (`if generation:`).
    ...(generation ? { resource_provider_generation: generation } : {}),
  });
  const resourceClassView = (name: string) => ({ name, links: [{ rel: 'self', href: `${mount}/resource_classes/${name}` }] });

  /** From 1.15 Placement marks responses uncacheable and dates them. */
  const fresh = (call: Call) => {
    if (atLeast(call.version, 15)) {
      call.reply.header('cache-control', 'no-cache');
      call.reply.header('last-modified', new Date().toUTCString());
    }
  };

  /** Placement's default policy: admin (or a service) for everything but a project's own usages. */
  const can = (call: Call, action: string, target?: { projectId: string | undefined }) => {
    const roles = call.context?.roles ?? [];
    if (roles.includes('admin') || roles.includes('service')) return;
    const reader = roles.includes('reader') || roles.includes('member');
    if (target && reader && target.projectId !== undefined && target.projectId === call.context?.projectId) return;
    throw forbidden(action);
  };

  const acceptJson = (call: Call) => {
    const accept = call.request.headers.accept;
    if (!accept) return;
    const ok = accept.split(',').some((part) => ['application/json', 'application/*', '*/*'].includes(part.split(';')[0]?.trim().toLowerCase() ?? ''));
    if (!ok) throw new PlacementError('CUMULUS_PLACEMENT_NOT_ACCEPTABLE', 406, 'Only application/json is provided');
  };

  /** The JSON body checked against a Placement schema (util.require_content + util.extract_json). */
  const body = (call: Call, schema: Schema): unknown => {
    const type = mediaType(call.request);
    if (type !== 'application/json') {
      throw new PlacementError('CUMULUS_PLACEMENT_UNSUPPORTED_MEDIA_TYPE', 415, `The media type ${type || 'None'} is not supported, use application/json`);
    }
    const text = typeof call.request.body === 'string' ? call.request.body : '';
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw badRequest(`Malformed JSON: ${(err as Error).message}`);
    }
    const problem = violation(data, schema);
    if (problem) throw badRequest(`JSON does not validate: ${problem}`);
    return data;
  };

  const noContent = (call: Call, status: 201 | 204 = 204, location?: string) => {
    if (location) call.reply.header('location', `${settings.publicUrl.replace(/\/+$/, '')}${location}`);
    return call.reply.code(status).send();
  };

  const inventoryFrom = (data: Record<string, unknown>): Inventory => {
    const pick = (key: keyof Inventory) => (data[key] === undefined ? undefined : Number(data[key]));
    return {
      total: Number(data.total),
      reserved: pick('reserved') ?? INVENTORY_DEFAULTS.reserved,
      min_unit: pick('min_unit') ?? INVENTORY_DEFAULTS.min_unit,
      max_unit: pick('max_unit') ?? INVENTORY_DEFAULTS.max_unit,
      step_size: pick('step_size') ?? INVENTORY_DEFAULTS.step_size,
      allocation_ratio: pick('allocation_ratio') ?? INVENTORY_DEFAULTS.allocation_ratio,
    };
  };

  /** A route that exists only from `minor` on: 404 before (405 where Placement says so). */
  const since = (minor: number, handler: Handler, status = 404): Handler => (call) => {
    if (!atLeast(call.version, minor)) throw bare(status);
    return handler(call);
  };

  // ---- allocations: the body of PUT /allocations/{uuid} and POST /allocations -------------

  const allocationWrite = (consumer: string, data: Record<string, unknown>, v: Microversion): AllocationWrite => {
    const allocations = new Map<string, Map<string, number>>();
    if (!atLeast(v, 12)) {
      for (const item of data.allocations as Array<{ resource_provider: { uuid: string }; resources: Record<string, number> }>) {
        allocations.set(item.resource_provider.uuid, new Map(Object.entries(item.resources)));
      }
    } else {
      for (const [rp, entry] of Object.entries(data.allocations as Record<string, { resources: Record<string, number> }>)) allocations.set(rp, new Map(Object.entries(entry.resources)));
    }
    return {
      consumer,
      allocations,
      projectId: typeof data.project_id === 'string' ? data.project_id : null,
      userId: typeof data.user_id === 'string' ? data.user_id : null,
      ...(atLeast(v, 28) ? { consumerGeneration: (data.consumer_generation as number | null | undefined) ?? null } : {}),
      ...(atLeast(v, 38) ? { consumerType: data.consumer_type as string } : {}),
    };
  };

  const putAllocationSchema = (v: Microversion): Schema =>
    atLeast(v, 38) ? schemas.ALLOCATION_1_38 : atLeast(v, 34) ? schemas.ALLOCATION_1_34 : atLeast(v, 28) ? schemas.ALLOCATION_1_28 : atLeast(v, 12) ? schemas.ALLOCATION_1_12 : atLeast(v, 8) ? schemas.ALLOCATION_1_8 : schemas.ALLOCATION_1_0;
  const postAllocationSchema = (v: Microversion): Schema =>
    atLeast(v, 38) ? schemas.POST_ALLOCATIONS_1_38 : atLeast(v, 34) ? schemas.POST_ALLOCATIONS_1_34 : atLeast(v, 28) ? schemas.POST_ALLOCATIONS_1_28 : schemas.POST_ALLOCATIONS_1_13;

  // ---- allocation candidates: the query string ----------------------------------------------

  const candidateRequest = (call: Call): CandidateRequest => {
    const v = call.version;
    const query = call.query;
    // The keys each microversion's schema admits (schemas/allocation_candidate.py).
    const suffix = atLeast(v, 33) ? '([a-zA-Z0-9_-]{1,64})?' : '([1-9][0-9]*)?';
    const grouped = (name: string) => new RegExp(`^${name}${atLeast(v, 25) ? suffix : ''}$`);
    const allowed: Array<string | RegExp> = [grouped('resources')];
    if (atLeast(v, 16)) allowed.push('limit');
    if (atLeast(v, 17)) allowed.push(grouped('required'));
    if (atLeast(v, 21)) allowed.push(grouped('member_of'));
    if (atLeast(v, 25)) allowed.push('group_policy');
    if (atLeast(v, 31)) allowed.push(grouped('in_tree'));
    if (atLeast(v, 35)) allowed.push('root_required');
    checkQueryKeys(query, allowed, atLeast(v, 25) ? [] : ['resources']);
    const limitText = lastOf(query, 'limit');
    if (limitText !== undefined && !/^[1-9][0-9]*$/.test(limitText)) throw badRequest(`Invalid query string parameters: ${JSON.stringify(limitText).replace(/"/g, "'")} does not match '^[1-9][0-9]*$'`);
    const policy = lastOf(query, 'group_policy');
    if (policy !== undefined && policy !== 'none' && policy !== 'isolate') throw badRequest(`Invalid query string parameters: '${policy}' is not one of ['none', 'isolate']`);
    if (allOf(query, 'same_subtree').length > 0) throw badRequest('Invalid query string parameters: same_subtree is not supported by this Placement');

    const groups = new Map<string, RequestGroup>();
    const groupOf = (s: string) => {
      const existing = groups.get(s);
      if (existing) return existing;
      const created: RequestGroup = { suffix: s, useSameProvider: s !== '', resources: new Map(), traits: { required: [], forbidden: new Set() }, memberOf: { required: [], forbidden: new Set() }, inTree: null };
      groups.set(s, created);
      return created;
    };
    const pattern = new RegExp(`^(resources|required|member_of|in_tree)${atLeast(v, 25) ? suffix : '()'}$`);
    for (const key of Object.keys(query)) {
      const match = pattern.exec(key);
      if (!match) continue;
      const [, kind, s = ''] = match;
      const group = groupOf(s);
      const values = allOf(query, key);
      if (kind === 'resources') group.resources = parseResources(values.at(-1) ?? '');
      else if (kind === 'required') group.traits = parseTraitParams(values, atLeast(v, 22), atLeast(v, 39));
      else if (kind === 'member_of') group.memberOf = parseMemberOfParams(values, s, atLeast(v, 24), atLeast(v, 32));
      else group.inTree = parseInTree(values.at(-1) ?? '');
    }
    const all = [...groups.values()];
    // Placement's checks on the groups (lib.RequestGroup.dict_from_request).
    const orphanTraits = all.filter((g) => g.traits.required.length > 0 && g.resources.size === 0).map((g) => `required${g.suffix}`);
    if (orphanTraits.length > 0) throw badRequest(`All traits parameters must be associated with resources.  Found the following orphaned traits keys: ${orphanTraits.join(', ')}`);
    const orphanAggs = all.filter((g) => g.resources.size === 0 && (g.memberOf.required.length > 0 || g.memberOf.forbidden.size > 0)).map((g) => `member_of${g.suffix}`);
    if (orphanAggs.length > 0) throw badRequest(`All member_of parameters must be associated with resources. Found the following orphaned member_of keys: ${orphanAggs.join(', ')}`);
    if (atLeast(v, 36) && all.length > 0 && all.every((g) => g.resources.size === 0)) throw badRequest('There must be at least one resources or resources[$S] parameter.', PLACEMENT_CODE.QUERYPARAM_MISSING_VALUE);
    if (!all.every((g) => g.resources.size > 0)) throw badRequest('All request groups must specify resources.');
    if (all.length === 0) throw badRequest('At least one request group (`resources` or `resources{$S}`) is required.');
    if (atLeast(v, 22)) {
      const conflicting = all.flatMap((g) => g.traits.required.filter((anyOf) => anyOf.every((t) => g.traits.forbidden.has(t))).map((anyOf) => `required${g.suffix}: (${[...anyOf].sort().join(', ')})`));
      if (conflicting.length > 0) throw badRequest(`Conflicting required and forbidden traits found in the following traits keys: ${conflicting.sort().join(', ')}`);
    }
    let rootRequired = new Set<string>();
    let rootForbidden = new Set<string>();
    const root = allOf(query, 'root_required');
    if (root.length > 1) throw badRequest("Query parameter 'root_required' may be specified only once.", PLACEMENT_CODE.ILLEGAL_DUPLICATE_QUERYPARAM);
    if (root.length === 1) {
      const parsed = parseTraits(root[0] as string, true, false);
      rootRequired = new Set(parsed.required.flat());
      rootForbidden = parsed.forbidden;
      const clash = [...rootRequired].filter((t) => rootForbidden.has(t));
      if (clash.length > 0) throw badRequest(`Conflicting required and forbidden traits found in root_required: ${clash.join(', ')}`, PLACEMENT_CODE.QUERYPARAM_BAD_VALUE);
    }
    if (!policy && all.filter((g) => g.useSameProvider).length > 1) throw badRequest('The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.');
    return {
      groups: all,
      groupPolicy: (policy as 'none' | 'isolate' | undefined) ?? null,
      limit: limitText === undefined ? null : Number(limitText),
      rootRequired,
      rootForbidden,
      nestedAware: atLeast(v, 29),
    };
  };

  const candidatesView = (requests: readonly AllocationRequest[], summaries: readonly ProviderNode[], asked: CandidateRequest, v: Microversion) => {
    const allocationRequests = requests.map((areq) => {
      const byProvider = new Map<string, Record<string, number>>();
      for (const r of areq.resources) {
        const resources = byProvider.get(r.provider.uuid) ?? {};
        resources[r.resourceClass] = r.amount;
        byProvider.set(r.provider.uuid, resources);
      }
      if (!atLeast(v, 12)) return { allocations: [...byProvider].map(([uuid, resources]) => ({ resource_provider: { uuid }, resources })) };
      return {
        allocations: Object.fromEntries([...byProvider].map(([uuid, resources]) => [uuid, { resources }])),
        ...(atLeast(v, 34) ? { mappings: Object.fromEntries([...areq.mappings].map(([s, ps]) => [s, [...ps]])) } : {}),
      };
    });
    const requested = new Set(asked.groups.flatMap((g) => [...g.resources.keys()]));
    const providerSummaries = Object.fromEntries(
      summaries.map((p) => [
        p.uuid,
        {
          resources: Object.fromEntries(
            [...p.inventories].filter(([rc]) => atLeast(v, 27) || requested.has(rc)).map(([rc, inv]) => [rc, { capacity: capacityOf(inv), used: inv.used }]),
          ),
          ...(atLeast(v, 17) ? { traits: [...p.traits].sort() } : {}),
          ...(atLeast(v, 29) ? { parent_provider_uuid: p.parentUuid, root_provider_uuid: p.rootUuid } : {}),
        },
      ]),
    );
    return { allocation_requests: allocationRequests, provider_summaries: providerSummaries };
  };

  // ---- the route table (placement/handler.py ROUTE_DECLARATIONS) ------------------------------

  const uuidParam = (call: Call) => call.params.uuid as string;

  const routes: Record<string, Partial<Record<Method, Handler>>> = {
    '/': {
      GET: (call) => {
        fresh(call);
        return { versions: [{ id: `v${MIN_MICROVERSION}`, max_version: MAX_MICROVERSION, min_version: MIN_MICROVERSION, status: 'CURRENT', links: [{ rel: 'self', href: '' }] }] };
      },
    },
    '/resource_classes': {
      GET: since(2, (call) => {
        can(call, 'placement:resource_classes:list');
        acceptJson(call);
        fresh(call);
        return { resource_classes: placement.listResourceClasses().map(resourceClassView) };
      }),
      POST: since(2, (call) => {
        can(call, 'placement:resource_classes:create');
        const { name } = body(call, schemas.RESOURCE_CLASS) as { name: string };
        placement.createResourceClass(name);
        return noContent(call, 201, `${mount}/resource_classes/${name}`);
      }),
    },
    '/resource_classes/:name': {
      GET: since(2, (call) => {
        can(call, 'placement:resource_classes:show');
        acceptJson(call);
        fresh(call);
        return resourceClassView(placement.getResourceClass(call.params.name as string));
      }),
      PUT: since(2, (call) => {
        can(call, 'placement:resource_classes:update');
        const name = call.params.name as string;
        if (!atLeast(call.version, 7)) {
          const { name: to } = body(call, schemas.RESOURCE_CLASS) as { name: string };
          placement.renameResourceClass(name, to);
          return resourceClassView(to);
        }
        const problem = violation({ name }, schemas.RESOURCE_CLASS);
        if (problem) throw badRequest(`JSON does not validate: ${problem}`);
        const created = placement.ensureResourceClass(name);
        return noContent(call, created ? 201 : 204, `${mount}/resource_classes/${name}`);
      }),
      DELETE: since(2, (call) => {
        can(call, 'placement:resource_classes:delete');
        placement.deleteResourceClass(call.params.name as string);
        return noContent(call);
      }),
    },
    '/resource_providers': {
      GET: (call) => {
        can(call, 'placement:resource_providers:list');
        acceptJson(call);
        const v = call.version;
        const allowed = ['name', 'uuid', ...(atLeast(v, 3) ? ['member_of'] : []), ...(atLeast(v, 4) ? ['resources'] : []), ...(atLeast(v, 14) ? ['in_tree'] : []), ...(atLeast(v, 18) ? ['required'] : [])];
        checkQueryKeys(call.query, allowed);
        for (const key of ['uuid', 'in_tree']) {
          const value = lastOf(call.query, key);
          if (value !== undefined && normalizeUuid(value) === null) throw badRequest(`Invalid query string parameters: '${value}' is not a 'uuid'`);
        }
        const memberOf = allOf(call.query, 'member_of');
        const required = allOf(call.query, 'required');
        const resources = lastOf(call.query, 'resources');
        const providers = placement.listProviders({
          ...(lastOf(call.query, 'name') !== undefined ? { name: lastOf(call.query, 'name') } : {}),
          ...(lastOf(call.query, 'uuid') !== undefined ? { uuid: lastOf(call.query, 'uuid') } : {}),
          ...(lastOf(call.query, 'in_tree') !== undefined ? { inTree: lastOf(call.query, 'in_tree') } : {}),
          ...(memberOf.length > 0 ? { memberOf: parseMemberOfParams(memberOf, '', atLeast(v, 24), atLeast(v, 32)) } : {}),
          ...(required.length > 0 ? { traits: parseTraitParams(required, atLeast(v, 22), atLeast(v, 39)) } : {}),
          ...(resources !== undefined ? { resources: parseResources(resources) } : {}),
        });
        fresh(call);
        return { resource_providers: providers.map((rp) => providerView(rp, v)) };
      },
      POST: (call) => {
        can(call, 'placement:resource_providers:create');
        const data = body(call, atLeast(call.version, 14) ? schemas.POST_PROVIDER_1_14 : schemas.POST_PROVIDER) as { name: string; uuid?: string; parent_provider_uuid?: string | null };
        const rp = placement.createProvider(data);
        call.reply.header('location', `${absolute}/resource_providers/${rp.uuid}`);
        if (!atLeast(call.version, 20)) return call.reply.code(201).send();
        fresh(call);
        return providerView(rp, call.version);
      },
    },
    '/resource_providers/:uuid': {
      GET: (call) => {
        can(call, 'placement:resource_providers:show');
        acceptJson(call);
        fresh(call);
        return providerView(placement.getProvider(uuidParam(call)), call.version);
      },
      PUT: (call) => {
        can(call, 'placement:resource_providers:update');
        placement.getProvider(uuidParam(call));
        const data = body(call, atLeast(call.version, 14) ? schemas.PUT_PROVIDER_1_14 : schemas.PUT_PROVIDER) as { name: string; parent_provider_uuid?: string | null };
        const rp = placement.updateProvider(uuidParam(call), data, atLeast(call.version, 37));
        fresh(call);
        return providerView(rp, call.version);
      },
      DELETE: (call) => {
        can(call, 'placement:resource_providers:delete');
        placement.deleteProvider(uuidParam(call));
        return noContent(call);
      },
    },
    '/resource_providers/:uuid/inventories': {
      GET: (call) => {
        can(call, 'placement:resource_providers:inventories:list');
        acceptJson(call);
        const { generation, inventories } = placement.getInventories(uuidParam(call));
        fresh(call);
        return { resource_provider_generation: generation, inventories: Object.fromEntries(Object.entries(inventories).map(([rc, inv]) => [rc, inventoryView(inv)])) };
      },
      POST: (call) => {
        can(call, 'placement:resource_providers:inventories:create');
        placement.getProvider(uuidParam(call));
        const data = body(call, schemas.POST_INVENTORY) as Record<string, unknown>;
        const rc = data.resource_class as string;
        const { generation, inventory } = placement.createInventory(uuidParam(call), rc, inventoryFrom(data), atLeast(call.version, 26));
        call.reply.header('location', `${absolute}/resource_providers/${uuidParam(call)}/inventories/${rc}`);
        fresh(call);
        return call.reply.code(201).send(inventoryView(inventory, generation));
      },
      PUT: (call) => {
        can(call, 'placement:resource_providers:inventories:update');
        placement.getProvider(uuidParam(call));
        const data = body(call, schemas.PUT_INVENTORIES) as { resource_provider_generation: number; inventories: Record<string, Record<string, unknown>> };
        const inventories = new Map(Object.entries(data.inventories).map(([rc, raw]) => [rc, inventoryFrom(raw)]));
        const result = placement.setInventories(uuidParam(call), data.resource_provider_generation, inventories, atLeast(call.version, 26));
        fresh(call);
        return { resource_provider_generation: result.generation, inventories: Object.fromEntries(Object.entries(result.inventories).map(([rc, inv]) => [rc, inventoryView(inv)])) };
      },
      DELETE: since(
        5,
        (call) => {
          can(call, 'placement:resource_providers:inventories:delete');
          placement.deleteInventories(uuidParam(call));
          return noContent(call);
        },
        405,
      ),
    },
    '/resource_providers/:uuid/inventories/:rc': {
      GET: (call) => {
        can(call, 'placement:resource_providers:inventories:show');
        acceptJson(call);
        const { generation, inventory } = placement.getInventory(uuidParam(call), call.params.rc as string);
        fresh(call);
        return inventoryView(inventory, generation);
      },
      PUT: (call) => {
        can(call, 'placement:resource_providers:inventories:update');
        placement.getProvider(uuidParam(call));
        const data = body(call, schemas.PUT_INVENTORY) as Record<string, unknown>;
        const { generation, inventory } = placement.updateInventory(uuidParam(call), call.params.rc as string, data.resource_provider_generation as number, inventoryFrom(data), atLeast(call.version, 26));
        fresh(call);
        return inventoryView(inventory, generation);
      },
      DELETE: (call) => {
        can(call, 'placement:resource_providers:inventories:delete');
        placement.deleteInventory(uuidParam(call), call.params.rc as string);
        return noContent(call);
      },
    },
    '/resource_providers/:uuid/usages': {
      GET: (call) => {
        can(call, 'placement:resource_providers:usages');
        acceptJson(call);
        const { generation, usages } = placement.providerUsages(uuidParam(call));
        fresh(call);
        return { resource_provider_generation: generation, usages };
      },
    },
    '/resource_providers/:uuid/aggregates': {
      GET: since(1, (call) => {
        can(call, 'placement:resource_providers:aggregates:list');
        acceptJson(call);
        const { generation, aggregates } = placement.providerAggregates(uuidParam(call));
        fresh(call);
        return { aggregates, ...(atLeast(call.version, 19) ? { resource_provider_generation: generation } : {}) };
      }),
      PUT: since(1, (call) => {
        can(call, 'placement:resource_providers:aggregates:update');
        placement.getProvider(uuidParam(call));
        const withGeneration = atLeast(call.version, 19);
        const data = body(call, withGeneration ? schemas.PUT_AGGREGATES_1_19 : schemas.PUT_AGGREGATES_1_1);
        const { aggregates, generation } = withGeneration
          ? placement.setProviderAggregates(uuidParam(call), (data as { aggregates: string[] }).aggregates, (data as { resource_provider_generation: number }).resource_provider_generation)
          : placement.setProviderAggregates(uuidParam(call), data as string[], null);
        fresh(call);
        return { aggregates, ...(withGeneration ? { resource_provider_generation: generation } : {}) };
      }),
    },
    '/resource_providers/:uuid/allocations': {
      GET: (call) => {
        can(call, 'placement:resource_providers:allocations:list');
        acceptJson(call);
        const { generation, allocations } = placement.providerAllocations(uuidParam(call));
        fresh(call);
        return {
          allocations: Object.fromEntries(allocations.map((a) => [a.consumer, { resources: a.resources, ...(atLeast(call.version, 28) ? { consumer_generation: a.consumer_generation } : {}) }])),
          resource_provider_generation: generation,
        };
      },
    },
    '/allocations': {
      POST: since(13, (call) => {
        can(call, 'placement:allocations:manage');
        const data = body(call, postAllocationSchema(call.version)) as Record<string, Record<string, unknown>>;
        placement.replaceAllocations(
          Object.entries(data).map(([consumer, entry]) => allocationWrite(consumer, entry, call.version)),
          { single: false },
        );
        return noContent(call);
      }),
    },
    '/allocations/:consumer': {
      GET: (call) => {
        can(call, 'placement:allocations:list');
        acceptJson(call);
        const v = call.version;
        const { consumer, allocations } = placement.consumerAllocations(call.params.consumer as string);
        fresh(call);
        return {
          allocations: Object.fromEntries(allocations.map((a) => [a.provider, { resources: a.resources, generation: a.generation }])),
          ...(consumer && atLeast(v, 12) ? { project_id: consumer.project_id, user_id: consumer.user_id } : {}),
          ...(consumer && atLeast(v, 28) ? { consumer_generation: consumer.generation } : {}),
          ...(consumer && atLeast(v, 38) ? { consumer_type: consumer.consumer_type ?? 'unknown' } : {}),
        };
      },
      PUT: (call) => {
        can(call, 'placement:allocations:update');
        const raw = call.params.consumer as string;
        const consumer = normalizeUuid(raw);
        if (!consumer) throw badRequest(`Malformed consumer_uuid: ${raw}`);
        const data = body(call, putAllocationSchema(call.version)) as Record<string, unknown>;
        placement.replaceAllocations([allocationWrite(consumer, data, call.version)], { single: true });
        return noContent(call);
      },
      DELETE: (call) => {
        can(call, 'placement:allocations:delete');
        placement.deleteAllocations(call.params.consumer as string);
        return noContent(call);
      },
    },
    '/allocation_candidates': {
      GET: since(10, (call) => {
        can(call, 'placement:allocation_candidates:list');
        acceptJson(call);
        const asked = candidateRequest(call);
        const { allocationRequests, summaries } = placement.searchCandidates(asked);
        fresh(call);
        return candidatesView(allocationRequests, summaries, asked, call.version);
      }),
    },
    '/traits': {
      GET: since(6, (call) => {
        can(call, 'placement:traits:list');
        acceptJson(call);
        checkQueryKeys(call.query, ['name', 'associated']);
        const filter: { names?: string[]; prefix?: string; associated?: boolean } = {};
        const name = lastOf(call.query, 'name');
        if (name !== undefined) {
          const at = name.indexOf(':');
          if (at < 0) throw badRequest(`Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "${name}"`);
          const op = name.slice(0, at);
          if (op === 'in') filter.names = name.slice(at + 1).split(',');
          else if (op === 'startswith') filter.prefix = name.slice(at + 1);
        }
        const associated = lastOf(call.query, 'associated');
        if (associated !== undefined) {
          if (!['true', 'false'].includes(associated.toLowerCase())) throw badRequest('The query parameter "associated" only accepts "true" or "false"');
          filter.associated = associated.toLowerCase() === 'true';
        }
        fresh(call);
        return { traits: placement.listTraits(filter) };
      }),
    },
    '/traits/:name': {
      GET: since(6, (call) => {
        can(call, 'placement:traits:show');
        const name = call.params.name as string;
        if (!placement.traitExists(name)) throw notFound(`No such trait(s): ${name}.`);
        fresh(call);
        return noContent(call);
      }),
      PUT: since(6, (call) => {
        can(call, 'placement:traits:update');
        const name = call.params.name as string;
        if (violation(name, schemas.CUSTOM_TRAIT)) {
          throw badRequest('The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix "CUSTOM_" and use following characters: "A"-"Z", "0"-"9" and "_"');
        }
        const created = placement.ensureTrait(name);
        fresh(call);
        return noContent(call, created ? 201 : 204, `${mount}/traits/${name}`);
      }),
      DELETE: since(6, (call) => {
        can(call, 'placement:traits:delete');
        placement.deleteTrait(call.params.name as string);
        return noContent(call);
      }),
    },
    '/resource_providers/:uuid/traits': {
      GET: since(6, (call) => {
        can(call, 'placement:resource_providers:traits:list');
        acceptJson(call);
        const { generation, traits } = placement.providerTraits(uuidParam(call));
        fresh(call);
        return { traits, resource_provider_generation: generation };
      }),
      PUT: since(6, (call) => {
        can(call, 'placement:resource_providers:traits:update');
        const data = body(call, schemas.SET_PROVIDER_TRAITS) as { traits: string[]; resource_provider_generation: number };
        const { generation, traits } = placement.setProviderTraits(uuidParam(call), data.resource_provider_generation, data.traits);
        fresh(call);
        return { traits, resource_provider_generation: generation };
      }),
      DELETE: since(6, (call) => {
        can(call, 'placement:resource_providers:traits:delete');
        placement.deleteProviderTraits(uuidParam(call));
        return noContent(call);
      }),
    },
    '/usages': {
      GET: since(9, (call) => {
        const projectId = lastOf(call.query, 'project_id');
        can(call, 'placement:usages', { projectId });
        acceptJson(call);
        const withTypes = atLeast(call.version, 38);
        checkQueryKeys(call.query, ['project_id', 'user_id', ...(withTypes ? ['consumer_type'] : [])], ['project_id']);
        const userId = lastOf(call.query, 'user_id');
        for (const [key, value] of [['project_id', projectId], ['user_id', userId]] as const) {
          if (value !== undefined && value.length === 0) throw badRequest(`Invalid query string parameters: '' is too short`);
          if (value !== undefined && value.length > 255) throw badRequest(`Invalid query string parameters: '${value}' is too long (${key})`);
        }
        const consumerType = lastOf(call.query, 'consumer_type');
        if (consumerType !== undefined && !/^[A-Z0-9_]+$/.test(consumerType) && consumerType !== 'all' && consumerType !== 'unknown') {
          throw badRequest(`Invalid query string parameters: '${consumerType}' does not match '^[A-Z0-9_]+$|^all|^unknown$'`);
        }
        fresh(call);
        if (withTypes) return { usages: placement.projectUsagesByType(projectId as string, userId, consumerType) };
        return { usages: placement.projectUsages(projectId as string, userId) };
      }),
    },
  };

  app.register(
    async (scope) => {
      // Bodies arrive as text: Placement answers 415 and 400 "Malformed JSON" itself.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, text, done) => done(null, text));

      scope.setErrorHandler((err, request, reply) => {
        const status = err instanceof CumulusError ? err.httpStatus : ((err as { statusCode?: number }).statusCode ?? 500);
        if (status === 401) return reply.code(401).header('www-authenticate', `Keystone uri="${settings.publicUrl.replace(/\/+$/, '')}/identity"`).send(keystoneErrorBody(401, 'The request you have made requires authentication.'));
        const version = state.get(request)?.version;
        const message = status >= 500 && !(err instanceof CumulusError) ? 'The server has either erred or is incapable of performing the requested operation.' : err instanceof Error ? err.message : String(err);
        if (status >= 500) request.log.error({ err }, 'placement: unexpected error');
        const error: Record<string, unknown> = { status, title: TITLES[status] ?? 'Error', detail: errorDetail(status, message, request) };
        if (version && atLeast(version, 23)) error.code = err instanceof PlacementError ? err.placementCode : PLACEMENT_CODE.DEFAULT;
        error.request_id = String(request.id);
        if (err instanceof MicroversionError && status === 406) Object.assign(error, { max_version: MAX_MICROVERSION, min_version: MIN_MICROVERSION });
        return reply.code(status).send({ errors: [error] });
      });

      scope.addHook('onRequest', async (request, reply) => {
        reply.header('x-openstack-request-id', String(request.id));
        const path = request.url.split('?')[0]?.replace(/\/+$/, '') ?? '';
        // 1. authentication (keystonemiddleware), except the version document at the root
        const context = path === mount ? undefined : contextFromRequest(keystone, request);
        // 2. then the microversion, so errors after this point carry it
        state.set(request, { version: negotiate(request, reply), ...(context ? { context } : {}) });
      });

      scope.setNotFoundHandler(async () => {
        throw bare(404);
      });

      for (const [path, handlers] of Object.entries(routes)) {
        const allow = Object.keys(handlers).join(', ');
        for (const method of METHODS) {
          const handler = handlers[method];
          scope.route({
            method,
            url: path,
            handler: async (request, reply) => {
              if (!handler) {
                reply.header('allow', allow);
                throw new PlacementError('CUMULUS_CLOUD_METHOD_NOT_ALLOWED', 405, 'The method specified is not allowed for this resource.');
              }
              const seen = state.get(request) ?? {};
              const call: Call = {
                request,
                reply,
                version: seen.version as Microversion,
                context: seen.context ?? null,
                params: request.params as Record<string, string>,
                query: request.query as Query,
              };
              const result = await handler(call);
              return reply.sent ? reply : result;
            },
          });
        }
      }
    },
    { prefix: mount },
  );
}
