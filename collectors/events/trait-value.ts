import type { TraitType } from '../../core/index.ts';
import { parseIsoTime } from './iso8601.ts';
import { PythonValueError, pyFloat, pyInt, pyStr, pyTruncate } from './python-values.ts';

/** Ceilometer's trait type names (event_definitions.yaml) and ours (the Panko model's). */
export const TRAIT_TYPES: Readonly<Record<string, TraitType>> = { text: 'string', int: 'int', float: 'float', datetime: 'datetime' };

/** Ceilometer crops text traits to the column size of its SQL storage; Panko's API shows them cropped. */
export const MAX_TEXT_TRAIT_LENGTH = 255;

/**
 * TraitDefinition.to_trait + Trait.convert_value: undefined when there is no trait (no
 * value; or '' for a non-text type, since Nova sends '' for unset dates), else the value
 * as the type makes it. Throws PythonValueError where Ceilometer's conversion raises.
 */
export function toTraitValue(type: TraitType, value: unknown): string | number | undefined {
  if (value === undefined || value === null) return undefined;
  if (type === 'string') return pyTruncate(pyStr(value), MAX_TEXT_TRAIT_LENGTH);
  if (value === '') return undefined;
  if (type === 'int') return pyInt(value);
  if (type === 'float') return pyFloat(value);
  const time = parseIsoTime(value);
  if (!time) throw new PythonValueError(`${JSON.stringify(pyStr(value))} is not an ISO 8601 time`);
  return time.iso;
}
