/**
 * Aodh's alarm definitions (aodh/api/controllers/v2/alarms.py and alarm_rules/*) and their
 * validation, plus two Cumulus extensions: `log` (a count of service log lines over a
 * window) and `outage` (failures of a synthetic check over a window). The evaluator,
 * routing and receivers read the same shape: state, state_reason, state_timestamp,
 * severity, repeat_actions, time_constraints and the three action lists. Stable API.
 */
import cron from 'node-cron';
import { CumulusError } from '../../core/index.ts';
import { isAggregationMethod } from '../archive-policies.ts';
import { LOG_LEVELS } from '../queries/logs.ts';

export const ALARM_STATES = ['ok', 'alarm', 'insufficient data'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];
export const ALARM_SEVERITIES = ['low', 'moderate', 'critical'] as const;
export type AlarmSeverity = (typeof ALARM_SEVERITIES)[number];
export const COMPARISON_OPERATORS = ['lt', 'le', 'eq', 'ne', 'ge', 'gt'] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];
/** Aodh's gnocchi rule types, the rule types a composite alarm combines with them, and ours. */
export const GNOCCHI_ALARM_TYPES = ['gnocchi_resources_threshold', 'gnocchi_aggregation_by_metrics_threshold', 'gnocchi_aggregation_by_resources_threshold'] as const;
/** Cumulus extensions (not in Aodh): experimental. */
export const EXTENSION_ALARM_TYPES = ['log', 'outage'] as const;
export const ALARM_TYPES = [...GNOCCHI_ALARM_TYPES, 'event', 'composite', ...EXTENSION_ALARM_TYPES] as const;
export type AlarmType = (typeof ALARM_TYPES)[number];
/** Aodh's event rule query operators and value types (aodh/api/controllers/v2/base.py). */
export const QUERY_OPERATORS = ['lt', 'le', 'eq', 'ne', 'ge', 'gt'] as const;
export const QUERY_VALUE_TYPES = ['', 'string', 'integer', 'float', 'boolean', 'datetime'] as const;
/** Action URL schemes Cumulus delivers to; Aodh's trust+ schemes need Keystone trusts. */
export const ACTION_SCHEMES = ['http', 'https', 'log'] as const;

/** Aodh's defaults (aodh/api/controllers/v2/alarm_rules/gnocchi.py, alarms.py). */
export const DEFAULT_GRANULARITY_SECONDS = 60;
export const DEFAULT_EVALUATION_PERIODS = 1;
export const DEFAULT_STATE_REASON = 'Not evaluated yet';
/** Nesting allowed in a composite rule: deep enough for any hand-written rule, bounded for the evaluator. */
export const MAX_COMPOSITE_DEPTH = 8;
export const MAX_NAME_LENGTH = 255;
export const MAX_ACTIONS = 32;

export type AlarmRule = Record<string, unknown>;

export interface TimeConstraint {
  name: string;
  description: string;
  /** A five-field cron expression: when each window opens. */
  start: string;
  /** Seconds each window stays open. */
  duration: number;
  /** An IANA time zone; '' = UTC. */
  timezone: string;
}

/** What a caller defines (POST and PUT bodies, validated). */
export interface AlarmDefinition {
  name: string;
  description: string;
  type: AlarmType;
  enabled: boolean;
  severity: AlarmSeverity;
  repeat_actions: boolean;
  time_constraints: TimeConstraint[];
  alarm_actions: string[];
  ok_actions: string[];
  insufficient_data_actions: string[];
  project_id: string;
  user_id: string;
  /** The `<type>_rule` object, defaults filled in. */
  rule: AlarmRule;
}

/** A stored alarm: its definition and its current state. */
export interface Alarm extends AlarmDefinition {
  alarm_id: string;
  state: AlarmState;
  state_reason: string;
  /** ISO 8601 (UTC): the last state change. */
  state_timestamp: string;
  /** ISO 8601 (UTC): the last change of any kind (Aodh's `timestamp`). */
  timestamp: string;
}

