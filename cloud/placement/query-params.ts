import { PLACEMENT_CODE, badRequest } from './errors.ts';

/** A query string as fastify parses it: repeated keys become arrays. */
export type Query = Record<string, string | string[] | undefined>;

/** Every value of a key, in order (webob's `getall`). */
export const allOf = (query: Query, key: string): string[] => {
  const value = query[key];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
};

/** The last value of a key (webob's `req.GET[key]`). */
export const lastOf = (query: Query, key: string): string | undefined => allOf(query, key).at(-1);

/** oslo's is_uuid_like: any spelling uuid.UUID() accepts (braces, urn:uuid:, no dashes, any case). */
export function isUuidLike(value: string): boolean {
  return normalizeUuid(value) !== null;
}

/** The canonical (dashed, lower-case) form of a UUID, or null when it is none. */
export function normalizeUuid(value: string): string | null {
  const hex = value.trim().replace(/^urn:/i, '').replace(/^uuid:/i, '').replace(/^\{|\}$/g, '').replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const FORM = '?resources=VCPU:2,MEMORY_MB:1024';

/** `VCPU:2,MEMORY_MB:1024` as amounts by class, refused with Placement's messages (util.normalize_resources_qs_param). */
export function parseResources(text: string): Map<string, number> {
  if (text.trim() === '') throw badRequest(`Badly formed resources parameter. Expected resources query string parameter in form: ${FORM}. Got: empty string.`);
  const result = new Map<string, number>();
  for (const item of text.split(',')) {
    const parts = item.split(':');
    if (parts.length !== 2) throw badRequest(`Badly formed resources parameter. Expected resources query string parameter in form: ${FORM}. Got: ${item}.`);
    const [name, amountText] = parts as [string, string];
    if (!/^\s*[+-]?\d+\s*$/.test(amountText)) throw badRequest(`Requested resource ${name} expected positive integer amount. Got: ${amountText}.`);
    const amount = Number.parseInt(amountText, 10);
    if (amount < 1) throw badRequest(`Requested resource ${name} requires amount >= 1. Got: ${amount}.`);
    result.set(name, amount);
  }
  return result;
}

/** Required traits as an AND of any-of sets, plus forbidden traits. */
export interface TraitFilter {
  required: string[][];
  forbidden: Set<string>;
}

/** One `required` value: `A,!B` or (1.39) `in:A,B` (util.normalize_traits_qs_param). */
export function parseTraits(value: string, allowForbidden: boolean, allowAnyTraits: boolean): TraitFilter {
  if (value.startsWith('in:')) {
    if (!allowAnyTraits) throw badRequest(`Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: ${value}`);
    const anyOf = [...new Set(value.slice(3).split(',').map((s) => s.trim()))];
    if (anyOf.some((t) => t === '')) throw badRequest(`Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: ${value}`);
    if (anyOf.some((t) => t.startsWith('!'))) throw badRequest(`Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: ${value}`);
    return { required: [anyOf], forbidden: new Set() };
  }
  const all = value.split(',').map((s) => s.trim());
  // Like Placement, any run of leading '!' marks one forbidden trait (!!FOO is FOO).
  const forbidden = new Set(all.filter((t) => t.startsWith('!')).map((t) => t.replace(/^!+/, '')));
  if ([...forbidden, ...all].some((t) => t === '')) {
    throw badRequest(`Invalid query string parameters: Expected 'required' parameter value of the form: ${allowForbidden ? 'HW_CPU_X86_VMX,!CUSTOM_MAGIC' : 'HW_CPU_X86_VMX,CUSTOM_MAGIC'}. Got an empty trait in: ${value}`);
  }
  if (forbidden.size > 0 && !allowForbidden) throw badRequest(`Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: ${value}`);
  return { required: all.filter((t) => !t.startsWith('!')).map((t) => [t]), forbidden };
}

/** Every `required<suffix>` value: before 1.39 only the last counts; from 1.39 they AND together. */
export function parseTraitParams(values: readonly string[], allowForbidden: boolean, allowAnyTraits: boolean): TraitFilter {
  const result: TraitFilter = { required: [], forbidden: new Set() };
  for (const value of allowAnyTraits ? values : values.slice(-1)) {
    const one = parseTraits(value, allowForbidden, allowAnyTraits);
    result.required.push(...one.required);
    for (const t of one.forbidden) result.forbidden.add(t);
  }
  return result;
}

/** Aggregates required (an AND of any-of sets) and forbidden. */
export interface AggregateFilter {
  required: string[][];
  forbidden: Set<string>;
}

/** One `member_of` value: a UUID, `!UUID`, `in:A,B` or `!in:A,B` (util.normalize_member_of_qs_param). */
export function parseMemberOf(value: string): AggregateFilter {
  if (value.includes(',') && !(value.startsWith('in:') || value.startsWith('!in:'))) {
    throw badRequest(`Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: ${value}`);
  }
  let required: string[] = [];
  let forbidden: string[] = [];
  if (value.startsWith('!in:')) forbidden = value.slice(4).split(',');
  else if (value.startsWith('!')) forbidden = [value.slice(1)];
  else if (value.startsWith('in:')) required = value.slice(3).split(',');
  else required = [value];
  for (const uuid of [...required, ...forbidden]) {
    if (!isUuidLike(uuid)) throw badRequest(`Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: ${uuid}`);
  }
  return { required: required.length > 0 ? [[...new Set(required)]] : [], forbidden: new Set(forbidden) };
}

/** Every `member_of<suffix>` value: several from 1.24, forbidden ones from 1.32. */
export function parseMemberOfParams(values: readonly string[], suffix: string, multiple: boolean, allowForbidden: boolean): AggregateFilter {
  if (!multiple && values.length > 1) throw badRequest(`Multiple member_of${suffix} parameters are not supported`);
  const result: AggregateFilter = { required: [], forbidden: new Set() };
  for (const value of values) {
    const one = parseMemberOf(value);
    result.required.push(...one.required);
    if (one.forbidden.size > 0) {
      if (!allowForbidden) throw badRequest(`Forbidden member_of${suffix} parameters are not supported in the specified microversion`);
      for (const a of one.forbidden) result.forbidden.add(a);
    }
  }
  return result;
}

/** `in_tree`: a provider UUID. */
export function parseInTree(value: string): string {
  const uuid = value.trim();
  if (!isUuidLike(uuid)) throw badRequest(`Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: ${value}`);
  return uuid;
}

/**
 * The keys a query may carry, as the handler's JSON schema allows them: anything else is
 * Placement's "Additional properties are not allowed" 400.
 */
export function checkQueryKeys(query: Query, allowed: ReadonlyArray<string | RegExp>, required: readonly string[] = []): void {
  const keys = Object.keys(query);
  const unexpected = keys.filter((key) => !allowed.some((a) => (typeof a === 'string' ? a === key : a.test(key))));
  if (unexpected.length > 0) {
    const names = unexpected.map((k) => `'${k}'`).join(', ');
    throw badRequest(`Invalid query string parameters: Additional properties are not allowed (${names} ${unexpected.length === 1 ? 'was' : 'were'} unexpected)`);
  }
  for (const key of required) {
    if (!keys.includes(key)) throw badRequest(`Invalid query string parameters: '${key}' is a required property`, PLACEMENT_CODE.DEFAULT);
  }
}
