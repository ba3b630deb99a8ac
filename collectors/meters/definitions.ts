import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, type Tags } from 'yaml';
import { SAMPLE_TYPES, type SampleType } from '../../core/index.ts';
import { MeterDefinitionError } from './errors.ts';
import { compileJsonPath, JsonPathSyntaxError, matchPath, type CompiledPath } from './jsonpath/index.ts';
import { createPlugin, PLUGIN_NAMES, PluginParameterError, type FieldPlugin } from './plugins.ts';
import { isDict, pyStr, pythonRegex, PythonRegexError, truthy } from './python.ts';

/** The sample fields a definition may set, in the order Ceilometer reads them. */
export const SAMPLE_ATTRIBUTES = ['name', 'type', 'volume', 'unit', 'timestamp', 'user_id', 'project_id', 'resource_id'] as const;
export type SampleAttribute = (typeof SAMPLE_ATTRIBUTES)[number];

const REQUIRED = ['name', 'type', 'event_type', 'unit', 'volume', 'resource_id'] as const;

/**
 * One field of a definition, as Ceilometer's declarative.Definition reads it: a literal
 * number, or jsonpaths (a list of them is their union) with an optional plugin. Every
 * string is a jsonpath, so `unit: GB` is the path `GB`, which finds nothing in a
 * notification and leaves the definition's own `GB` in place.
 */
export interface Field {
  readonly source: string;
  readonly literal: boolean;
  readonly plugin: FieldPlugin | null;
  /** The first value that is not None, or undefined (`Definition.parse(message)`). */
  first(message: unknown): unknown;
  /** Every value, None included (`Definition.parse(message, True)`, for lookups). */
  all(message: unknown): readonly unknown[];
}

export interface MeterDefinition {
  /** Where it was defined, for messages: `file: metric[3]`. */
  readonly origin: string;
  /** The name as written (a jsonpath for meters that take their names from the payload). */
  readonly name: string;
  /** The type and unit as written: the samples' unless a jsonpath (with `lookup`) supplies them. */
  readonly type: unknown;
  readonly unit: unknown;
  /** Matched like Python's re.match: anchored at the start only. */
  readonly eventTypes: readonly RegExp[];
  /** Fields whose jsonpaths give one value per sample (Ceilometer's `lookup`), or null. */
  readonly lookup: readonly string[] | null;
  readonly attributes: Readonly<Partial<Record<SampleAttribute, Field>>>;
  /** Definitions written with the same metadata share this array (and their user_metadata field), so the mapper reads it once per notification. */
  readonly metadata: ReadonlyArray<readonly [string, Field]>;
  /** Where the resource's user metadata is (`metering.*` keys become `user_metadata`). */
  readonly userMetadata: Field | null;
}

function compileField(config: unknown, where: string): Field {
  let plugin: FieldPlugin | null = null;
  let fields = config;
  if (isDict(config)) {
    if (!Object.hasOwn(config, 'fields')) throw new MeterDefinitionError(`${where}: a mapping needs "fields" (jsonpaths), got keys ${Object.keys(config).join(', ')}`);
    if (config.plugin !== undefined) plugin = compilePlugin(config.plugin, where);
    fields = config.fields;
  }
  if (Array.isArray(fields)) fields = fields.length === 1 ? fields[0] : fields.map((path) => `(${pyStr(path)})`).join('|');
  // Python's isinstance(x, int): booleans too. A float is no int and no jsonpath: Ceilometer refuses it.
  if (typeof fields === 'boolean' || (typeof fields === 'number' && Number.isInteger(fields))) {
    const value = fields;
    return { source: String(value), literal: true, plugin: null, first: () => value, all: () => [value] };
  }
  if (typeof fields !== 'string') throw new MeterDefinitionError(`${where}: expected a jsonpath, a list of jsonpaths or an integer, got ${JSON.stringify(fields)}`);
  let path: CompiledPath;
  try {
    path = compileJsonPath(fields);
  } catch (err) {
    if (err instanceof JsonPathSyntaxError) throw new MeterDefinitionError(`${where}: ${err.message}`, err);
    throw err;
  }
  return pathField(path, plugin);
}