export const ALARM_ERROR_STATUS = { INVALID: 400, NOT_FOUND: 404, CONFLICT: 409, FORBIDDEN: 403 } as const;
export type AlarmErrorKind = keyof typeof ALARM_ERROR_STATUS;

/** An alarm refusal: code `CUMULUS_ALARM_<kind>`, Aodh's status; the message names the field. */
export class AlarmError extends CumulusError {
  readonly kind: AlarmErrorKind;
  constructor(kind: AlarmErrorKind, message: string, options: { cause?: unknown } = {}) {
    super(`CUMULUS_ALARM_${kind}`, message, { httpStatus: ALARM_ERROR_STATUS[kind], cause: options.cause });
    this.name = 'AlarmError';
    this.kind = kind;
  }
}

const invalid = (message: string) => new AlarmError('INVALID', message);
const shown = (value: unknown) => (value === undefined ? 'nothing' : JSON.stringify(value));
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw invalid(`${field}: expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${shown(value)}`);
  return value as T;
}

function text(value: unknown, field: string, options: { max?: number; min?: number } = {}): string {
  if (typeof value !== 'string') throw invalid(`${field}: expected a string, got ${shown(value)}`);
  if (value.length < (options.min ?? 1)) throw invalid(`${field}: expected a non-empty string`);
  if (value.length > (options.max ?? MAX_NAME_LENGTH)) throw invalid(`${field}: expected at most ${options.max ?? MAX_NAME_LENGTH} characters, got ${value.length}`);
  return value;
}

/** WSME's bool: a JSON boolean or its text ('true', 'False'...). */
function bool(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalid(`${field}: expected true or false, got ${shown(value)}`);
}

function number(value: unknown, field: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw invalid(`${field}: expected a number, got ${shown(value)}`);
  return n;
}

function positiveInteger(value: unknown, field: string): number {
  const n = number(value, field);
  if (!Number.isInteger(n) || n < 1) throw invalid(`${field}: expected a positive integer, got ${shown(value)}`);
  return n;
}

function only(input: Record<string, unknown>, keys: readonly string[], field: string): void {
  const extra = Object.keys(input).filter((k) => !keys.includes(k));
  if (extra.length > 0) throw invalid(`${field}: unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')} (expected ${keys.join(', ')})`);
}

const THRESHOLD_KEYS = ['comparison_operator', 'threshold', 'aggregation_method', 'granularity', 'evaluation_periods'] as const;

/** The threshold part every gnocchi rule shares, Aodh's defaults filled in. */
function thresholdPart(rule: Record<string, unknown>, field: string): AlarmRule {
  if (rule.threshold === undefined || rule.threshold === null) throw invalid(`${field}.threshold: required`);
  const method = rule.aggregation_method;
  if (typeof method !== 'string' || !isAggregationMethod(method)) {
    throw invalid(`${field}.aggregation_method: expected an aggregation method (mean, sum, last, max, min, std, median, first, count, 1pct..99pct, rate:<any of those>), got ${shown(method)}`);
  }
  return {
    comparison_operator: oneOf(rule.comparison_operator ?? 'eq', COMPARISON_OPERATORS, `${field}.comparison_operator`),
    threshold: number(rule.threshold, `${field}.threshold`),
    aggregation_method: method,
    granularity: positiveInteger(rule.granularity ?? DEFAULT_GRANULARITY_SECONDS, `${field}.granularity`),
    evaluation_periods: positiveInteger(rule.evaluation_periods ?? DEFAULT_EVALUATION_PERIODS, `${field}.evaluation_periods`),
  };
}

function ruleObject(value: unknown, field: string): Record<string, unknown> {
  if (!isObject(value)) throw invalid(`${field}: expected an object, got ${shown(value)}`);
  return value;
}

