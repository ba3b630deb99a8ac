import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod, RouteShorthandOptions } from 'fastify';
import { MAP_TYPES, parseRuleTime, type RuleFilter } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { callerOf, rejectUnknownQueryFields, TOKEN_SECURITY, useErrorStyle } from '../http.ts';
import { NO_OTHER_FIELDS, parseBool, requireJsonBody } from '../params.ts';

const tags = ['rating'];
const HASHMAP = '/v1/rating/module_config/hashmap';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Registers `url` and `url/`: python-cloudkittyclient builds `.../services/` for lists and
 * creations and sends deletes and updates to the collection with the id in the body
 * (pecan, under CloudKitty, ignores the slash). The twin is left out of the OpenAPI document.
 */
function both(instance: FastifyInstance, method: Method, url: string, options: RouteShorthandOptions, handler: RouteHandlerMethod): void {
  instance.route({ method, url, ...options, handler });
  instance.route({ method, url: `${url}/`, ...options, schema: { ...(options.schema ?? {}), hide: true } as RouteShorthandOptions['schema'], handler });
}

/** A preValidation hook enforcing `action`: CloudKitty authorizes before it reads the request, so a refused caller gets 403, not 400. */
const allow = (context: ApiContext, action: string) => async (request: FastifyRequest) => context.access.enforce(action, callerOf(request));

const UUID = { type: 'string', format: 'uuid', description: 'a UUID' } as const;
const NULLABLE_UUID = { type: ['string', 'null'], description: 'a UUID, or null' } as const;
const BOOL = { type: 'string', maxLength: 8, description: 'true or false (also True, 1, 0, yes, no, any case)' } as const;
const TIME = { type: 'string', maxLength: 64, description: 'ISO 8601 date or date-time (UTC without a zone)' } as const;
const NULLABLE_TIME = { type: ['string', 'null'], maxLength: 64, description: 'ISO 8601 date or date-time (UTC without a zone); null = unbounded. An end date alone means through that day.' } as const;
const DECIMAL = { type: ['string', 'number'], description: 'a decimal (text keeps every digit; a JSON number is read by its shortest form)' } as const;
const NULLABLE_TEXT = { type: ['string', 'null'], maxLength: 255 } as const;
const MAP_TYPE = { type: ['string', 'null'], enum: [...MAP_TYPES, null], description: 'flat (added; the most expensive of a group applies) or rate (multiplies); default flat' } as const;

const idParams = (name: string) => ({ type: 'object', properties: { [name]: { type: 'string', minLength: 1, maxLength: 255 } }, required: [name] }) as const;
const idBody = (name: string, extra: Record<string, object> = {}) => ({ type: ['object', 'null'], properties: { [name]: UUID, ...extra }, additionalProperties: NO_OTHER_FIELDS }) as const;

const SERVICE = { type: 'object', properties: { service_id: UUID, name: { type: 'string' } } } as const;
const FIELD = { type: 'object', properties: { field_id: UUID, name: { type: 'string' }, service_id: UUID } } as const;
const GROUP = { type: 'object', properties: { group_id: UUID, name: { type: 'string' } } } as const;
const MODULE = {
  type: 'object',
  properties: { module_id: { type: 'string' }, description: { type: 'string' }, enabled: { type: 'boolean' }, 'hot-config': { type: 'boolean' }, priority: { type: 'integer' } },
} as const;

