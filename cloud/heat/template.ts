import { parse as parseYaml } from 'yaml';
import { HOT_VERSIONS, MAX_RESOURCES_PER_STACK, MAX_TEMPLATE_SIZE } from './config.ts';
import {
  badRequest,
  circularDependency,
  HeatError,
  notSupported,
  parameterMissing,
  parameterUnknown,
  requestLimitExceeded,
  stackInvalid,
  templateReferenceInvalid,
  templateVersionInvalid,
} from './errors.ts';
import { isMapping, references } from './functions.ts';

/**
 * HOT templates, the part applications use: version, description, parameters (typed,
 * with defaults), resources (type, properties, metadata, depends_on) and outputs. The
 * checks and their messages follow heat/engine/hot/template.py and heat/engine/parameters.py.
 */

export const PARAMETER_TYPES = ['string', 'number', 'json', 'comma_delimited_list', 'boolean'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

export interface ParameterSchema {
  type: ParameterType;
  default?: unknown;
  description?: string;
  hidden: boolean;
}

export interface ResourceDefinition {
  name: string;
  type: string;
  properties: Record<string, unknown>;
  metadata: Record<string, unknown>;
  /** Every resource this one needs first: depends_on plus what its properties refer to. */
  requires: string[];
}

export interface OutputDefinition {
  value: unknown;
  description: string;
}

export interface Template {
  /** The template as given, parsed: what the stack stores and GET .../template returns. */
  raw: Record<string, unknown>;
  version: string;
  description: string;
  parameters: Record<string, ParameterSchema>;
  resources: Map<string, ResourceDefinition>;
  outputs: Record<string, OutputDefinition>;
  /** Resource names in the order they are created (dependencies first, then template order). */
  order: string[];
}

/** Heat's pseudo parameters, which every template may get_param without declaring them. */
export const PSEUDO_PARAMETERS = ['OS::stack_id', 'OS::stack_name', 'OS::project_id'] as const;

const SECTIONS = new Set(['heat_template_version', 'description', 'parameter_groups', 'parameters', 'resources', 'outputs', 'conditions']);
const RESOURCE_KEYS = new Set(['type', 'properties', 'metadata', 'depends_on', 'deletion_policy', 'update_policy', 'condition', 'external_id']);
const PARAMETER_KEYS = new Set(['type', 'default', 'description', 'label', 'hidden', 'constraints', 'immutable', 'tags']);

/** Parses a template given as a YAML or JSON string, or as an already parsed object. */
export function loadTemplate(input: unknown): Record<string, unknown> {
  if (isMapping(input)) {
    const size = JSON.stringify(input).length;
    if (size > MAX_TEMPLATE_SIZE) throw requestLimitExceeded(`Template size (${size} bytes) exceeds maximum allowed size (${MAX_TEMPLATE_SIZE} bytes).`);
    return input;
  }
  if (typeof input !== 'string') throw badRequest('Template not in valid format: the template must be a string (YAML or JSON) or an object.');
  if (input.length > MAX_TEMPLATE_SIZE) throw requestLimitExceeded(`Template size (${input.length} bytes) exceeds maximum allowed size (${MAX_TEMPLATE_SIZE} bytes).`);
  let parsed: unknown;
  try {
    parsed = parseYaml(input);
  } catch (err) {
    throw badRequest(`Template not in valid format: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) parsed = {};
  if (!isMapping(parsed)) throw badRequest('Template not in valid format: The template is not a JSON object or YAML mapping.');
  return parsed;
}

function parseParameters(section: unknown): Record<string, ParameterSchema> {
  if (section === undefined || section === null) return {};
  if (!isMapping(section)) throw stackInvalid('The template section "parameters" must be a map.');
  const result: Record<string, ParameterSchema> = {};
  for (const [name, raw] of Object.entries(section)) {
    if (!isMapping(raw)) throw stackInvalid(`Invalid parameter schema for parameter: ${name}; it must be a map.`);
    for (const key of Object.keys(raw)) if (!PARAMETER_KEYS.has(key)) throw stackInvalid(`Invalid key '${key}' for parameter (${name})`);
    if (raw.type === undefined) throw stackInvalid(`Missing parameter type for parameter: ${name}`);
    if (!PARAMETER_TYPES.includes(raw.type as ParameterType)) throw stackInvalid(`Invalid type (${String(raw.type)})`);
    const schema: ParameterSchema = { type: raw.type as ParameterType, hidden: raw.hidden === true };
    if (raw.default !== undefined) schema.default = raw.default;
    if (typeof raw.description === 'string') schema.description = raw.description;
    result[name] = schema;
  }
  return result;
}

function parseResource(name: string, raw: unknown): ResourceDefinition {
  const where = `resources.${name}`;
  if (!isMapping(raw)) throw stackInvalid(`${where}: Each resource must contain a type key.`);
  for (const key of Object.keys(raw)) if (!RESOURCE_KEYS.has(key)) throw stackInvalid(`${where}: "${key}" is not a valid keyword inside a resource definition`);
  if (typeof raw.type !== 'string' || raw.type === '') throw stackInvalid(`${where}: Resource ${name} is missing "type" (it must be a string).`);
  if (raw.condition !== undefined) throw notSupported(`${where}: Resource conditions`);
  const properties = raw.properties ?? {};
  if (!isMapping(properties)) throw stackInvalid(`${where}.properties: "properties" must be a map.`);
  const metadata = raw.metadata ?? {};
  if (!isMapping(metadata)) throw stackInvalid(`${where}.metadata: "metadata" must be a map.`);
  const dependsOn = raw.depends_on === undefined || raw.depends_on === null ? [] : Array.isArray(raw.depends_on) ? raw.depends_on : [raw.depends_on];
  for (const dependency of dependsOn) if (typeof dependency !== 'string') throw stackInvalid(`${where}.depends_on: "depends_on" must be a resource name or a list of them.`);
  const requires = [...new Set([...(dependsOn as string[]), ...references(properties), ...references(metadata)])];
  return { name, type: raw.type, properties, metadata, requires };
}

/** Dependencies first; among resources free to go, template order (Kahn's algorithm, deterministic). */
export function creationOrder(resources: ReadonlyMap<string, { requires: readonly string[] }>): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const remaining = [...resources.keys()];
  while (remaining.length > 0) {
    const index = remaining.findIndex((name) => (resources.get(name)?.requires ?? []).every((dependency) => done.has(dependency) || !resources.has(dependency)));
    if (index < 0) throw circularDependency(remaining.map((name) => `${name}: [${(resources.get(name)?.requires ?? []).join(', ')}]`).join('; '));
    const [name] = remaining.splice(index, 1) as [string];
    order.push(name);
    done.add(name);
  }
  return order;
}

/** Parses and validates a template's structure (not its parameter values nor its resource types). */
export function parseTemplate(input: unknown): Template {
  const raw = loadTemplate(input);
  if ('AWSTemplateFormatVersion' in raw || 'HeatTemplateFormatVersion' in raw) {
    throw notSupported(`Template format ${'AWSTemplateFormatVersion' in raw ? 'AWSTemplateFormatVersion' : 'HeatTemplateFormatVersion'} (CFN)`);
  }
  if (!('heat_template_version' in raw)) throw badRequest('Template not in valid format: Template format version not found.');
  // YAML 1.1 loaders turn an unquoted date into a date; Heat compares the text.
  const versionValue = raw.heat_template_version;
  const version = versionValue instanceof Date ? versionValue.toISOString().slice(0, 10) : String(versionValue);
  if (!HOT_VERSIONS.includes(version)) {
    throw templateVersionInvalid(`"heat_template_version: ${version}". "heat_template_version" should be one of: ${[...HOT_VERSIONS].sort().join(', ')}`);
  }
  for (const section of Object.keys(raw)) if (!SECTIONS.has(section)) throw new HeatError('CUMULUS_HEAT_TEMPLATE_SECTION_INVALID', 400, 'InvalidTemplateSection', `The template section is invalid: ${section}`);
  if (raw.conditions !== undefined && !(isMapping(raw.conditions) && Object.keys(raw.conditions).length === 0)) throw notSupported('The template section "conditions"');

  const parameters = parseParameters(raw.parameters);
  const resourcesSection = raw.resources ?? {};
  if (!isMapping(resourcesSection)) throw stackInvalid('The template section "resources" must be a map.');
  const names = Object.keys(resourcesSection);
  if (names.length > MAX_RESOURCES_PER_STACK) throw requestLimitExceeded(`You have reached the maximum resources per stack, ${MAX_RESOURCES_PER_STACK}.`);
  const resources = new Map(names.map((name) => [name, parseResource(name, resourcesSection[name])] as const));
  for (const resource of resources.values()) {
    for (const dependency of resource.requires) if (!resources.has(dependency)) throw templateReferenceInvalid(dependency, resource.name);
  }

  const outputsSection = raw.outputs ?? {};
  if (!isMapping(outputsSection)) throw stackInvalid('The template section "outputs" must be a map.');
  const outputs: Record<string, OutputDefinition> = {};
  for (const [key, output] of Object.entries(outputsSection)) {
    if (!isMapping(output) || !('value' in output)) throw stackInvalid(`outputs.${key}: Each output definition must contain a value key.`);
    for (const dependency of references(output.value)) if (!resources.has(dependency)) throw templateReferenceInvalid(dependency, key);
    outputs[key] = { value: output.value, description: typeof output.description === 'string' ? output.description : 'No description given' };
  }

  const description = typeof raw.description === 'string' ? raw.description : 'No description';
  return { raw, version, description, parameters, resources, outputs, order: creationOrder(resources) };
}

const TRUE = new Set(['true', 't', 'on', 'y', 'yes', '1']);
const FALSE = new Set(['false', 'f', 'off', 'n', 'no', '0']);

function coerce(name: string, schema: ParameterSchema, value: unknown): unknown {
  const invalid = (reason: string) => stackInvalid(`Parameter '${name}' is invalid: ${reason}`);
  switch (schema.type) {
    case 'string':
      if (isMapping(value) || Array.isArray(value)) throw invalid(`Value must be a string; got ${JSON.stringify(value)}`);
      return value === null ? '' : String(value);
    case 'number': {
      const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
      if (!Number.isFinite(number)) throw invalid(`could not convert ${JSON.stringify(value)} to a number`);
      return number;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const word = String(value).toLowerCase();
      if (TRUE.has(word)) return true;
      if (FALSE.has(word)) return false;
      throw invalid(`Unrecognized value ${JSON.stringify(value)}, acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`);
    }
    case 'comma_delimited_list':
      if (Array.isArray(value)) return value.map(String);
      if (typeof value !== 'string') throw invalid(`Value must be a comma-delimited list string; got ${JSON.stringify(value)}`);
      return value === '' ? [] : value.split(',').map((item) => item.trim());
    case 'json':
      if (isMapping(value) || Array.isArray(value)) return value;
      if (typeof value === 'string') {
        try {
          const parsed: unknown = JSON.parse(value);
          if (isMapping(parsed) || Array.isArray(parsed)) return parsed;
        } catch {
          // falls through to the refusal below
        }
      }
      throw invalid(`Value must be valid JSON (a map or a list); got ${JSON.stringify(value)}`);
  }
}

/**
 * The parameter values of a stack: what the user gave, else the environment's
 * parameter_defaults, else the template's default; each coerced to its declared type,
 * plus the pseudo parameters.
 */
export function resolveParameters(
  template: Template,
  given: Readonly<Record<string, unknown>>,
  defaults: Readonly<Record<string, unknown>>,
  stack: { id: string; name: string; projectId: string },
): Record<string, unknown> {
  for (const name of Object.keys(given)) if (!(name in template.parameters)) throw parameterUnknown(name);
  const values: Record<string, unknown> = { 'OS::stack_id': stack.id, 'OS::stack_name': stack.name, 'OS::project_id': stack.projectId };
  for (const [name, schema] of Object.entries(template.parameters)) {
    const value = given[name] !== undefined ? given[name] : defaults[name] !== undefined ? defaults[name] : schema.default;
    if (value === undefined) throw parameterMissing(name);
    values[name] = coerce(name, schema, value);
  }
  return values;
}

/** How a stack shows its parameters: every value as text (Heat's `parameters.map(str)`); hidden ones masked. */
export function parameterStrings(template: Template, values: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => {
      if (template.parameters[name]?.hidden) return [name, '******'];
      if (typeof value === 'string') return [name, value];
      if (Array.isArray(value) && template.parameters[name]?.type === 'comma_delimited_list') return [name, value.join(',')];
      return [name, typeof value === 'object' ? JSON.stringify(value) : String(value)];
    }),
  );
}