function gnocchiRule(type: (typeof GNOCCHI_ALARM_TYPES)[number], value: unknown, field: string, extraKeys: readonly string[] = []): AlarmRule {
  const rule = ruleObject(value, field);
  if (type === 'gnocchi_resources_threshold') {
    only(rule, [...THRESHOLD_KEYS, 'metric', 'resource_id', 'resource_type', ...extraKeys], field);
    return { ...thresholdPart(rule, field), metric: text(rule.metric, `${field}.metric`), resource_id: text(rule.resource_id, `${field}.resource_id`), resource_type: text(rule.resource_type, `${field}.resource_type`) };
  }
  if (type === 'gnocchi_aggregation_by_metrics_threshold') {
    only(rule, [...THRESHOLD_KEYS, 'metrics', ...extraKeys], field);
    if (!Array.isArray(rule.metrics) || rule.metrics.length === 0) throw invalid(`${field}.metrics: expected a non-empty list of metric ids, got ${shown(rule.metrics)}`);
    const metrics = rule.metrics.map((m, i) => text(m, `${field}.metrics[${i}]`));
    return { ...thresholdPart(rule, field), metrics };
  }
  only(rule, [...THRESHOLD_KEYS, 'metric', 'resource_type', 'query', ...extraKeys], field);
  // Aodh keeps the resource search as JSON text (the body of a Gnocchi search).
  const query = text(rule.query, `${field}.query`, { max: 8192 });
  let parsed: unknown;
  try {
    parsed = JSON.parse(query);
  } catch (err) {
    throw new AlarmError('INVALID', `${field}.query: expected a JSON resource search such as {"=": {"server_group": "web"}}, got ${shown(query)}`, { cause: err });
  }
  if (!isObject(parsed)) throw invalid(`${field}.query: expected a JSON object, got ${shown(query)}`);
  return { ...thresholdPart(rule, field), metric: text(rule.metric, `${field}.metric`), resource_type: text(rule.resource_type, `${field}.resource_type`), query };
}

function eventRule(value: unknown, field: string): AlarmRule {
  const rule = ruleObject(value ?? {}, field);
  only(rule, ['event_type', 'query'], field);
  const query = rule.query ?? [];
  if (!Array.isArray(query)) throw invalid(`${field}.query: expected a list of {field, op, value, type}, got ${shown(query)}`);
  return {
    event_type: rule.event_type === undefined ? '*' : text(rule.event_type, `${field}.event_type`),
    query: query.map((item, i) => {
      const where = `${field}.query[${i}]`;
      const q = ruleObject(item, where);
      only(q, ['field', 'op', 'value', 'type'], where);
      const type = oneOf(q.type ?? '', QUERY_VALUE_TYPES, `${where}.type`);
      const raw = q.value;
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') throw invalid(`${where}.value: expected a string, number or boolean, got ${shown(raw)}`);
      const valueText = String(raw);
      if ((type === 'integer' && !/^-?\d+$/.test(valueText)) || (type === 'float' && !Number.isFinite(Number(valueText))) || (type === 'boolean' && !/^(true|false)$/i.test(valueText)) || (type === 'datetime' && Number.isNaN(Date.parse(valueText)))) {
        throw invalid(`${where}.value: expected a ${type}, got ${shown(raw)}`);
      }
      return { field: text(q.field, `${where}.field`), op: oneOf(q.op ?? 'eq', QUERY_OPERATORS, `${where}.op`), value: valueText, type };
    }),
  };
}

function logRule(value: unknown, field: string, extraKeys: readonly string[] = []): AlarmRule {
  const rule = ruleObject(value, field);
  only(rule, ['service', 'level', 'text', 'comparison_operator', 'threshold', 'window', ...extraKeys], field);
  const threshold = number(rule.threshold, `${field}.threshold`);
  if (!Number.isInteger(threshold) || threshold < 0) throw invalid(`${field}.threshold: expected a line count (an integer >= 0), got ${shown(rule.threshold)}`);
  return {
    ...(rule.service === undefined || rule.service === null ? {} : { service: text(rule.service, `${field}.service`) }),
    ...(rule.level === undefined || rule.level === null ? {} : { level: oneOf(typeof rule.level === 'string' ? rule.level.toUpperCase() : rule.level, LOG_LEVELS, `${field}.level`) }),
    ...(rule.text === undefined || rule.text === null ? {} : { text: text(rule.text, `${field}.text`, { max: 1024 }) }),
    comparison_operator: oneOf(rule.comparison_operator ?? 'gt', COMPARISON_OPERATORS, `${field}.comparison_operator`),
    threshold,
    window: positiveInteger(rule.window, `${field}.window`),
  };
}