const RULE_BODY = {
  type: 'object',
  properties: {
    cost: DECIMAL,
    type: MAP_TYPE,
    service_id: NULLABLE_UUID,
    field_id: NULLABLE_UUID,
    group_id: NULLABLE_UUID,
    tenant_id: { ...NULLABLE_TEXT, description: 'the project this price is for; null = every project without its own' },
    start: NULLABLE_TIME,
    end: NULLABLE_TIME,
  },
} as const;
const MAPPING_BODY = {
  ...RULE_BODY,
  properties: {
    ...RULE_BODY.properties,
    mapping_id: NULLABLE_UUID,
    value: { ...NULLABLE_TEXT, description: 'field mappings: the metadata value priced; none on service mappings' },
    name: NULLABLE_TEXT,
    description: { type: ['string', 'null'], maxLength: 256 },
    // What GET shows; the client PUTs it back. Not changed by a body.
    created_at: NULLABLE_TEXT,
    deleted: NULLABLE_TEXT,
    created_by: NULLABLE_TEXT,
    updated_by: NULLABLE_TEXT,
    deleted_by: NULLABLE_TEXT,
  },
  additionalProperties: NO_OTHER_FIELDS,
} as const;
const THRESHOLD_BODY = {
  ...RULE_BODY,
  properties: { ...RULE_BODY.properties, threshold_id: NULLABLE_UUID, level: { ...DECIMAL, description: 'applies from this quantity (service) or metadata value (field) up' } },
  additionalProperties: NO_OTHER_FIELDS,
} as const;
const MAPPING = { type: 'object', properties: { ...MAPPING_BODY.properties, mapping_id: UUID, cost: { type: 'string' }, type: { type: 'string' } } } as const;
const THRESHOLD = { type: 'object', properties: { ...THRESHOLD_BODY.properties, threshold_id: UUID, cost: { type: 'string' }, level: { type: 'string' }, type: { type: 'string' } } } as const;

const RULE_QUERY = {
  service_id: { ...UUID, description: "the service's own rules (not its fields')" },
  field_id: { ...UUID, description: 'used when service_id is not given' },
  group_id: UUID,
  no_group: { ...BOOL, description: 'rules in no group (when group_id is not given)' },
  tenant_id: { type: 'string', maxLength: 255, description: 'with filter_tenant: this project only' },
  filter_tenant: { ...BOOL, description: 'filter on tenant_id; without tenant_id, on rules for every project' },
  is_active: { type: 'string', maxLength: 64, description: 'true: in force now; a date-time: in force then (our extension)' },
  start: { ...TIME, description: 'rules starting at or after' },
  end: { ...TIME, description: 'rules ending before' },
} as const;
const MAPPINGS_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...RULE_QUERY,
    description: { type: 'string', maxLength: 256, description: 'text the description contains (any case)' },
    created_by: { type: 'string', maxLength: 255 },
    updated_by: { type: 'string', maxLength: 255 },
    deleted_by: { type: 'string', maxLength: 255, description: 'accepted; rules are deleted for good, so this matches none' },
    deleted: { ...BOOL, description: 'accepted; rules are deleted for good' },
    all: { ...BOOL, description: 'accepted; every matching rule is listed' },
  },
} as const;
const THRESHOLDS_QUERY = { type: 'object', additionalProperties: false, properties: RULE_QUERY } as const;

type RuleQuery = Partial<Record<keyof typeof MAPPINGS_QUERY.properties, string>>;

/** CloudKitty's list filters from the query string (400 naming the parameter when one cannot be read). */
function ruleFilter(query: RuleQuery, nowMs: number): RuleFilter | null {
  if (query.deleted_by !== undefined) return null;
  const time = (name: 'start' | 'end', value: string | undefined) => {
    try {
      return value === undefined ? undefined : (parseRuleTime(name, value) ?? undefined);
    } catch (err) {
      throw new ApiError('CUMULUS_API_INVALID_PARAMETER', 400, `Invalid input: querystring.${name}: ${(err as Error).message}`);
    }
  };
  let activeAt: number | undefined;
  if (query.is_active !== undefined && query.is_active !== '') {
    const asBool = /^(?:y|yes|t|true|on|1|n|no|f|false|off|0)$/i.test(query.is_active) ? parseBool('is_active', query.is_active, false) : undefined;
    if (asBool === undefined) {
      try {
        activeAt = parseRuleTime('start', query.is_active) ?? undefined;
      } catch {
        throw new ApiError('CUMULUS_API_INVALID_PARAMETER', 400, `Invalid input: querystring.is_active must be true, false or an ISO 8601 date-time, got ${JSON.stringify(query.is_active)}`);
      }
    } else if (asBool) activeAt = nowMs;
  }
  const start = time('start', query.start);
  const end = time('end', query.end);
  return {
    ...(query.service_id !== undefined ? { service_id: query.service_id.toLowerCase() } : {}),
    ...(query.field_id !== undefined ? { field_id: query.field_id.toLowerCase() } : {}),
    ...(query.group_id !== undefined ? { group_id: query.group_id.toLowerCase() } : {}),
    no_group: parseBool('no_group', query.no_group, false),
    ...(query.tenant_id !== undefined ? { tenant_id: query.tenant_id } : {}),
    filter_tenant: parseBool('filter_tenant', query.filter_tenant, false),
    ...(activeAt !== undefined ? { active_at: activeAt } : {}),
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
    ...(query.description !== undefined ? { description: query.description } : {}),
    ...(query.created_by !== undefined ? { created_by: query.created_by } : {}),
    ...(query.updated_by !== undefined ? { updated_by: query.updated_by } : {}),
  };
}

