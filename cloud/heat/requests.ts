import { parse as parseYaml } from 'yaml';
import { badRequest, notSupported } from './errors.ts';
import { isMapping } from './functions.ts';
import type { StackCreateInput, StackListFilter, StackUpdateInput } from './service.ts';

/**
 * Request bodies and query strings of the Stacks API, read as heat-api reads them
 * (heat/api/openstack/v1/stacks.py InstantiationData, _index).
 */

/** Heat's param_utils.extract_tags: a comma-separated string or a list; each tag at most 80 characters. */
function parseTags(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  const tags = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : null;
  if (tags === null) throw badRequest(`Invalid tags, expected a comma-separated string or a list; got ${JSON.stringify(value)}`);
  const result = tags.map((tag) => String(tag).trim()).filter((tag) => tag !== '');
  for (const tag of result) if (tag.length > 80) throw badRequest(`Invalid tag, "${tag}" is longer than 80 characters`);
  return result;
}

function parseTimeout(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  const minutes = Number(value);
  if (!Number.isInteger(minutes) || minutes < 1) throw badRequest(`Only positive integers are allowed for timeout_mins; got ${JSON.stringify(value)}`);
  return minutes;
}

const ENVIRONMENT_SECTIONS = new Set(['parameters', 'parameter_defaults', 'resource_registry', 'encrypted_param_names', 'event_sinks', 'parameter_merge_strategies']);

/** The environment's parameters and parameter_defaults; a resource_registry would change what gets built, so it is refused. */
function parseEnvironment(value: unknown): { parameters: Record<string, unknown>; parameterDefaults: Record<string, unknown> } {
  if (value === undefined || value === null) return { parameters: {}, parameterDefaults: {} };
  let environment: unknown = value;
  if (typeof value === 'string') {
    try {
      environment = parseYaml(value) ?? {};
    } catch (err) {
      throw badRequest(`Environment not in valid format: ${(err as Error).message}`);
    }
  }
  if (!isMapping(environment)) throw badRequest('Environment not in valid format: The environment is not a valid YAML mapping data type.');
  for (const section of Object.keys(environment)) if (!ENVIRONMENT_SECTIONS.has(section)) throw badRequest(`Environment not in valid format: environment has wrong section "${section}"`);
  const registry = environment.resource_registry;
  if (registry !== undefined && registry !== null && !(isMapping(registry) && Object.keys(registry).length === 0)) throw notSupported('The environment section resource_registry');
  const section = (name: 'parameters' | 'parameter_defaults') => {
    const found = environment[name] ?? {};
    if (!isMapping(found)) throw badRequest(`Environment not in valid format: ${name} must be a map`);
    return found;
  };
  return { parameters: section('parameters'), parameterDefaults: section('parameter_defaults') };
}

function bodyOf(body: unknown): Record<string, unknown> {
  if (!isMapping(body)) throw badRequest('The request body must be a JSON object.');
  if (body.template_url !== undefined && body.template === undefined) throw notSupported('template_url (give the template inline)');
  if (isMapping(body.files) && Object.keys(body.files).length > 0) throw notSupported('files (get_file)');
  return body;
}

function userParameters(body: Record<string, unknown>): Record<string, unknown> {
  const parameters = body.parameters ?? {};
  if (!isMapping(parameters)) throw badRequest('parameters must be a map of parameter names to values');
  return parameters;
}

export function parseCreateRequest(raw: unknown): StackCreateInput {
  const body = bodyOf(raw);
  if (body.stack_name === undefined) throw badRequest('No stack name specified');
  if (typeof body.stack_name !== 'string') throw badRequest(`stack_name must be a string; got ${JSON.stringify(body.stack_name)}`);
  if (body.template === undefined || body.template === null) throw badRequest('No template specified');
  const environment = parseEnvironment(body.environment);
  return {
    stackName: body.stack_name,
    template: body.template,
    // Request parameters win over the environment's, as heat-api merges them.
    parameters: { ...environment.parameters, ...userParameters(body) },
    parameterDefaults: environment.parameterDefaults,
    tags: parseTags(body.tags),
    timeoutMins: parseTimeout(body.timeout_mins),
  };
}