function outageRule(value: unknown, field: string, extraKeys: readonly string[] = []): AlarmRule {
  const rule = ruleObject(value, field);
  only(rule, ['check', 'comparison_operator', 'threshold', 'window', ...extraKeys], field);
  const threshold = number(rule.threshold ?? 1, `${field}.threshold`);
  if (!Number.isInteger(threshold) || threshold < 0) throw invalid(`${field}.threshold: expected a failure count (an integer >= 0), got ${shown(rule.threshold)}`);
  return { check: text(rule.check, `${field}.check`), comparison_operator: oneOf(rule.comparison_operator ?? 'ge', COMPARISON_OPERATORS, `${field}.comparison_operator`), threshold, window: positiveInteger(rule.window, `${field}.window`) };
}

/** Leaf types a composite rule may combine (Aodh: the threshold rules; here also log and outage). */
export const COMPOSITE_LEAF_TYPES = [...GNOCCHI_ALARM_TYPES, ...EXTENSION_ALARM_TYPES] as const;

/** A composite rule: `{"and": [...]}`, `{"or": [...]}` or a leaf rule carrying its own `type`; recursive. */
export function parseCompositeRule(value: unknown, field = 'composite_rule', depth = 0): AlarmRule {
  if (depth > MAX_COMPOSITE_DEPTH) throw invalid(`${field}: nested deeper than ${MAX_COMPOSITE_DEPTH} levels`);
  const rule = ruleObject(value, field);
  const keys = Object.keys(rule);
  if (keys.length === 1 && (keys[0] === 'and' || keys[0] === 'or')) {
    const op = keys[0];
    const subs = rule[op];
    if (!Array.isArray(subs) || subs.length === 0) throw invalid(`${field}.${op}: expected a non-empty list of rules, got ${shown(subs)}`);
    return { [op]: subs.map((sub, i) => parseCompositeRule(sub, `${field}.${op}[${i}]`, depth + 1)) };
  }
  const type = rule.type;
  if (type === undefined) throw invalid(`${field}: expected {"and": [...]}, {"or": [...]} or a rule with a "type", got keys ${keys.map((k) => `'${k}'`).join(', ') || 'none'}`);
  const leafType = oneOf(type, COMPOSITE_LEAF_TYPES, `${field}.type`);
  const body = leafType === 'log' ? logRule(rule, field, ['type']) : leafType === 'outage' ? outageRule(rule, field, ['type']) : gnocchiRule(leafType, rule, field, ['type']);
  return { type: leafType, ...body };
}

/** Validates the `<type>_rule` of an alarm of `type`; defaults filled in. */
export function parseAlarmRule(type: AlarmType, value: unknown, field = `${type}_rule`): AlarmRule {
  if (value === undefined || value === null) {
    if (type !== 'event') throw invalid(`${field}: required for an alarm of type '${type}'`);
  }
  switch (type) {
    case 'event':
      return eventRule(value, field);
    case 'composite':
      return parseCompositeRule(value, field);
    case 'log':
      return logRule(value, field);
    case 'outage':
      return outageRule(value, field);
    default:
      return gnocchiRule(type, value, field);
  }
}

