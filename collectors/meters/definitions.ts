import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SAMPLE_TYPES, type SampleType } from '../../core/index.ts';
import { MeterDefinitionError } from './errors.ts';
import { compileJsonPath, type Extractor } from './jsonpath.ts';

/** One field of a meter: a jsonpath into the notification, or a literal. */
type FieldSource = { kind: 'path'; extract: Extractor } | { kind: 'literal'; value: unknown };

export interface MeterDefinition {
  name: string;
  type: SampleType;
  unit: string;
  /** Ceilometer matches each pattern as a regular expression anchored at the start (re.match). */
  eventTypes: readonly RegExp[];
  volume: FieldSource;
  resourceId: FieldSource;
  projectId: FieldSource | null;
  userId: FieldSource | null;
  metadata: ReadonlyArray<readonly [string, FieldSource]>;
}

const REQUIRED = ['name', 'event_type', 'type', 'unit', 'volume', 'resource_id'] as const;

function source(value: unknown): FieldSource {
  return typeof value === 'string' && value.trim().startsWith('$') ? { kind: 'path', extract: compileJsonPath(value) } : { kind: 'literal', value };
}

function parseDefinition(raw: Record<string, unknown>, where: string): MeterDefinition {
  for (const key of REQUIRED) {
    if (raw[key] === undefined || raw[key] === null) throw new MeterDefinitionError(`${where}: missing required field "${key}"`);
  }
  const type = String(raw.type);
  if (!SAMPLE_TYPES.includes(type as SampleType)) throw new MeterDefinitionError(`${where}: type must be one of ${SAMPLE_TYPES.join(', ')}, got "${type}"`);
  const patterns = Array.isArray(raw.event_type) ? raw.event_type : [raw.event_type];
  const eventTypes = patterns.map((pattern) => {
    try {
      return new RegExp(`^(?:${String(pattern)})`);
    } catch (err) {
      throw new MeterDefinitionError(`${where}: event_type "${String(pattern)}" is not a valid regular expression: ${(err as Error).message}`, err);
    }
  });
  const metadata = raw.metadata ?? {};
  if (typeof metadata !== 'object' || Array.isArray(metadata)) throw new MeterDefinitionError(`${where}: metadata must be a mapping of name to jsonpath`);
  return {
    name: String(raw.name),
    type: type as SampleType,
    unit: String(raw.unit),
    eventTypes,
    volume: source(raw.volume),
    resourceId: source(raw.resource_id),
    projectId: raw.project_id === undefined ? null : source(raw.project_id),
    userId: raw.user_id === undefined ? null : source(raw.user_id),
    metadata: Object.entries(metadata as Record<string, unknown>).map(([key, value]) => [key, source(value)] as const),
  };
}

/** Parses meters.yaml text (`metric:` list, Ceilometer's format). */
export function parseMeterDefinitions(text: string, origin: string): MeterDefinition[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new MeterDefinitionError(`${origin}: not valid YAML: ${(err as Error).message}`, err);
  }
  const list = (doc as { metric?: unknown } | null)?.metric;
  if (!Array.isArray(list)) throw new MeterDefinitionError(`${origin}: expected a top-level "metric:" list of meter definitions`);
  return list.map((raw, index) => {
    if (raw === null || typeof raw !== 'object') throw new MeterDefinitionError(`${origin}: metric[${index}] must be a mapping`);
    const name = (raw as { name?: unknown }).name;
    return parseDefinition(raw as Record<string, unknown>, `${origin}: metric[${index}]${name ? ` (${String(name)})` : ''}`);
  });
}

export function loadMeterDefinitions(path: string): MeterDefinition[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MeterDefinitionError(`cannot read meter definitions ${path}: ${(err as Error).message}`, err);
  }
  return parseMeterDefinitions(text, path);
}

/** The definitions shipped with Cumulus (Ceilometer's default meter set, as far as built). */
export const DEFAULT_METERS_FILE = new URL('./meters.yaml', import.meta.url).pathname;
