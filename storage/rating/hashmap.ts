/**
 * CloudKitty's hashmap rating module (cloudkitty/rating/hash): the model (services, fields,
 * groups, mappings, thresholds) as its v1 API shows it, the validation of what the API
 * receives, and the pure engine that prices usage frames with the rules. Stable API.
 *
 * Beyond CloudKitty: thresholds have `start`/`end` as mappings do, rules with the same key
 * may not overlap in time (so exactly one price is in force for any period), and a rule's
 * validity is judged at the frame's period start. See docs/rating.md.
 */
import { CumulusError } from '../../core/index.ts';
import { DEFAULT_CURRENCY, FRAME_SCALE, frameAmount, Money } from './money.ts';
import { FIXED_ONE, FIXED_ZERO, fixedCompare, fixedExact, fixedPlus, fixedText, fixedTimes, parseFixed, type Fixed } from './fixed.ts';
import type { RatedFrame, Rater, UsageFrame } from './types.ts';

export const MAP_TYPES = ['flat', 'rate'] as const;
export type MapType = (typeof MAP_TYPES)[number];

/** CloudKitty's columns: cost Numeric(40, 28), level Numeric(20, 8). */
export const COST_SCALE = 28;
export const COST_INTEGER_DIGITS = 12;
export const LEVEL_SCALE = 8;
export const LEVEL_INTEGER_DIGITS = 12;
export const HASHMAP_MAX_NAME_LENGTH = 255;
export const HASHMAP_MAX_DESCRIPTION_LENGTH = 256;

export const HASHMAP_MODULE_ID = 'hashmap';
export const HASHMAP_DESCRIPTION = 'HashMap rating module.';
/** CloudKitty ships modules disabled; with one module, we enable it on first open. */
export const DEFAULT_HASHMAP_ENABLED = true;
export const DEFAULT_HASHMAP_PRIORITY = 1;

const STATUS = {
  INVALID: 400,
  SERVICE_NOT_FOUND: 404,
  FIELD_NOT_FOUND: 404,
  GROUP_NOT_FOUND: 404,
  MAPPING_NOT_FOUND: 404,
  THRESHOLD_NOT_FOUND: 404,
  MODULE_NOT_FOUND: 404,
  NO_GROUP: 404,
  SERVICE_EXISTS: 409,
  FIELD_EXISTS: 409,
  GROUP_EXISTS: 409,
  MAPPING_EXISTS: 409,
  THRESHOLD_EXISTS: 409,
  GROUP_IN_USE: 409,
} as const;
export type HashmapErrorKind = keyof typeof STATUS;

/** A hashmap refusal: code `CUMULUS_RATING_HASHMAP_<kind>`, CloudKitty's status and (where it has one) its wording first. */
export class HashmapError extends CumulusError {
  readonly kind: HashmapErrorKind;
  constructor(kind: HashmapErrorKind, message: string, options: { httpStatus?: number; cause?: unknown } = {}) {
    super(`CUMULUS_RATING_HASHMAP_${kind}`, message, { httpStatus: options.httpStatus ?? STATUS[kind], cause: options.cause });
    this.name = 'HashmapError';
    this.kind = kind;
  }
}

const invalid = (message: string) => new HashmapError('INVALID', message);

// ---------------------------------------------------------------------------------------
// The model, as CloudKitty's v1 API shows it (ids are UUIDs, money and levels decimal text).

export interface HashmapService {
  readonly service_id: string;
  readonly name: string;
}

export interface HashmapField {
  readonly field_id: string;
  readonly name: string;
  readonly service_id: string;
}

export interface HashmapGroup {
  readonly group_id: string;
  readonly name: string;
}

/** When a rule is in force: naive ISO 8601 UTC (`2026-03-01T00:00:00`), null = unbounded; `end` is exclusive. */
export interface RuleValidity {
  readonly start: string | null;
  readonly end: string | null;
}