function pathField(path: CompiledPath, plugin: FieldPlugin | null): Field {
  if (!plugin) return { source: path.source, literal: false, plugin, first: path.first, all: path.values };
  const run = (message: unknown, all: boolean) => {
    const matches = path.find(message).filter((m) => all || (m.value !== null && m.value !== undefined));
    return plugin.values(matches.map((m) => [matchPath(m), m.value] as const)).filter((v) => v !== null && v !== undefined);
  };
  return { source: path.source, literal: false, plugin, first: (m) => run(m, false)[0], all: (m) => run(m, true) };
}

function compilePlugin(config: unknown, where: string): FieldPlugin {
  let name: unknown = config;
  let parameters: unknown = {};
  if (isDict(config)) {
    name = config.name;
    if (name === undefined) throw new MeterDefinitionError(`${where}: plugin given without a name`);
    parameters = config.parameters ?? {};
  }
  if (typeof name !== 'string' || !isDict(parameters)) throw new MeterDefinitionError(`${where}: plugin must be a name or {name, parameters}, got ${JSON.stringify(config)}`);
  try {
    const plugin = createPlugin(name, parameters);
    if (!plugin) throw new MeterDefinitionError(`${where}: no plugin named "${name}" (available: ${PLUGIN_NAMES.join(', ')})`);
    return plugin;
  } catch (err) {
    if (err instanceof PluginParameterError) throw new MeterDefinitionError(`${where}: plugin ${name}: ${err.message}`, err);
    throw err;
  }
}

function eventTypePatterns(raw: unknown, where: string): RegExp[] {
  const patterns = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(patterns) || patterns.length === 0) throw new MeterDefinitionError(`${where}: event_type must be a regular expression or a list of them, got ${JSON.stringify(raw)}`);
  return patterns.map((pattern) => {
    if (typeof pattern !== 'string') throw new MeterDefinitionError(`${where}: event_type entries must be strings, got ${JSON.stringify(pattern)}`);
    try {
      return pythonRegex(pattern, true);
    } catch (err) {
      if (err instanceof PythonRegexError) throw new MeterDefinitionError(`${where}: event_type "${pattern}" is not a valid regular expression: ${err.message}`, err);
      throw err;
    }
  });
}

function lookupFields(raw: unknown, where: string): string[] | null {
  if (!truthy(raw)) return null;
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || !list.every((f) => typeof f === 'string')) throw new MeterDefinitionError(`${where}: lookup must be a field name or a list of them, got ${JSON.stringify(raw)}`);
  return list;
}

/** Compiled fields and metadata by their YAML text, within one file: the same text, the same objects. */
interface Shared {
  fields: Map<string, Field>;
  metadata: Map<string, ReadonlyArray<readonly [string, Field]>>;
}

function sharedField(shared: Shared, config: unknown, where: string): Field {
  const key = JSON.stringify(config);
  let field = shared.fields.get(key);
  if (!field) {
    field = compileField(config, where);
    shared.fields.set(key, field);
  }
  return field;
}

function parseDefinition(raw: Record<string, unknown>, where: string, shared: Shared): MeterDefinition {
  for (const key of REQUIRED) {
    // Ceilometer's test is `not cfg.get(field)`: an empty or zero value is missing too.
    if (!truthy(raw[key])) throw new MeterDefinitionError(`${where}: missing required field "${key}"`);
  }
  if (typeof raw.name !== 'string') throw new MeterDefinitionError(`${where}: name must be a string (a meter name or a jsonpath), got ${JSON.stringify(raw.name)}`);
  const lookup = lookupFields(raw.lookup, where);
  if (!lookup?.includes('type') && !SAMPLE_TYPES.includes(raw.type as SampleType)) {
    throw new MeterDefinitionError(`${where}: type must be one of ${SAMPLE_TYPES.join(', ')}, got "${String(raw.type)}"`);
  }
  const attributes: Partial<Record<SampleAttribute, Field>> = {};
  for (const attribute of SAMPLE_ATTRIBUTES) {
    if (!truthy(raw[attribute])) continue;
    const field = compileField(raw[attribute], `${where}: ${attribute}`);
    // Ceilometer accepts these and then fails on every notification the meter matches.
    if (lookup && field.literal) throw new MeterDefinitionError(`${where}: ${attribute}: a literal value cannot be used in a definition with lookup`);
    if (lookup && field.plugin && !field.plugin.allValues) throw new MeterDefinitionError(`${where}: ${attribute}: plugin ${field.plugin.name} cannot give the several values a lookup needs`);
    attributes[attribute] = field;
  }
  const metadata = raw.metadata === undefined ? {} : raw.metadata;
  if (!isDict(metadata)) throw new MeterDefinitionError(`${where}: metadata must be a mapping of name to jsonpath, got ${JSON.stringify(metadata)}`);
  const metadataKey = JSON.stringify(Object.entries(metadata));
  let metadataFields = shared.metadata.get(metadataKey);
  if (!metadataFields) {
    metadataFields = Object.entries(metadata).map(([key, value]) => [key, sharedField(shared, value, `${where}: metadata.${key}`)] as const);
    shared.metadata.set(metadataKey, metadataFields);
  }
  return {
    origin: where,
    name: raw.name,
    type: raw.type,
    unit: raw.unit,
    eventTypes: eventTypePatterns(raw.event_type, where),
    lookup,
    attributes,
    metadata: metadataFields,
    userMetadata: truthy(raw.user_metadata) ? sharedField(shared, raw.user_metadata, `${where}: user_metadata`) : null,
  };
}