/** Whether `zone` is an IANA time zone this runtime knows. */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function parseTimeConstraints(value: unknown, field = 'time_constraints'): TimeConstraint[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${field}: expected a list of {name, start, duration, timezone}, got ${shown(value)}`);
  const names = new Set<string>();
  return value.map((item, i) => {
    const where = `${field}[${i}]`;
    const tc = ruleObject(item, where);
    only(tc, ['name', 'description', 'start', 'duration', 'timezone'], where);
    const name = text(tc.name, `${where}.name`);
    if (names.has(name)) throw invalid(`${where}.name: '${name}' is used twice; time constraint names must be unique`);
    names.add(name);
    const start = text(tc.start, `${where}.start`);
    // Aodh reads `start` with croniter: five fields (node-cron would also take seconds).
    if (start.trim().split(/\s+/).length !== 5 || !cron.validate(start)) throw invalid(`${where}.start: expected a five-field cron expression such as '0 23 * * *', got ${shown(start)}`);
    const duration = positiveInteger(tc.duration, `${where}.duration`);
    const timezone = tc.timezone === undefined || tc.timezone === null ? '' : typeof tc.timezone === 'string' ? tc.timezone : '';
    if (tc.timezone !== undefined && tc.timezone !== null && typeof tc.timezone !== 'string') throw invalid(`${where}.timezone: expected an IANA time zone name, got ${shown(tc.timezone)}`);
    if (timezone !== '' && !isTimeZone(timezone)) throw invalid(`${where}.timezone: expected an IANA time zone such as 'Europe/Ljubljana', got ${shown(timezone)}`);
    const description = tc.description === undefined || tc.description === null ? `Time constraint at ${start} lasting for ${duration} seconds` : text(tc.description, `${where}.description`, { min: 0, max: 1024 });
    return { name, description, start, duration, timezone };
  });
}

/** An action list: http(s):// and log:// URLs, duplicates dropped (as Aodh does). */
export function parseActions(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${field}: expected a list of URLs, got ${shown(value)}`);
  if (value.length > MAX_ACTIONS) throw invalid(`${field}: expected at most ${MAX_ACTIONS} actions, got ${value.length}`);
  const urls = value.map((item, i) => {
    const where = `${field}[${i}]`;
    const url = text(item, where, { max: 2048 });
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
    if (scheme?.startsWith('trust+')) throw invalid(`${where}: ${scheme}:// actions need Keystone trusts, which Cumulus does not use; give an ${scheme.slice('trust+'.length)}:// URL (or log://) instead, got ${shown(url)}`);
    if (scheme === undefined || !(ACTION_SCHEMES as readonly string[]).includes(scheme)) throw invalid(`${where}: expected an http://, https:// or log:// URL, got ${shown(url)}`);
    if (scheme !== 'log') {
      try {
        const parsed = new URL(url);
        if (parsed.hostname === '') throw new Error('no host');
      } catch (err) {
        throw new AlarmError('INVALID', `${where}: expected an http(s) URL with a host, got ${shown(url)}`, { cause: err });
      }
    }
    return url;
  });
  return [...new Set(urls)];
}

/** The fields of a POST/PUT body (Aodh's Alarm type), read-only ones included since the client PUTs back what it GOT. */
export const ALARM_BODY_FIELDS = [
  'alarm_id',
  'name',
  'description',
  'type',
  'enabled',
  'state',
  'state_reason',
  'severity',
  'repeat_actions',
  'time_constraints',
  'alarm_actions',
  'ok_actions',
  'insufficient_data_actions',
  'project_id',
  'user_id',
  'timestamp',
  'state_timestamp',
  'evaluate_timestamp',
  ...ALARM_TYPES.map((t) => `${t}_rule`),
  // Rule kinds of Aodh this API does not serve; the client sends them (empty) on update.
  'threshold_rule',
  'loadbalancer_member_health_rule',
] as const;

export interface ParsedAlarm {
  definition: AlarmDefinition;
  /** When the body sets a state (Aodh lets POST and PUT set it). */
  state?: AlarmState;
  state_reason?: string;
}

/**
 * Validates an Aodh alarm body. `owner` fills project_id/user_id when the body leaves them
 * out; whether the caller may name another project is the API's decision (RBAC).
 */