/** What mappings and thresholds share: the price, what it is attached to, and when. */
export interface HashmapRuleBase extends RuleValidity {
  /** Decimal text with COST_SCALE places. */
  readonly cost: string;
  readonly type: MapType;
  readonly field_id: string | null;
  readonly service_id: string | null;
  readonly group_id: string | null;
  /** The project the price is for; null = every project without its own. */
  readonly tenant_id: string | null;
}

export interface HashmapMapping extends HashmapRuleBase {
  readonly mapping_id: string;
  /** The metadata value matched (field mappings); null on service mappings. */
  readonly value: string | null;
  readonly created_at: string;
  readonly name: string | null;
  readonly description: string | null;
  /** Always null: deleting removes the rule (end it instead to keep its history). */
  readonly deleted: null;
  readonly created_by: string | null;
  readonly updated_by: string | null;
  readonly deleted_by: null;
}

export interface HashmapThreshold extends HashmapRuleBase {
  readonly threshold_id: string;
  /** Decimal text with LEVEL_SCALE places: applies from this quantity (service) or metadata value (field) up. */
  readonly level: string;
}

/** The module as /v1/rating/modules shows it. */
export interface RatingModule {
  readonly module_id: string;
  readonly description: string;
  readonly enabled: boolean;
  readonly 'hot-config': boolean;
  readonly priority: number;
}

/** Every rule at one moment: what the engine compiles. */
export interface HashmapRules {
  readonly services: readonly HashmapService[];
  readonly fields: readonly HashmapField[];
  readonly groups: readonly HashmapGroup[];
  readonly mappings: readonly HashmapMapping[];
  readonly thresholds: readonly HashmapThreshold[];
}

// ---------------------------------------------------------------------------------------
// Validation of what the API receives.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Whether a text is a UUID (CloudKitty's UuidType: the 8-4-4-4-12 hex form). */
export const isHashmapId = (value: string): boolean => UUID.test(value);
const show = (value: unknown) => JSON.stringify(value) ?? String(value);

/** An id field: a UUID (CloudKitty's UuidType), or null when absent, null or empty. */
function parseId(name: string, value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || !isHashmapId(value)) throw invalid(`Invalid input for field/attribute ${name}. Value: ${show(value)}. Invalid UUID; expected a UUID such as 6c1b8a30-797f-4b7e-ad66-000000000001`);
  return value.toLowerCase();
}

/** A required name: non-empty text up to HASHMAP_MAX_NAME_LENGTH characters. */
function parseName(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > HASHMAP_MAX_NAME_LENGTH) {
    throw invalid(`Invalid input for field/attribute ${name}. Value: ${show(value)}. Expected a non-empty text of at most ${HASHMAP_MAX_NAME_LENGTH} characters`);
  }
  return value;
}

function optionalText(name: string, value: unknown, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > max) throw invalid(`Invalid input for field/attribute ${name}. Value: ${show(value)}. Expected a text of at most ${max} characters or null`);
  return value;
}

/** A decimal given as text or as a JSON number (read by its shortest decimal form), within a Numeric(p, s) column. */
function parseDecimal(name: string, value: unknown, scale: number, integerDigits: number): Money {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined || !DECIMAL.test(text)) throw invalid(`Invalid input for field/attribute ${name}. Value: ${show(value)}. Expected a decimal number (text such as "0.05", or a number)`);
  const decimal = new Money(text);
  if (decimal.isNegative()) throw invalid(`Invalid input for field/attribute ${name}. Value: ${show(value)}. Expected a decimal >= 0`);
  if (decimal.decimalPlaces() > scale) throw invalid(`Invalid input for field/attribute ${name}. Value: ${show(value)}. Expected at most ${scale} decimal places`);
  if (decimal.trunc().toFixed(0).length > integerDigits) throw invalid(`Invalid input for field/attribute ${name}. Value: ${show(value)}. Expected at most ${integerDigits} digits before the decimal point`);
  return decimal;
}