/** Within one file a later definition of a name replaces an earlier one, as in Ceilometer. */
function lastOfEachName(definitions: readonly MeterDefinition[]): MeterDefinition[] {
  const seen = new Set<string>();
  const kept: MeterDefinition[] = [];
  for (let i = definitions.length - 1; i >= 0; i--) {
    const definition = definitions[i] as MeterDefinition;
    if (seen.has(definition.name)) continue;
    seen.add(definition.name);
    kept.push(definition);
  }
  return kept.reverse();
}

// PyYAML's booleans: YAML 1.1's without y/Y/n/N, which PyYAML reads as strings.
const PYYAML_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PYYAML_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const pyyamlTags = (tags: Tags): Tags =>
  tags.map((tag) => (typeof tag === 'object' && tag.tag === 'tag:yaml.org,2002:bool' && tag.test ? { ...tag, test: tag.test.test('true') ? PYYAML_TRUE : PYYAML_FALSE } : tag));

/** Parses meters.yaml text (a `metric:` list, Ceilometer's format) read as PyYAML's safe_load reads it (YAML 1.1, `<<` merges). */
export function parseMeterDefinitions(text: string, origin: string): MeterDefinition[] {
  let doc: unknown;
  try {
    doc = parseYaml(text, { version: '1.1', uniqueKeys: false, customTags: pyyamlTags });
  } catch (err) {
    throw new MeterDefinitionError(`${origin}: not valid YAML: ${(err as Error).message}`, err);
  }
  const list = (doc as { metric?: unknown } | null)?.metric;
  if (!Array.isArray(list)) throw new MeterDefinitionError(`${origin}: expected a top-level "metric:" list of meter definitions`);
  const shared: Shared = { fields: new Map(), metadata: new Map() };
  return lastOfEachName(
    list.map((raw, index) => {
      if (!isDict(raw)) throw new MeterDefinitionError(`${origin}: metric[${index}] must be a mapping`);
      return parseDefinition(raw, `${origin}: metric[${index}]${raw.name ? ` (${String(raw.name)})` : ''}`, shared);
    }),
  );
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new MeterDefinitionError(`cannot read meter definitions ${path}: ${(err as Error).message}`, err);
  }
}

/** The files a source names: a file, or every `*.yaml` of a directory in name order (Ceilometer's meters.d). */
function filesOf(source: string): string[] {
  let directory = false;
  try {
    directory = statSync(source).isDirectory();
  } catch (err) {
    throw new MeterDefinitionError(`cannot read meter definitions ${source}: ${(err as Error).message}`, err);
  }
  if (!directory) return [source];
  return readdirSync(source)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => join(source, name));
}

/**
 * Loads meter definitions from files or directories. Across files the first definition
 * of a name wins, as in Ceilometer's meter_definitions_dirs; an invalid definition is
 * refused with the file, the meter and the field named (Ceilometer logs and skips it).
 */
export function loadMeterDefinitions(sources: string | readonly string[]): MeterDefinition[] {
  const seen = new Set<string>();
  const out: MeterDefinition[] = [];
  for (const file of (typeof sources === 'string' ? [sources] : sources).flatMap(filesOf)) {
    for (const definition of parseMeterDefinitions(readText(file), file)) {
      if (seen.has(definition.name)) continue;
      seen.add(definition.name);
      out.push(definition);
    }
  }
  return out;
}

/** The definitions shipped with Cumulus: Ceilometer's default meter set, written for Cumulus. */
export const DEFAULT_METERS_FILE = new URL('./meters.yaml', import.meta.url).pathname;
