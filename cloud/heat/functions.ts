import { stackInvalid } from './errors.ts';

/**
 * HOT's intrinsic functions, the ones application templates use: get_param,
 * get_resource, get_attr, list_join and str_replace (heat/engine/hot/functions.py).
 * Any other single-key mapping is data, as Heat treats a key it does not register.
 */

/** A value not known until a resource exists (get_resource, get_attr while validating). */
export const UNRESOLVED: unique symbol = Symbol('unresolved');
export type Unresolved = typeof UNRESOLVED;

export interface FunctionScope {
  /** A parameter's value; throws when the template declares no such parameter. */
  param(name: string): unknown;
  /** The physical id of a resource of this stack (null before it has one), or UNRESOLVED. */
  resourceId(name: string): string | null | Unresolved;
  /** An attribute of a resource of this stack (null when it has none), or UNRESOLVED. */
  attribute(name: string, attribute: string): unknown;
}

export const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** True when a resolved value is, or holds, something only known once resources exist. */
export function containsUnresolved(value: unknown): boolean {
  if (value === UNRESOLVED) return true;
  if (Array.isArray(value)) return value.some(containsUnresolved);
  if (isMapping(value)) return Object.values(value).some(containsUnresolved);
  return false;
}

/** Follows get_param / get_attr's extra path items (map keys, list indexes) into a value. */
function walk(value: unknown, path: readonly unknown[], where: string): unknown {
  let current = value;
  for (const step of path) {
    if (current === UNRESOLVED || current === null || current === undefined) return current;
    if (Array.isArray(current)) {
      const index = typeof step === 'number' ? step : Number(step);
      if (!Number.isInteger(index)) throw stackInvalid(`${where}: Path components in attributes must be integers for lists; got ${JSON.stringify(step)}`);
      current = current[index] ?? null;
    } else if (isMapping(current)) {
      current = current[String(step)] ?? null;
    } else {
      throw stackInvalid(`${where}: Cannot follow path ${JSON.stringify(step)} into a ${typeof current}`);
    }
  }
  return current;
}

/** How list_join and str_replace turn a non-string into text (Heat JSON-serializes maps and lists). */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const FUNCTIONS = new Set(['get_param', 'get_resource', 'get_attr', 'list_join', 'str_replace']);

/** The function a value calls, if it is a single-key mapping naming one. */
export function functionCall(value: unknown): { name: string; arg: unknown } | null {
  if (!isMapping(value)) return null;
  const keys = Object.keys(value);
  if (keys.length !== 1 || !FUNCTIONS.has(keys[0] as string)) return null;
  const name = keys[0] as string;
  return { name, arg: value[name] };
}

/** Resolves every function in `value`; `where` names its place in the template for messages. */
export function resolveFunctions(value: unknown, scope: FunctionScope, where: string): unknown {
  if (Array.isArray(value)) return value.map((item, index) => resolveFunctions(item, scope, `${where}[${index}]`));
  const call = functionCall(value);
  if (!call) return isMapping(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveFunctions(v, scope, `${where}.${k}`)])) : value;
  const arg = resolveFunctions(call.arg, scope, `${where}.${call.name}`);
  const at = `${where}.${call.name}`;
  switch (call.name) {
    case 'get_param': {
      const [name, ...path] = Array.isArray(arg) ? arg : [arg];
      if (typeof name !== 'string') throw stackInvalid(`${at}: Argument to "get_param" must be a string or a list whose first item is a string`);
      return walk(scope.param(name), path, at);
    }
    case 'get_resource': {
      if (typeof arg !== 'string') throw stackInvalid(`${at}: Argument to "get_resource" must be a string`);
      return scope.resourceId(arg);
    }
    case 'get_attr': {
      if (!Array.isArray(arg) || arg.length < 2 || typeof arg[0] !== 'string' || typeof arg[1] !== 'string') {
        throw stackInvalid(`${at}: Arguments to "get_attr" must be of the form [resource_name, attribute, (path), ...]`);
      }
      const [resource, attribute, ...path] = arg as [string, string, ...unknown[]];
      return walk(scope.attribute(resource, attribute), path, at);
    }
    case 'list_join': {
      if (!Array.isArray(arg) || arg.length < 2 || typeof arg[0] !== 'string') throw stackInvalid(`${at}: Arguments to "list_join" must be of the form [delimiter, list, ...]`);
      const [delimiter, ...lists] = arg as [string, ...unknown[]];
      if (containsUnresolved(lists)) return UNRESOLVED;
      const items: unknown[] = [];
      for (const list of lists) {
        if (!Array.isArray(list)) throw stackInvalid(`${at}: "list_join" must operate on a list`);
        items.push(...list);
      }
      return items.map(text).join(delimiter);
    }
    case 'str_replace': {
      if (!isMapping(arg) || typeof arg.template !== 'string' && arg.template !== UNRESOLVED || !isMapping(arg.params)) {
        throw stackInvalid(`${at}: Arguments to "str_replace" must be a map with "template" (a string) and "params" (a map)`);
      }
      if (containsUnresolved(arg)) return UNRESOLVED;
      // Longest keys first, so a key that is part of another does not replace inside it (as Heat does).
      const params = Object.entries(arg.params).sort(([a], [b]) => b.length - a.length);
      let result = arg.template as string;
      for (const [key, replacement] of params) result = result.split(key).join(text(replacement));
      return result;
    }
    default:
      return value;
  }
}

/** The resources a value refers to through get_resource and get_attr, in order of appearance. */
export function references(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) references(item, found);
    return found;
  }
  if (!isMapping(value)) return found;
  const call = functionCall(value);
  if (call?.name === 'get_resource' && typeof call.arg === 'string') found.push(call.arg);
  else if (call?.name === 'get_attr' && Array.isArray(call.arg) && typeof call.arg[0] === 'string') found.push(call.arg[0]);
  for (const item of Object.values(value)) references(item, found);
  return found;
}