/** An item's URL, as CloudKitty sets Location: the collection's URL plus the id (the request's URL when it names the item). */
function locationOf(request: FastifyRequest, id: string): string {
  const path = (request.url.split('?')[0] ?? '').replace(/\/$/, '');
  return `${request.protocol}://${request.host}${path.endsWith(`/${id}`) ? path : `${path}/${id}`}`;
}

/** The id of a delete or update: from the path, else from the body (the client's collection form). */
function idOf(request: FastifyRequest, name: string): string {
  const fromPath = (request.params as Record<string, string | undefined>)[name];
  const fromBody = (request.body as Record<string, unknown> | undefined | null)?.[name];
  const id = fromPath ?? (typeof fromBody === 'string' ? fromBody : undefined);
  if (id === undefined || id === '') throw new ApiError('CUMULUS_API_INVALID_INPUT', 400, `Invalid input: ${name} is missing; expected it in the path or in the body`);
  return id;
}

/**
 * CloudKitty v1's rating modules and hashmap configuration, as python-cloudkittyclient
 * calls them (`cloudkitty module ...`, `cloudkitty hashmap ...`), with WSME's error body.
 * Policy as CloudKitty's: modules and rules are admin-only (`rating:list_modules`,
 * `rating:get_module`, `rating:update_module`, `rating:module_config`).
 *
 * Where we differ, on purpose: PUT answers 200 with the updated item (CloudKitty answers
 * 302 to the same URL, which keystoneauth follows by repeating the PUT); rules may have
 * start/end on thresholds too; deleting a rule removes it (CloudKitty marks mappings deleted).
 */
export function registerHashmapRoutes(instance: FastifyInstance, context: ApiContext): void {
  instance.register(async (v1) => {
    useErrorStyle(v1, 'wsme');
    registerModuleRoutes(v1, context);
    v1.register(async (hashmap) => {
      // Before the query check and the schema: CloudKitty authorizes module_config first.
      hashmap.addHook('preValidation', allow(context, 'rating:module_config'));
      rejectUnknownQueryFields(hashmap);
      registerHashmapConfig(hashmap, context);
    });
  });
}

function registerModuleRoutes(v1: FastifyInstance, context: ApiContext): void {
  const store = context.hashmap;
  const moduleParams = idParams('module_id');

  both(v1, 'GET', '/v1/rating/modules', { preValidation: allow(context, 'rating:list_modules'), schema: { tags, summary: 'List the rating modules', security: TOKEN_SECURITY, response: { 200: { type: 'object', properties: { modules: { type: 'array', items: MODULE } } } } } }, async () => ({
    modules: store.modules(),
  }));

  v1.get('/v1/rating/modules/:module_id', { preValidation: allow(context, 'rating:get_module'), schema: { tags, summary: 'Show a rating module', security: TOKEN_SECURITY, params: moduleParams, response: { 200: MODULE } } }, async (request) =>
    store.module((request.params as { module_id: string }).module_id),
  );

  v1.put(
    '/v1/rating/modules/:module_id',
    {
      preValidation: [allow(context, 'rating:update_module'), requireJsonBody],
      schema: {
        tags,
        summary: 'Enable, disable or prioritise a rating module',
        description: 'Only enabled and priority change; the other fields are what GET shows (the client sends them back). A disabled hashmap rates nothing.',
        security: TOKEN_SECURITY,
        params: moduleParams,
        body: { type: 'object', properties: { ...MODULE.properties, description: { type: ['string', 'null'] }, enabled: { type: ['boolean', 'null'] }, priority: { type: ['integer', 'null'] } }, additionalProperties: NO_OTHER_FIELDS },
        response: { 200: MODULE },
      },
    },
    async (request, reply) => {
      const { module_id: moduleId } = request.params as { module_id: string };
      const body = (request.body ?? {}) as { enabled?: boolean | null; priority?: number | null };
      const updated = store.updateModule(moduleId, { ...(typeof body.enabled === 'boolean' ? { enabled: body.enabled } : {}), ...(typeof body.priority === 'number' ? { priority: body.priority } : {}) });
      return reply.header('location', locationOf(request, moduleId)).send(updated);
    },
  );

  both(v1, 'GET', '/v1/rating/reload_modules', { preValidation: allow(context, 'rating:module_config'), schema: { tags, summary: 'Reload the rating modules (a no-op: rules apply as soon as they change)', security: TOKEN_SECURITY } }, async (_request, reply) =>
    reply.code(204).send(),
  );
}