export const costText = (cost: Money): string => cost.toFixed(COST_SCALE);
export const levelText = (level: Money): string => level.toFixed(LEVEL_SCALE);

function parseType(value: unknown): MapType {
  if (value === undefined || value === null || value === '') return 'flat';
  if (typeof value === 'string' && (MAP_TYPES as readonly string[]).includes(value)) return value as MapType;
  throw invalid(`Invalid input for field/attribute type. Value: ${show(value)}. Value should be one of: ${MAP_TYPES.join(', ')}`);
}

/**
 * A rule's start or end: ISO 8601 date or date-time (no zone = UTC). A date alone starts at
 * its midnight; as an `end` it means "through that day" (CloudKitty: 23:59:59), kept as the
 * next midnight so consecutive rules leave no gap. Milliseconds since the epoch, or null.
 */
export function parseRuleTime(name: 'start' | 'end', value: unknown): number | null {
  if (value === undefined || value === null || value === '') return null;
  const m = typeof value === 'string' ? ISO_TIME.exec(value.trim()) : null;
  if (!m) throw invalid(`Invalid input for field/attribute ${name}. Value: ${show(value)}. Expected an ISO 8601 date or date-time such as 2026-03-01 or 2026-03-01T00:00:00Z`);
  const [, y, mo, d, h, mi, s = '00', frac = '', zone] = m;
  const dateOnly = h === undefined;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s), Number(frac.padEnd(3, '0').slice(0, 3)));
  const check = new Date(ms);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h ?? 0) > 23 || Number(mi ?? 0) > 59 || Number(s) > 59) {
    throw invalid(`Invalid input for field/attribute ${name}. Value: ${show(value)}. Not a valid date or time`);
  }
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone) as RegExpExecArray;
    ms -= (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? 0)) * 60_000;
  }
  if (dateOnly && name === 'end') ms += 86_400_000;
  return ms;
}

/** Naive ISO 8601 UTC, as WSME prints CloudKitty's datetimes (`2026-03-01T00:00:00`). */
export function ruleTimeText(ms: number | null): string | null {
  if (ms === null) return null;
  return new Date(ms).toISOString().replace(/\.000Z$/, '').replace(/Z$/, '');
}

