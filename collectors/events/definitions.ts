import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { TraitType } from '../../core/index.ts';
import { JsonPathSyntaxError, compileJsonPath, matchPath } from '../meters/jsonpath/index.ts';
import { EventDefinitionError } from './errors.ts';
import { PluginConfigError, createTraitPlugin, type TraitPlugin } from './plugins.ts';
import { isDict } from './python-values.ts';
import { TRAIT_TYPES } from './trait-value.ts';
import { wildcardToRegExp } from './wildcard.ts';

/** One trait of a definition, compiled. */
export interface TraitDefinition {
  name: string;
  type: TraitType;
  /** The fields as written, for messages. */
  fields: string;
  /**
   * The value before type conversion, undefined when there is none. Reads Ceilometer's
   * view of a notification (`ctxt`, `publisher_id`, `event_type`, `payload`, `metadata`);
   * throws JsonPathEvaluationError where jsonpath_rw raises.
   */
  read(body: unknown): unknown;
}

/** One entry of event_definitions.yaml, compiled, with Ceilometer's default traits merged in. */
export interface EventDefinition {
  origin: string;
  /** Position in its file, from 0; -1 for the catch-all the converter adds. */
  index: number;
  eventTypes: readonly string[];
  included: readonly RegExp[];
  excluded: readonly RegExp[];
  /** Matches every event type (`*` and no exclusion): the converter then adds no catch-all of its own. */
  isCatchAll: boolean;
  /** Default traits first, each replaced in place by a definition trait of the same name. */
  traits: readonly TraitDefinition[];
}

/** Ceilometer's EventDefinition.DEFAULT_TRAITS: on every event, unless a definition redefines the name. */
export const DEFAULT_TRAITS: Readonly<Record<string, { fields: readonly string[] }>> = {
  service: { fields: ['publisher_id'] },
  request_id: { fields: ['ctxt.request_id'] },
  project_id: { fields: ['payload.tenant_id', 'ctxt.project_id'] },
  user_id: { fields: ['payload.user_id', 'ctxt.user_id'] },
  // Old name of project_id, kept by Ceilometer too.
  tenant_id: { fields: ['payload.tenant_id', 'ctxt.project_id'] },
};

/** The definitions shipped with Cumulus: Ceilometer's default event set, written for Cumulus. */
export const DEFAULT_EVENT_DEFINITIONS_FILE = fileURLToPath(new URL('./event_definitions.yaml', import.meta.url));

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

interface Where {
  origin: string;
  index: number;
  label: string;
}

function fail(where: Where, field: string | null, message: string, cause?: unknown): never {
  throw new EventDefinitionError(`${where.label}: ${message}`, where.origin, where.index < 0 ? null : where.index, field, cause);
}

/** A list of paths is their union, each in parentheses, exactly as Ceilometer joins them. */
export function joinFieldPaths(paths: readonly string[]): string {
  return paths.length === 1 ? (paths[0] as string) : paths.map((path) => `(${path})`).join('|');
}

function compileReader(where: Where, field: string, name: string, fields: unknown, plugin: TraitPlugin | null): { source: string; read: (body: unknown) => unknown } {
  let spec = fields;
  if (Array.isArray(spec)) {
    if (spec.length === 0) fail(where, field, `trait "${name}": fields is an empty list; give a path or a list of paths`);
    if (spec.length === 1) spec = spec[0];
    else {
      const bad = spec.find((item) => typeof item !== 'string');
      if (bad !== undefined) fail(where, field, `trait "${name}": every entry of fields must be a path, got ${describe(bad)}`);
      spec = joinFieldPaths(spec as string[]);
    }
  }
  // Ceilometer takes an integer (a bool is one in Python) as the value itself, plugin or not.
  if (typeof spec === 'boolean' || (typeof spec === 'number' && Number.isInteger(spec))) {
    const constant = spec;
    return { source: String(spec), read: () => constant };
  }
  if (typeof spec !== 'string') fail(where, field, `trait "${name}": fields must be a path, a list of paths or an integer, got ${describe(spec)}`);
  let path;
  try {
    // The jsonpath-rw-ext dialect Ceilometer parses fields with, shared with the meter definitions.
    path = compileJsonPath(spec);
  } catch (err) {
    if (!(err instanceof JsonPathSyntaxError)) throw err;
    fail(where, field, `trait "${name}": fields ${describe(spec)} is not a valid path: ${err.message}`, err);
  }
  if (!plugin) return { source: spec, read: (body) => path.first(body) };
  const compiled = path;
  return {
    source: spec,
    read: (body) => {
      // A plugin sees every match that is not None, with its dotted path (`payload.state`).
      const matches: Array<readonly [string, unknown]> = [];
      for (const match of compiled.find(body)) if (match.value !== null && match.value !== undefined) matches.push([matchPath(match), match.value]);
      for (const value of plugin(matches)) if (value !== null && value !== undefined) return value;
      return undefined;
    },
  };
}

function compilePlugin(where: Where, field: string, name: string, config: unknown): TraitPlugin {
  let pluginName: unknown;
  let parameters: unknown = {};
  if (typeof config === 'string') pluginName = config;
  else if (isDict(config)) {
    pluginName = config.name;
    if (pluginName === undefined) fail(where, `${field}.plugin`, `trait "${name}": plugin is given without a name`);
    parameters = config.parameters ?? {};
  } else fail(where, `${field}.plugin`, `trait "${name}": plugin must be a name or {name, parameters}, got ${describe(config)}`);
  if (typeof pluginName !== 'string') fail(where, `${field}.plugin`, `trait "${name}": plugin name must be text, got ${describe(pluginName)}`);
  if (!isDict(parameters)) fail(where, `${field}.plugin.parameters`, `trait "${name}": plugin parameters must be a mapping, got ${describe(parameters)}`);
  try {
    return createTraitPlugin(pluginName, parameters);
  } catch (err) {
    if (!(err instanceof PluginConfigError)) throw err;
    fail(where, `${field}.plugin`, `trait "${name}": ${err.message}`, err);
  }
}

