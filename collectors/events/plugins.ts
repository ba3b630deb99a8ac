import { parseIsoTime } from './iso8601.ts';
import { PyFloat, PythonValueError, isDict, pyEquals, pyIndex, pyInt, pySplit, pyStr } from './python-values.ts';

/**
 * Ceilometer's trait plugins (ceilometer.event.trait_plugin entry points): `split`,
 * `bitfield` and `timedelta`. A plugin gets every non-null match of the trait's fields as
 * (dotted path, value) and returns candidate values; the first that is not null becomes
 * the trait.
 */
export type TraitPlugin = (matches: ReadonlyArray<readonly [string, unknown]>) => unknown[];

/** A plugin's parameters are wrong; the message names the parameter. Internal: definitions.ts names the trait. */
export class PluginConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginConfigError';
  }
}

export const TRAIT_PLUGINS = ['split', 'bitfield', 'timedelta'] as const;

function refuseUnknown(plugin: string, parameters: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(parameters).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new PluginConfigError(`plugin ${plugin} has no parameter ${unknown.map((key) => `"${key}"`).join(', ')} (it takes ${known.length > 0 ? known.join(', ') : 'none'})`);
}

function integer(plugin: string, name: string, value: unknown): number {
  // Ceilometer passes these to Python as they are; only an int (or for `bit`, int()) works there.
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw new PluginConfigError(`plugin ${plugin}: ${name} must be a whole number, got ${JSON.stringify(value)}`);
}

/**
 * `split` (deprecated in Ceilometer in favour of the `split()` path operator): str() of each
 * value split on `separator` (default "."), at most `max_split` times, and `segment` of it.
 */
function splitPlugin(parameters: Record<string, unknown>): TraitPlugin {
  refuseUnknown('split', parameters, ['separator', 'segment', 'max_split']);
  const separator = parameters.separator ?? '.';
  if (typeof separator !== 'string' || separator === '') throw new PluginConfigError(`plugin split: separator must be non-empty text, got ${JSON.stringify(separator)}`);
  const segment = integer('split', 'segment', parameters.segment ?? 0);
  const maxSplit = parameters.max_split === undefined || parameters.max_split === null ? -1 : integer('split', 'max_split', parameters.max_split);
  return (matches) => matches.map(([, value]) => pyIndex(pySplit(pyStr(value), separator, maxSplit), segment) ?? null);
}

interface Flag {
  path: string;
  bit: bigint;
  hasValue: boolean;
  value: unknown;
}

/**
 * `bitfield`: starts from `initial_bitfield` and sets bit `bit` of each flag whose `path`
 * matched (with `value`, only when the matched value equals it). Always yields a value.
 */
function bitfieldPlugin(parameters: Record<string, unknown>): TraitPlugin {
  refuseUnknown('bitfield', parameters, ['initial_bitfield', 'flags']);
  const initial = BigInt(integer('bitfield', 'initial_bitfield', parameters.initial_bitfield ?? 0));
  const rawFlags = parameters.flags ?? [];
  if (!Array.isArray(rawFlags)) throw new PluginConfigError(`plugin bitfield: flags must be a list of {path, bit, value?}, got ${JSON.stringify(rawFlags)}`);
  const flags: Flag[] = rawFlags.map((flag: unknown, i) => {
    if (!isDict(flag)) throw new PluginConfigError(`plugin bitfield: flags[${i}] must be a mapping with path and bit`);
    refuseUnknown(`bitfield flags[${i}]`, flag, ['path', 'bit', 'value']);
    if (typeof flag.path !== 'string') throw new PluginConfigError(`plugin bitfield: flags[${i}].path must be the dotted path of a field, got ${JSON.stringify(flag.path)}`);
    let bit: number;
    try {
      // int(flagdef['bit']): "3" is as good as 3.
      bit = typeof flag.bit === 'boolean' ? NaN : pyInt(flag.bit);
    } catch (err) {
      if (!(err instanceof PythonValueError)) throw err;
      bit = NaN;
    }
    if (!Number.isInteger(bit) || bit < 0) throw new PluginConfigError(`plugin bitfield: flags[${i}].bit must be a bit number (0 is the lowest), got ${JSON.stringify(flag.bit)}`);
    return { path: flag.path, bit: 1n << BigInt(bit), hasValue: Object.hasOwn(flag, 'value'), value: flag.value };
  });
  return (matches) => {
    const byPath = new Map<string, unknown>(matches);
    let bitfield = initial;
    for (const flag of flags) {
      if (!byPath.has(flag.path)) continue;
      if (!flag.hasValue || pyEquals(byPath.get(flag.path), flag.value)) bitfield |= flag.bit;
    }
    return [Number(bitfield)];
  };
}

/** `timedelta`: the absolute number of seconds between exactly two timestamps, as a float. */
function timedeltaPlugin(parameters: Record<string, unknown>): TraitPlugin {
  refuseUnknown('timedelta', parameters, []);
  return (matches) => {
    if (matches.length !== 2) return [null];
    const start = parseIsoTime(matches[0]?.[1]);
    const end = parseIsoTime(matches[1]?.[1]);
    if (!start || !end) return [null];
    const micros = (end.seconds - start.seconds) * 1_000_000 + (end.micros - start.micros);
    return [new PyFloat(Math.abs(micros) / 1_000_000)];
  };
}

export function createTraitPlugin(name: string, parameters: Record<string, unknown>): TraitPlugin {
  switch (name) {
    case 'split':
      return splitPlugin(parameters);
    case 'bitfield':
      return bitfieldPlugin(parameters);
    case 'timedelta':
      return timedeltaPlugin(parameters);
    default:
      throw new PluginConfigError(`no plugin named "${name}" (known: ${TRAIT_PLUGINS.join(', ')})`);
  }
}
