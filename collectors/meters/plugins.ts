import { isDict, pyEquals, pySplit, pyStr } from './python.ts';
import { parseIsoTime, secondsBetween } from './timestamps.ts';

/**
 * Ceilometer's trait plugins (ceilometer.event.trait_plugin), the ones a meter's field can
 * name with `plugin:`. Each gets the matches of the field's jsonpaths as (path, value)
 * pairs and returns values; undefined stands for Python's None (dropped by the caller).
 */
export interface FieldPlugin {
  readonly name: string;
  /** Whether it may run where a `lookup` wants every value (Ceilometer refuses the others there). */
  readonly allValues: boolean;
  values(matches: ReadonlyArray<readonly [string, unknown]>): unknown[];
}

export class PluginParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginParameterError';
  }
}

type Parameters = Record<string, unknown>;

const integer = (value: unknown, name: string): number => {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw new PluginParameterError(`parameter ${name} must be an integer, got ${JSON.stringify(value)}`);
};

/** `split`: one segment of the string form of each value (deprecated in Ceilometer for `split()` in the path). */
function split(parameters: Parameters): FieldPlugin {
  const separator = parameters.separator ?? '.';
  if (typeof separator !== 'string' || separator === '') throw new PluginParameterError(`parameter separator must be a non-empty string, got ${JSON.stringify(separator)}`);
  const segment = integer(parameters.segment ?? 0, 'segment');
  const maxSplit = parameters.max_split === undefined || parameters.max_split === null ? -1 : integer(parameters.max_split, 'max_split');
  return {
    name: 'split',
    allValues: true,
    values: (matches) =>
      matches.map(([, value]) => {
        const parts = pySplit(pyStr(value), separator, maxSplit);
        // Python indexes from the end for a negative segment.
        return parts[segment < 0 ? parts.length + segment : segment];
      }),
  };
}

/** `bitfield`: sets bits for the flags whose path matched (with the given value, if any). */
function bitfield(parameters: Parameters): FieldPlugin {
  const initial = integer(parameters.initial_bitfield ?? 0, 'initial_bitfield');
  const flags = parameters.flags ?? [];
  if (!Array.isArray(flags) || !flags.every(isDict)) throw new PluginParameterError('parameter flags must be a list of {path, bit[, value]} mappings');
  const parsed = flags.map((flag, i) => {
    if (typeof flag.path !== 'string') throw new PluginParameterError(`flags[${i}].path must be a string`);
    return { path: flag.path, bit: BigInt(integer(Number(flag.bit), `flags[${i}].bit`)), hasValue: Object.hasOwn(flag, 'value'), value: flag.value };
  });
  return {
    name: 'bitfield',
    allValues: false,
    values: (matches) => {
      const byPath = new Map(matches.map(([path, value]) => [path, value] as const));
      let bits = BigInt(initial);
      for (const flag of parsed) {
        if (!byPath.has(flag.path)) continue;
        if (!flag.hasValue || pyEquals(byPath.get(flag.path), flag.value)) bits |= 1n << flag.bit;
      }
      return [Number(bits)];
    },
  };
}

/** `timedelta`: the seconds between two times (two fields, in either order). */
function timedelta(): FieldPlugin {
  return {
    name: 'timedelta',
    allValues: false,
    values: (matches) => {
      if (matches.length !== 2) return [undefined];
      const start = parseIsoTime((matches[0] as readonly [string, unknown])[1]);
      const end = parseIsoTime((matches[1] as readonly [string, unknown])[1]);
      return [start && end ? secondsBetween(start, end) : undefined];
    },
  };
}

const PLUGINS: Readonly<Record<string, (parameters: Parameters) => FieldPlugin>> = { split, bitfield, timedelta };

export const PLUGIN_NAMES = Object.keys(PLUGINS);

export function createPlugin(name: string, parameters: Parameters): FieldPlugin | undefined {
  return PLUGINS[name]?.(parameters);
}