/** Milliseconds of a naive (UTC) or zoned ISO time as ruleTimeText prints it. */
export const ruleTimeMs = (text: string | null): number | null => (text === null ? null : Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`));

function checkPeriod(startMs: number | null, endMs: number | null): void {
  if (startMs !== null && endMs !== null && endMs <= startMs) {
    throw invalid(`Cannot create a rule with start after end. start=[${ruleTimeText(startMs)}] end=[${ruleTimeText(endMs)}]; expected end later than start`);
  }
}

function onlyKeys(body: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid(`Expected ${what} as a JSON object, got ${show(body)}`);
  const extra = Object.keys(body).filter((k) => !keys.includes(k));
  if (extra.length > 0) throw invalid(`Unknown attribute for ${what}: ${extra.join(', ')}; expected only ${keys.join(', ')}`);
  return body as Record<string, unknown>;
}

export const SERVICE_KEYS = ['service_id', 'name'] as const;
export const FIELD_KEYS = ['field_id', 'name', 'service_id'] as const;
export const GROUP_KEYS = ['group_id', 'name'] as const;
/** What a mapping body may hold: what GET shows (the client PUTs back what it read); ids and audit fields are not changed by it. */
export const MAPPING_KEYS = ['mapping_id', 'value', 'created_at', 'start', 'end', 'name', 'description', 'deleted', 'created_by', 'updated_by', 'deleted_by', 'cost', 'type', 'field_id', 'service_id', 'group_id', 'tenant_id'] as const;
export const THRESHOLD_KEYS = ['threshold_id', 'level', 'start', 'end', 'cost', 'type', 'field_id', 'service_id', 'group_id', 'tenant_id'] as const;

export function parseServiceInput(body: unknown): { name: string } {
  const b = onlyKeys(body, SERVICE_KEYS, 'a hashmap service');
  return { name: parseName('name', b.name) };
}

export function parseFieldInput(body: unknown): { name: string; service_id: string } {
  const b = onlyKeys(body, FIELD_KEYS, 'a hashmap field');
  const serviceId = parseId('service_id', b.service_id);
  if (serviceId === null) throw invalid('Invalid input for field/attribute service_id. Value: null. Mandatory field missing.');
  return { name: parseName('name', b.name), service_id: serviceId };
}

export function parseGroupInput(body: unknown): { name: string } {
  const b = onlyKeys(body, GROUP_KEYS, 'a hashmap group');
  return { name: parseName('name', b.name) };
}

/** What a mapping or threshold is attached to, and when. */
interface RuleInputBase {
  readonly type: MapType;
  readonly cost: Money;
  readonly service_id: string | null;
  readonly field_id: string | null;
  readonly group_id: string | null;
  readonly tenant_id: string | null;
  readonly startMs: number | null;
  readonly endMs: number | null;
}

export interface MappingInput extends RuleInputBase {
  readonly value: string | null;
  readonly name: string | null;
  readonly description: string | null;
}

export interface ThresholdInput extends RuleInputBase {
  readonly level: Money;
}

function parseParents(b: Record<string, unknown>): { service_id: string | null; field_id: string | null } {
  const service_id = parseId('service_id', b.service_id);
  const field_id = parseId('field_id', b.field_id);
  if (service_id !== null && field_id !== null) throw invalid('You can only specify one parent.; expected either service_id or field_id');
  if (service_id === null && field_id === null) throw invalid('You must specify one parent.; expected service_id or field_id');
  return { service_id, field_id };
}

const tenantOf = (value: unknown) => optionalText('tenant_id', value, HASHMAP_MAX_NAME_LENGTH) || null;

function mappingValue(value: unknown, parents: { service_id: string | null; field_id: string | null }): string | null {
  const text = value === undefined || value === null || value === '' ? null : optionalText('value', value, HASHMAP_MAX_NAME_LENGTH);
  if (text !== null && parents.service_id !== null) throw invalid("You can't specify a value and a service_id.; a service mapping applies to every resource of the service");
  if (text === null && parents.field_id !== null) throw invalid('You must specify a value for a field mapping.; expected value: the metadata value it prices');
  return text;
}

/** What mappings and thresholds share in a POST body, after the parent. */
function parseRuleBase(b: Record<string, unknown>): Omit<RuleInputBase, 'service_id' | 'field_id'> {
  if (b.cost === undefined || b.cost === null) throw invalid('Invalid input for field/attribute cost. Value: None. Mandatory field missing.');
  return {
    type: parseType(b.type),
    cost: parseDecimal('cost', b.cost, COST_SCALE, COST_INTEGER_DIGITS),
    group_id: parseId('group_id', b.group_id),
    tenant_id: tenantOf(b.tenant_id),
    startMs: parseRuleTime('start', b.start),
    endMs: parseRuleTime('end', b.end),
  };
}

/** A POST body of /mappings: CloudKitty's rules (one parent; a value exactly for field mappings). */
export function parseMappingInput(body: unknown): MappingInput {
  const b = onlyKeys(body, MAPPING_KEYS, 'a hashmap mapping');
  const parents = parseParents(b);
  const value = mappingValue(b.value, parents);
  const input: MappingInput = {
    ...parents,
    ...parseRuleBase(b),
    value,
    name: optionalText('name', b.name, HASHMAP_MAX_NAME_LENGTH) || null,
    description: optionalText('description', b.description, HASHMAP_MAX_DESCRIPTION_LENGTH),
  };
  checkPeriod(input.startMs, input.endMs);
  return input;
}

/** A POST body of /thresholds. */
export function parseThresholdInput(body: unknown): ThresholdInput {
  const b = onlyKeys(body, THRESHOLD_KEYS, 'a hashmap threshold');
  const parents = parseParents(b);
  if (b.level === undefined || b.level === null) throw invalid("Invalid input for field/attribute level. Value: 'None'. Mandatory field missing.");
  const input: ThresholdInput = { ...parents, level: parseDecimal('level', b.level, LEVEL_SCALE, LEVEL_INTEGER_DIGITS), ...parseRuleBase(b) };
  checkPeriod(input.startMs, input.endMs);
  return input;
}

/** What mappings and thresholds share in a PUT body: given keys change; the parent never does; a null group_id keeps the group (CloudKitty). */
function applyRuleBase(current: HashmapRuleBase, b: Record<string, unknown>): RuleInputBase {
  const has = (key: string) => key in b;
  return {
    service_id: current.service_id,
    field_id: current.field_id,
    type: has('type') ? parseType(b.type) : current.type,
    cost: has('cost') && b.cost !== null ? parseDecimal('cost', b.cost, COST_SCALE, COST_INTEGER_DIGITS) : new Money(current.cost),
    group_id: has('group_id') && b.group_id !== null && b.group_id !== '' ? parseId('group_id', b.group_id) : current.group_id,
    tenant_id: has('tenant_id') ? tenantOf(b.tenant_id) : current.tenant_id,
    startMs: has('start') ? parseRuleTime('start', b.start) : ruleTimeMs(current.start),
    endMs: has('end') ? parseRuleTime('end', b.end) : ruleTimeMs(current.end),
  };
}

/** A PUT body applied to the current mapping: what is given changes, what is absent stays. */
export function applyMappingChange(current: HashmapMapping, body: unknown): MappingInput {
  const b = onlyKeys(body, MAPPING_KEYS, 'a hashmap mapping');
  const base = applyRuleBase(current, b);
  const next: MappingInput = {
    ...base,
    value: 'value' in b ? mappingValue(b.value, base) : current.value,
    name: 'name' in b ? optionalText('name', b.name, HASHMAP_MAX_NAME_LENGTH) || null : current.name,
    description: 'description' in b ? optionalText('description', b.description, HASHMAP_MAX_DESCRIPTION_LENGTH) : current.description,
  };
  checkPeriod(next.startMs, next.endMs);
  return next;
}

/** A PUT body applied to the current threshold (same rules as mappings). */
export function applyThresholdChange(current: HashmapThreshold, body: unknown): ThresholdInput {
  const b = onlyKeys(body, THRESHOLD_KEYS, 'a hashmap threshold');
  const next: ThresholdInput = { ...applyRuleBase(current, b), level: 'level' in b && b.level !== null ? parseDecimal('level', b.level, LEVEL_SCALE, LEVEL_INTEGER_DIGITS) : new Money(current.level) };
  checkPeriod(next.startMs, next.endMs);
  return next;
}

/** Whether [aStart, aEnd) and [bStart, bEnd) share an instant (null = unbounded). */
export function periodsOverlap(aStart: number | null, aEnd: number | null, bStart: number | null, bEnd: number | null): boolean {
  const startsBeforeEnd = (start: number | null, end: number | null) => start === null || end === null || start < end;
  return startsBeforeEnd(aStart, bEnd) && startsBeforeEnd(bStart, aEnd);
}

/** "from 2026-03-01T00:00:00 to no end": a rule's period in messages. */
export const describePeriod = (startMs: number | null, endMs: number | null): string => `from ${ruleTimeText(startMs) ?? 'the beginning'} to ${ruleTimeText(endMs) ?? 'no end'}`;

// ---------------------------------------------------------------------------------------
// The engine.

interface CompiledRule {
  readonly id: string;
  readonly type: MapType;
  /** The cost and level as exact BigInt fixed points: what rate() computes with (./fixed.ts). */
  readonly cost: Fixed;
  /** Threshold level; null for mappings. */
  readonly level: Fixed | null;
  /** Field mappings: the metadata value matched. */
  readonly value: string | null;
  /** '' for the default group (CloudKitty's `_DEFAULT_`). */
  readonly group: string;
  readonly tenantId: string | null;
  readonly startMs: number | null;
  readonly endMs: number | null;
  /** What a project-specific rule replaces: same group (and value, or level). */
  readonly key: string;
}

interface CompiledRules {
  readonly mappings: readonly CompiledRule[];
  readonly thresholds: readonly CompiledRule[];
}

interface CompiledService extends CompiledRules {
  readonly fields: ReadonlyArray<CompiledRules & { readonly name: string }>;
}

interface GroupResult {
  flat: Fixed;
  flatRule: string | null;
  rate: Fixed;
  rateRules: string[];
  threshold: { level: Fixed; cost: Fixed; type: MapType; scope: 'service' | 'field'; id: string } | null;
}

export interface HashmapRaterOptions {
  /** The single currency rated frames are in (default DEFAULT_CURRENCY). */
  readonly currency?: string;
  /** A disabled module rates nothing (every frame answers null). */
  readonly enabled?: boolean;
}

export interface HashmapRater extends Rater {
  readonly currency: string;
}

const inForce = (rule: CompiledRule, atMs: number) => (rule.startMs === null || rule.startMs <= atMs) && (rule.endMs === null || atMs < rule.endMs);

/**
 * The rules in force for `projectId` at `atMs`: CloudKitty loads the rules without a
 * tenant, then the project's own over them, so a project's rule replaces the general one
 * with the same key (group, and value or level).
 */
function rulesInForce(rules: readonly CompiledRule[], projectId: string, atMs: number): readonly CompiledRule[] {
  if (rules.length === 0) return rules;
  // Frames of one period and project share the answer: worked out once, not per frame.
  let memo = inForceMemo.get(rules);
  if (memo === undefined) {
    memo = new Map();
    inForceMemo.set(rules, memo);
  } else if (memo.size > IN_FORCE_MEMO_LIMIT) memo.clear();
  const key = `${projectId}\u0000${atMs}`;
  let found = memo.get(key);
  if (found === undefined) {
    found = choose(rules, projectId, atMs);
    memo.set(key, found);
  }
  return found;
}

interface ServiceInForce extends CompiledRules {
  readonly fields: readonly CompiledRules[];
  /** Whether any rule of the service (or its fields) is in force: else the frame is not rated. */
  readonly any: boolean;
}

const serviceMemo = new WeakMap<CompiledService, Map<string, ServiceInForce>>();

/** Every rule of a service in force for a project at a time, worked out once per (project, time). */
function serviceInForce(service: CompiledService, projectId: string, atMs: number): ServiceInForce {
  let memo = serviceMemo.get(service);
  if (memo === undefined) {
    memo = new Map();
    serviceMemo.set(service, memo);
  } else if (memo.size > IN_FORCE_MEMO_LIMIT) memo.clear();
  const key = `${projectId}\u0000${atMs}`;
  let found = memo.get(key);
  if (found === undefined) {
    const mappings = rulesInForce(service.mappings, projectId, atMs);
    const thresholds = rulesInForce(service.thresholds, projectId, atMs);
    const fields = service.fields.map((field) => ({ mappings: rulesInForce(field.mappings, projectId, atMs), thresholds: rulesInForce(field.thresholds, projectId, atMs) }));
    const any = mappings.length + thresholds.length > 0 || fields.some((f) => f.mappings.length + f.thresholds.length > 0);
    found = { mappings, thresholds, fields, any };
    memo.set(key, found);
  }
  return found;
}

const IN_FORCE_MEMO_LIMIT = 10_000;
// Decimals are immutable: one shared zero and one, not two allocations per group.
const inForceMemo = new WeakMap<readonly CompiledRule[], Map<string, readonly CompiledRule[]>>();

function choose(rules: readonly CompiledRule[], projectId: string, atMs: number): CompiledRule[] {
  const chosen = new Map<string, CompiledRule>();
  for (const rule of rules) if (rule.tenantId === null && inForce(rule, atMs)) chosen.set(rule.key, rule);
  for (const rule of rules) if (rule.tenantId !== null && rule.tenantId === projectId && inForce(rule, atMs)) chosen.set(rule.key, rule);
  return [...chosen.values()];
}

function compileRule(rule: HashmapMapping | HashmapThreshold): CompiledRule {
  const isThreshold = 'threshold_id' in rule;
  const level = isThreshold ? new Money(rule.level) : null;
  const value = isThreshold ? null : rule.value;
  const group = rule.group_id ?? '';
  return {
    id: isThreshold ? rule.threshold_id : rule.mapping_id,
    type: rule.type,
    cost: exactly(new Money(rule.cost)),
    level: level === null ? null : exactly(level),
    value,
    group,
    tenantId: rule.tenant_id,
    startMs: ruleTimeMs(rule.start),
    endMs: ruleTimeMs(rule.end),
    key: `${group}\u0000${level !== null ? level.toFixed() : (value ?? '')}`,
  };
}

/** A stored rule's decimal as a fixed point (decimal.js prints it in full, never with an exponent, for toFixed()). */
const exactly = (value: Money): Fixed => parseFixed(value.toFixed()) as Fixed;

/**
 * Prices frames as CloudKitty's HashMap.process does, per group:
 * - flat mappings: the most expensive matching one applies; rate mappings multiply;
 * - thresholds: the highest level reached applies (service: by quantity; field: by the
 *   metadata value as a number);
 * - group cost = rate x flat x quantity, a field threshold adding to flat (flat) or
 *   multiplying rate (rate) first, a service threshold adding to (flat) or multiplying
 *   (rate) the group's cost after; the frame's cost is the sum over groups.
 * A frame is rated (maybe at 0) when its service has some rule in force for its project at
 * its period start; else rate() answers null. Cost is kept to FRAME_SCALE places (money.ts).
 */
/** A frame's running result for one rule group (module-level: no closures per frame on the hot path). */
function groupOf(groups: Map<string, GroupResult>, rule: CompiledRule): GroupResult {
  let group = groups.get(rule.group);
  if (group === undefined) {
    group = { flat: FIXED_ZERO, flatRule: null, rate: FIXED_ONE, rateRules: [], threshold: null };
    groups.set(rule.group, group);
  }
  return group;
}

/** Rate mappings multiply; of the flat ones the most expensive applies. */
function applyMapping(groups: Map<string, GroupResult>, rule: CompiledRule): void {
  const group = groupOf(groups, rule);
  if (rule.type === 'rate') {
    group.rate = fixedTimes(group.rate, rule.cost);
    group.rateRules.push(rule.id);
  } else if (group.flatRule === null || fixedCompare(rule.cost, group.flat) > 0) {
    group.flat = rule.cost;
    group.flatRule = rule.id;
  }
}

/** The highest level reached applies; strictly higher: on a tie the first seen stays (service before fields, fields by name). */
function applyThreshold(groups: Map<string, GroupResult>, rule: CompiledRule, scope: 'service' | 'field'): void {
  const group = groupOf(groups, rule);
  const level = rule.level as Fixed;
  if (group.threshold === null || fixedCompare(level, group.threshold.level) > 0) group.threshold = { level, cost: rule.cost, type: rule.type, scope, id: rule.id };
}

export function createHashmapRater(rules: HashmapRules, options: HashmapRaterOptions = {}): HashmapRater {
  const currency = options.currency ?? DEFAULT_CURRENCY;
  const enabled = options.enabled ?? true;
  const byParent = (parent: 'service_id' | 'field_id', id: string): CompiledRules => ({
    mappings: rules.mappings.filter((m) => m[parent] === id).map(compileRule),
    thresholds: rules.thresholds.filter((t) => t[parent] === id).map(compileRule),
  });
  const groupOrder = new Map<string, number>([['', -1]]);
  [...rules.groups].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).forEach((g, i) => groupOrder.set(g.group_id, i));
  const services = new Map<string, CompiledService>();
  for (const service of rules.services) {
    const fields = rules.fields
      .filter((f) => f.service_id === service.service_id)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((f) => ({ name: f.name, ...byParent('field_id', f.field_id) }));
    services.set(service.name, { ...byParent('service_id', service.service_id), fields });
  }

  return {
    currency,
    rate(frame: UsageFrame): RatedFrame | null {
      if (!enabled) return null;
      const service = services.get(frame.service);
      if (service === undefined) return null;
      const quantity = parseFixed(frame.quantity);
      if (quantity === null) throw new HashmapError('INVALID', `A usage frame's quantity must be decimal text; got ${show(frame.quantity)} (service ${frame.service}, resource ${frame.resourceId})`, { httpStatus: 500 });
      const atMs = frame.periodStart.getTime();
      const groups = new Map<string, GroupResult>();

      // 1. the service's own mappings and thresholds (by quantity), then 2. each field the frame's metadata has.
      const inForceNow = serviceInForce(service, frame.projectId, atMs);
      if (!inForceNow.any) return null;
      for (const rule of inForceNow.mappings) applyMapping(groups, rule);
      for (const rule of inForceNow.thresholds) if (fixedCompare(quantity, rule.level as Fixed) >= 0) applyThreshold(groups, rule, 'service');
      for (let f = 0; f < service.fields.length; f++) {
        const field = service.fields[f] as CompiledService['fields'][number];
        const { mappings: fieldMappings, thresholds: fieldThresholds } = inForceNow.fields[f] as CompiledRules;
        const raw = frame.metadata[field.name];
        if (raw === undefined) continue;
        for (const rule of fieldMappings) if (rule.value === raw) applyMapping(groups, rule);
        const numeric = fieldThresholds.length > 0 ? parseFixed(raw) : null;
        if (numeric !== null) for (const rule of fieldThresholds) if (fixedCompare(numeric, rule.level as Fixed) >= 0) applyThreshold(groups, rule, 'field');
      }

      // 3. each group's cost (CloudKitty's add_rating_informations), summed exactly.
      let total = FIXED_ZERO;
      let unitTotal = FIXED_ZERO;
      let addedFixed = false;
      const ruleIds: string[] = [];
      // Default group first, then by group name: the order ruleId lists them in.
      const ordered = groups.size === 1 ? [...groups.values()] : [...groups.entries()].sort(([a], [b]) => (groupOrder.get(a) ?? 0) - (groupOrder.get(b) ?? 0)).map(([, group]) => group);
      for (const group of ordered) {
        let { flat, rate } = group;
        const threshold = group.threshold;
        if (threshold?.scope === 'field') {
          if (threshold.type === 'flat') flat = fixedPlus(flat, threshold.cost);
          else rate = fixedTimes(rate, threshold.cost);
        }
        let unit = fixedTimes(rate, flat);
        let cost = fixedTimes(unit, quantity);
        if (threshold?.scope === 'service') {
          if (threshold.type === 'flat') {
            cost = fixedPlus(cost, threshold.cost);
            addedFixed = true;
          }
          else {
            cost = fixedTimes(cost, threshold.cost);
            unit = fixedTimes(unit, threshold.cost);
          }
        }
        total = fixedPlus(total, cost);
        unitTotal = fixedPlus(unitTotal, unit);
        if (group.flatRule !== null) ruleIds.push(group.flatRule);
        ruleIds.push(...group.rateRules);
        if (threshold !== null) ruleIds.push(threshold.id);
      }
      // cost = unit x quantity per group unless a service flat threshold added a fixed amount: only then divide.
      // The one division (rare): decimal.js, on the exact digits.
      const price = quantity.units === 0n || !addedFixed ? fixedText(unitTotal, FRAME_SCALE) : frameAmount(new Money(fixedExact(total)).dividedBy(fixedExact(quantity)));
      return { ...frame, price, cost: fixedText(total, FRAME_SCALE), currency, ruleId: ruleIds.join(',') };
    },
  };
}