export function parseUpdateRequest(raw: unknown, patch: boolean): StackUpdateInput {
  const body = bodyOf(raw);
  const template = body.template ?? undefined;
  if (template === undefined && !patch) throw badRequest('No template specified');
  const environment = parseEnvironment(body.environment);
  const clear = body.clear_parameters ?? [];
  if (!Array.isArray(clear) || clear.some((p) => typeof p !== 'string')) throw badRequest('clear_parameters must be a list of parameter names');
  return {
    patch,
    template,
    parameters: { ...environment.parameters, ...userParameters(body) },
    parameterDefaults: environment.parameterDefaults,
    clearParameters: clear as string[],
    tags: body.tags === undefined ? undefined : parseTags(body.tags),
    timeoutMins: body.timeout_mins === undefined ? undefined : parseTimeout(body.timeout_mins),
  };
}

type Query = Record<string, string | string[] | undefined>;

/** Every value of a repeatable query key (`?status=A&status=B`). */
export function all(query: Query, key: string): string[] {
  const value = query[key];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function single(query: Query, key: string): string | undefined {
  const values = all(query, key);
  return values[values.length - 1];
}

/** oslo's strutils.bool_from_string, strict, as param_utils.extract_bool uses it. */
export function flag(query: Query, key: string): boolean {
  const value = single(query, key);
  if (value === undefined) return false;
  const word = value.toLowerCase();
  if (['true', '1', 't', 'yes', 'y', 'on'].includes(word)) return true;
  if (['false', '0', 'f', 'no', 'n', 'off'].includes(word)) return false;
  throw badRequest(`Unrecognized value "${value}" for "${key}", acceptable values are: true, false.`);
}

const tagList = (query: Query, key: string): string[] => {
  const value = single(query, key);
  return value === undefined ? [] : (parseTags(value) ?? []);
};

const SORT_KEYS: Readonly<Record<string, StackListFilter['sortKeys'][number]>> = { stack_name: 'name', stack_status: 'status', creation_time: 'created_at', updated_time: 'updated_at' };

/** GET /stacks: the filters Heat's _index takes (its legacy names and the stack keys both). */
export function parseListQuery(query: Query): StackListFilter {
  const limitText = single(query, 'limit');
  let limit: number | null = null;
  if (limitText !== undefined) {
    limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 0) throw badRequest(`Only integers are allowed for limit; got ${JSON.stringify(limitText)}`);
  }
  const sortDir = single(query, 'sort_dir') ?? 'desc';
  if (sortDir !== 'asc' && sortDir !== 'desc') throw badRequest(`Unknown sort direction, must be 'desc' or 'asc'; got ${JSON.stringify(sortDir)}`);
  return {
    globalTenant: flag(query, 'global_tenant'),
    showDeleted: flag(query, 'show_deleted'),
    ids: all(query, 'id'),
    names: [...all(query, 'name'), ...all(query, 'stack_name')],
    statuses: [...all(query, 'status'), ...all(query, 'stack_status')],
    actions: [...all(query, 'action'), ...all(query, 'stack_action')],
    tags: tagList(query, 'tags'),
    tagsAny: tagList(query, 'tags_any'),
    notTags: tagList(query, 'not_tags'),
    notTagsAny: tagList(query, 'not_tags_any'),
    sortKeys: all(query, 'sort_keys')
      .flatMap((k) => k.split(','))
      .map((k) => SORT_KEYS[k.trim()])
      .filter((k): k is StackListFilter['sortKeys'][number] => k !== undefined),
    sortDir,
    limit,
    marker: single(query, 'marker') ?? null,
  };
}

const RESOURCE_FILTERS = ['type', 'status', 'name', 'action', 'id', 'physical_resource_id'] as const;

/** GET .../resources filters; any other key is refused, as heat-api refuses it. */
export function parseResourceQuery(query: Query): Record<(typeof RESOURCE_FILTERS)[number], string[]> {
  const invalid = Object.keys(query).filter((key) => !(RESOURCE_FILTERS as readonly string[]).includes(key) && key !== 'nested_depth' && key !== 'with_detail');
  if (invalid.length > 0) throw badRequest(`Invalid filter parameters [${invalid.map((k) => `'${k}'`).join(', ')}]`);
  return Object.fromEntries(RESOURCE_FILTERS.map((key) => [key, all(query, key)])) as Record<(typeof RESOURCE_FILTERS)[number], string[]>;
}