function compileTrait(where: Where, name: string, config: unknown): TraitDefinition {
  const field = `traits.${name}`;
  let fields: unknown = config;
  let typeName: unknown = 'text';
  let plugin: TraitPlugin | null = null;
  if (isDict(config)) {
    if (!Object.hasOwn(config, 'fields')) fail(where, `${field}.fields`, `trait "${name}" has no fields (the path of its value)`);
    fields = config.fields;
    if (Object.hasOwn(config, 'type')) typeName = config.type;
    if (Object.hasOwn(config, 'plugin')) plugin = compilePlugin(where, field, name, config.plugin);
  }
  // Ceilometer looks the type up by its upper-cased name.
  const type = typeof typeName === 'string' && Object.hasOwn(TRAIT_TYPES, typeName.toLowerCase()) ? TRAIT_TYPES[typeName.toLowerCase()] : undefined;
  if (!type) fail(where, `${field}.type`, `trait "${name}": type must be one of ${Object.keys(TRAIT_TYPES).join(', ')}, got ${describe(typeName)}`);
  const reader = compileReader(where, `${field}.fields`, name, fields, plugin);
  return { name, type, fields: reader.source, read: reader.read };
}

const DEFAULT_TRAIT_DEFINITIONS: readonly TraitDefinition[] = Object.entries(DEFAULT_TRAITS).map(([name, { fields }]) =>
  compileTrait({ origin: 'DEFAULT_TRAITS', index: -1, label: 'DEFAULT_TRAITS' }, name, { fields: [...fields] }),
);

function compileDefinition(raw: unknown, index: number, origin: string): EventDefinition {
  const where: Where = { origin, index, label: `${origin}: definitions[${index}]` };
  if (!isDict(raw)) fail(where, null, `must be a mapping with event_type and traits, got ${describe(raw)}`);
  if (!Object.hasOwn(raw, 'event_type')) fail(where, 'event_type', 'has no event_type (an event type, a wildcard, or a list of them)');
  const eventType = raw.event_type;
  const patterns = typeof eventType === 'string' ? [eventType] : eventType;
  if (!Array.isArray(patterns) || patterns.some((p) => typeof p !== 'string')) fail(where, 'event_type', `event_type must be text or a list of text, got ${describe(eventType)}`);
  const eventTypes = patterns as string[];
  where.label = `${origin}: definitions[${index}] (event_type ${describe(eventType)})`;
  if (!Object.hasOwn(raw, 'traits')) fail(where, 'traits', 'has no traits (a mapping of trait name to its fields; {} for none)');
  const traits = raw.traits;
  if (!isDict(traits)) fail(where, 'traits', `traits must be a mapping of trait name to its definition, got ${describe(traits)}`);
  const included = eventTypes.filter((p) => !p.startsWith('!'));
  const excluded = eventTypes.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  // Only exclusions: everything else matches.
  if (excluded.length > 0 && included.length === 0) included.push('*');
  const merged = new Map<string, TraitDefinition>(DEFAULT_TRAIT_DEFINITIONS.map((trait) => [trait.name, trait]));
  for (const [name, config] of Object.entries(traits)) merged.set(name, compileTrait(where, name, config));
  return {
    origin,
    index,
    eventTypes,
    included: included.map(wildcardToRegExp),
    excluded: excluded.map(wildcardToRegExp),
    isCatchAll: included.includes('*') && excluded.length === 0,
    traits: [...merged.values()],
  };
}

/** Ceilometer's fallback when drop_unmatched_notifications is off: any event type, default traits only. */
export function catchAllDefinition(): EventDefinition {
  return compileDefinition({ event_type: '*', traits: {} }, -1, 'catch-all');
}

export function matchesEventType(definition: EventDefinition, eventType: string): boolean {
  return definition.included.some((re) => re.test(eventType)) && !definition.excluded.some((re) => re.test(eventType));
}

/** Parses event_definitions.yaml text: a list of {event_type, traits}. `origin` names it in errors. Stable. */
export function parseEventDefinitions(text: string, origin: string): EventDefinition[] {
  let doc: unknown;
  try {
    // YAML 1.1 as PyYAML reads it: merge keys (`<<: *instance_traits`), and a repeated key is not an error.
    doc = parseYaml(text, { version: '1.1', merge: true, uniqueKeys: false });
  } catch (err) {
    throw new EventDefinitionError(`${origin}: not valid YAML: ${(err as Error).message}`, origin, null, null, err);
  }
  if (!Array.isArray(doc)) throw new EventDefinitionError(`${origin}: expected a list of event definitions ({event_type, traits}), got ${doc === null || doc === undefined ? 'an empty document' : typeof doc}`, origin);
  return doc.map((raw, index) => compileDefinition(raw, index, origin));
}

/** Reads and parses an event definitions file. Stable. */
export function loadEventDefinitions(path: string): EventDefinition[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EventDefinitionError(`cannot read event definitions ${path}: ${(err as Error).message}`, path, null, null, err);
  }
  return parseEventDefinitions(text, path);
}