export function parseAlarm(input: unknown, owner: { project_id: string; user_id: string }): ParsedAlarm {
  const body = ruleObject(input, 'alarm');
  only(body, ALARM_BODY_FIELDS, 'alarm');
  const type = oneOf(body.type, ALARM_TYPES, 'type');
  // Aodh's client sends every rule it knows, empty; only the type's own rule counts, others must be empty.
  for (const key of ALARM_BODY_FIELDS.filter((f) => f.endsWith('_rule') && f !== `${type}_rule`)) {
    const other = body[key];
    if (other !== undefined && other !== null && !(isObject(other) && Object.keys(other).length === 0)) throw invalid(`${key}: an alarm of type '${type}' takes ${type}_rule, not ${key}`);
  }
  const definition: AlarmDefinition = {
    name: text(body.name, 'name'),
    description: body.description === undefined || body.description === null ? '' : text(body.description, 'description', { min: 0, max: 4096 }),
    type,
    enabled: body.enabled === undefined || body.enabled === null ? true : bool(body.enabled, 'enabled'),
    severity: body.severity === undefined || body.severity === null ? 'low' : oneOf(body.severity, ALARM_SEVERITIES, 'severity'),
    repeat_actions: body.repeat_actions === undefined || body.repeat_actions === null ? false : bool(body.repeat_actions, 'repeat_actions'),
    time_constraints: parseTimeConstraints(body.time_constraints),
    alarm_actions: parseActions(body.alarm_actions, 'alarm_actions'),
    ok_actions: parseActions(body.ok_actions, 'ok_actions'),
    insufficient_data_actions: parseActions(body.insufficient_data_actions, 'insufficient_data_actions'),
    project_id: body.project_id === undefined || body.project_id === null ? owner.project_id : text(body.project_id, 'project_id'),
    user_id: body.user_id === undefined || body.user_id === null ? owner.user_id : text(body.user_id, 'user_id'),
    rule: parseAlarmRule(type, body[`${type}_rule`]),
  };
  if (definition.description === '') definition.description = `Alarm when ${describeRule(type, definition.rule)}`;
  const parsed: ParsedAlarm = { definition };
  if (body.state !== undefined && body.state !== null) parsed.state = parseState(body.state);
  if (body.state_reason !== undefined && body.state_reason !== null) parsed.state_reason = text(body.state_reason, 'state_reason', { min: 0, max: 4096 });
  return parsed;
}

export const parseState = (value: unknown, field = 'state'): AlarmState => oneOf(value, ALARM_STATES, field);

const OPERATOR_WORDS: Record<ComparisonOperator, string> = { lt: 'is less than', le: 'is less than or equal to', eq: 'is equal to', ne: 'is not equal to', ge: 'is greater than or equal to', gt: 'is greater than' };

/** Aodh's default description ("Alarm when cpu_util is gt a mean of 70 over 60 seconds"), worded for each type. */
export function describeRule(type: AlarmType, rule: AlarmRule): string {
  const op = OPERATOR_WORDS[rule.comparison_operator as ComparisonOperator] ?? String(rule.comparison_operator);
  switch (type) {
    case 'event':
      return `event ${String(rule.event_type)} arrives`;
    case 'composite':
      return 'the composite rule holds';
    case 'log':
      return `the count of matching log lines over ${String(rule.window)} seconds ${op} ${String(rule.threshold)}`;
    case 'outage':
      return `check ${String(rule.check)} fails and the failures over ${String(rule.window)} seconds ${op} ${String(rule.threshold)}`;
    default: {
      const metric = type === 'gnocchi_aggregation_by_metrics_threshold' ? (rule.metrics as string[]).join(', ') : String(rule.metric);
      return `${metric} ${op} a ${String(rule.aggregation_method)} of ${String(rule.threshold)} over ${Number(rule.granularity) * Number(rule.evaluation_periods)} seconds`;
    }
  }
}

/** The alarm as Aodh answers it: the rule under `<type>_rule`. */
export function alarmView(alarm: Alarm): Record<string, unknown> {
  const { rule, ...rest } = alarm;
  return { ...rest, [`${alarm.type}_rule`]: rule };
}