function registerHashmapConfig(hashmap: FastifyInstance, context: ApiContext): void {
  const store = context.hashmap;
  const nowMs = () => context.clock.nowMs();
  const userOf = (request: FastifyRequest) => callerOf(request).userId ?? null;
  const json = { preValidation: requireJsonBody };
  const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;
  const listOf = (kind: string, item: object) => ({ 200: { type: 'object', properties: { [kind]: { type: 'array', items: item } } } });

  /** GET one, POST (201 with Location) and DELETE (by path, or at the collection with the id in the body) for one kind. */
  const itemRoutes = <T>(o: {
    kind: string;
    id: string;
    what: string;
    item: object;
    get: (id: string) => T;
    create: (body: unknown, request: FastifyRequest) => T;
    idOf: (item: T) => string;
    createBody: object;
    createDescription: string;
    createQuery?: object;
    remove: (id: string, request: FastifyRequest) => void;
    removeDescription: string;
    removeQuery?: object;
    removeBody?: object;
  }) => {
    const url = `${HASHMAP}/${o.kind}`;
    const params = idParams(o.id);
    hashmap.get(`${url}/:${o.id}`, { schema: { tags, summary: `Show a hashmap ${o.what}`, security: TOKEN_SECURITY, params, response: { 200: o.item } } }, async (request) => o.get((request.params as Record<string, string>)[o.id] as string));
    both(
      hashmap,
      'POST',
      url,
      { ...json, schema: { tags, summary: `Create a hashmap ${o.what}`, description: o.createDescription, security: TOKEN_SECURITY, ...(o.createQuery ? { querystring: o.createQuery } : {}), body: o.createBody, response: { 201: o.item } } },
      async (request, reply) => {
        const created = o.create(request.body, request);
        return reply.code(201).header('location', locationOf(request, o.idOf(created))).send(created);
      },
    );
    const remove = async (request: FastifyRequest, reply: FastifyReply) => {
      o.remove(idOf(request, o.id), request);
      return reply.code(204).send();
    };
    const removeSchema = { tags, description: o.removeDescription, security: TOKEN_SECURITY, ...(o.removeQuery ? { querystring: o.removeQuery } : {}), body: o.removeBody ?? idBody(o.id) };
    hashmap.delete(`${url}/:${o.id}`, { schema: { ...removeSchema, summary: `Delete a hashmap ${o.what}`, params } }, remove);
    both(hashmap, 'DELETE', url, { schema: { ...removeSchema, summary: `Delete a hashmap ${o.what} (id in the body, as the client sends it)` } }, remove);
  };
  const nameBody = (extra: Record<string, object>, required: string[]) => ({ type: 'object', required: ['name', ...required], properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, ...extra }, additionalProperties: NO_OTHER_FIELDS });

  both(hashmap, 'GET', `${HASHMAP}/types`, { schema: { tags, summary: 'The mapping types: flat and rate', security: TOKEN_SECURITY, querystring: noQuery } }, async () => [...MAP_TYPES]);

  // Services: CloudKitty's metric names (instance, volume.size, ip.floating, image.size...).
  both(hashmap, 'GET', `${HASHMAP}/services`, { schema: { tags, summary: 'List hashmap services', security: TOKEN_SECURITY, querystring: noQuery, response: listOf('services', SERVICE) } }, async () => ({ services: store.listServices() }));
  itemRoutes({
    kind: 'services',
    id: 'service_id',
    what: 'service',
    item: SERVICE,
    get: (id) => store.getService(id),
    create: (body) => store.createService(body),
    idOf: (service) => service.service_id,
    createBody: nameBody({ service_id: NULLABLE_UUID }, []),
    createDescription: 'Its name is the rated metric: instance, volume.size, ip.floating, image.size, ... 409 when it exists.',
    remove: (id) => store.deleteService(id),
    removeDescription: 'Deletes its fields and every rule under them.',
  });

  // Fields: metadata keys of a service (flavor_id, flavor_name, os_distro, volume_type, ...).
  both(
    hashmap,
    'GET',
    `${HASHMAP}/fields`,
    { schema: { tags, summary: "List a service's hashmap fields", description: 'Every field when no service_id is given.', security: TOKEN_SECURITY, querystring: { type: 'object', additionalProperties: false, properties: { service_id: UUID } }, response: listOf('fields', FIELD) } },
    async (request) => ({ fields: store.listFields((request.query as { service_id?: string }).service_id?.toLowerCase()) }),
  );
  itemRoutes({
    kind: 'fields',
    id: 'field_id',
    what: 'field',
    item: FIELD,
    get: (id) => store.getField(id),
    create: (body) => store.createField(body),
    idOf: (field) => field.field_id,
    createBody: nameBody({ service_id: UUID, field_id: NULLABLE_UUID }, ['service_id']),
    createDescription: 'A metadata key of the service, matched against the usage metadata. 409 when the service has it; 400 when the service does not exist.',
    remove: (id) => store.deleteField(id),
    removeDescription: 'Deletes its rules too.',
  });

  // Groups: rules computed together (flat: the highest; rate: multiplied; one threshold).
  both(hashmap, 'GET', `${HASHMAP}/groups`, { schema: { tags, summary: 'List hashmap groups', security: TOKEN_SECURITY, querystring: noQuery, response: listOf('groups', GROUP) } }, async () => ({ groups: store.listGroups() }));
  const groupRules = (kind: 'mappings' | 'thresholds') => async (request: FastifyRequest) => {
    const groupId = ((request.params as { group_id?: string }).group_id ?? (request.query as { group_id: string }).group_id).toLowerCase();
    return kind === 'mappings' ? { mappings: store.listMappings({ group_id: groupId }) } : { thresholds: store.listThresholds({ group_id: groupId }) };
  };
  for (const kind of ['mappings', 'thresholds'] as const) {
    const response = listOf(kind, kind === 'mappings' ? MAPPING : THRESHOLD);
    both(hashmap, 'GET', `${HASHMAP}/groups/${kind}`, { schema: { tags, summary: `The ${kind} of a group (?group_id=, as the client asks)`, security: TOKEN_SECURITY, querystring: { type: 'object', additionalProperties: false, required: ['group_id'], properties: { group_id: UUID } }, response } }, groupRules(kind));
    hashmap.get(`${HASHMAP}/groups/:group_id/${kind}`, { schema: { tags, summary: `The ${kind} of a group`, security: TOKEN_SECURITY, params: idParams('group_id'), response } }, groupRules(kind));
  }
  const recursiveQuery = { type: 'object', additionalProperties: false, properties: { recursive: { ...BOOL, description: 'also delete its mappings and thresholds (else they leave the group)' } } } as const;
  itemRoutes({
    kind: 'groups',
    id: 'group_id',
    what: 'group',
    item: GROUP,
    get: (id) => store.getGroup(id),
    create: (body) => store.createGroup(body),
    idOf: (group) => group.group_id,
    createBody: nameBody({ group_id: NULLABLE_UUID }, []),
    createDescription: '409 when the name exists.',
    remove: (id, request) => {
      const fromBody = (request.body as { recursive?: unknown } | undefined | null)?.recursive;
      store.deleteGroup(id, parseBool('recursive', (request.query as { recursive?: string }).recursive ?? fromBody, false));
    },
    removeDescription: 'Its rules leave the group (409 when that would put two rules with the same key in force), or are deleted with recursive (query or body).',
    removeQuery: recursiveQuery,
    removeBody: idBody('group_id', { recursive: { type: ['boolean', 'string'] } }),
  });

  // Mappings and thresholds: the same routes for both kinds.
  const force = { type: 'object', additionalProperties: false, properties: { force: { ...BOOL, description: "accepted (CloudKitty's flag for a start in the past, which we always allow)" } } } as const;
  const kinds = [
    {
      kind: 'mappings',
      id: 'mapping_id',
      item: MAPPING,
      body: MAPPING_BODY,
      query: MAPPINGS_QUERY,
      list: (filter: RuleFilter | null) => ({ mappings: filter === null ? [] : store.listMappings(filter) }),
      update: (id: string, body: unknown, request: FastifyRequest) => store.updateMapping(id, body, userOf(request)),
      group: (id: string) => store.groupOfMapping(id),
    },
    {
      kind: 'thresholds',
      id: 'threshold_id',
      item: THRESHOLD,
      body: THRESHOLD_BODY,
      query: THRESHOLDS_QUERY,
      list: (filter: RuleFilter | null) => ({ thresholds: filter === null ? [] : store.listThresholds(filter) }),
      update: (id: string, body: unknown) => store.updateThreshold(id, body),
      group: (id: string) => store.groupOfThreshold(id),
    },
  ] as const;
  itemRoutes({
    kind: 'mappings',
    id: 'mapping_id',
    what: 'mapping',
    item: MAPPING,
    get: (id) => store.getMapping(id),
    create: (body, request) => store.createMapping(body, userOf(request)),
    idOf: (mapping) => mapping.mapping_id,
    createBody: MAPPING_BODY,
    createDescription:
      'A mapping prices a service (no value) or a field value. flat: cost per unit, the most expensive of a group applies; rate: multiplies the group. tenant_id: a project-specific price (replaces the general one with the same group and value). start/end: when it is in force; 409 when a mapping with the same key overlaps.',
    createQuery: force,
    remove: (id) => store.deleteMapping(id),
    removeDescription: 'Deleted for good; to keep it in force for past periods, set its end instead.',
  });
  itemRoutes({
    kind: 'thresholds',
    id: 'threshold_id',
    what: 'threshold',
    item: THRESHOLD,
    get: (id) => store.getThreshold(id),
    create: (body) => store.createThreshold(body),
    idOf: (threshold) => threshold.threshold_id,
    createBody: THRESHOLD_BODY,
    createDescription:
      'A threshold applies from a level of quantity (service) or of a numeric metadata value (field) up; in a group only the highest level reached applies. flat adds, rate multiplies. tenant_id and start/end as mappings.',
    createQuery: force,
    remove: (id) => store.deleteThreshold(id),
    removeDescription: 'Deleted for good; to keep it in force for past periods, set its end instead.',
  });
  for (const k of kinds) {
    const url = `${HASHMAP}/${k.kind}`;
    const params = idParams(k.id);
    both(hashmap, 'GET', url, { schema: { tags, summary: `List hashmap ${k.kind}`, description: "CloudKitty's filters; every rule when none is given.", security: TOKEN_SECURITY, querystring: k.query, response: listOf(k.kind, k.item) } }, async (request) =>
      k.list(ruleFilter(request.query as RuleQuery, nowMs())),
    );
    const groupOf = async (request: FastifyRequest) => k.group((request.params as Record<string, string | undefined>)[k.id] ?? ((request.query as Record<string, string>)[k.id] as string));
    both(hashmap, 'GET', `${url}/group`, { schema: { tags, summary: `The group of one of the ${k.kind} (?${k.id}=, as the client asks)`, security: TOKEN_SECURITY, querystring: { type: 'object', additionalProperties: false, required: [k.id], properties: { [k.id]: { type: 'string', minLength: 1, maxLength: 255 } } }, response: { 200: GROUP } } }, groupOf);
    hashmap.get(`${url}/:${k.id}/group`, { schema: { tags, summary: `The group of one of the ${k.kind}`, security: TOKEN_SECURITY, params, response: { 200: GROUP } } }, groupOf);
    const update = async (request: FastifyRequest, reply: FastifyReply) => {
      const id = idOf(request, k.id);
      return reply.header('location', locationOf(request, id)).send(k.update(id, request.body ?? {}, request));
    };
    const updateSchema = { tags, summary: `Change one of the ${k.kind}`, description: 'The keys given change (the parent never does; a null group_id keeps the group); the rest stays. Answers the updated rule. 409 when the new period overlaps a rule with the same key.', security: TOKEN_SECURITY, body: k.body, response: { 200: k.item } };
    hashmap.put(`${url}/:${k.id}`, { ...json, schema: { ...updateSchema, params } }, update);
    both(hashmap, 'PUT', url, { ...json, schema: { ...updateSchema, summary: `Change one of the ${k.kind} (id in the body, as the client sends it)` } }, update);
  }
}
