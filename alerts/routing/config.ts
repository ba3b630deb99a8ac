/**
 * The routing file: Alertmanager's route tree, receivers and inhibit_rules, in YAML or
 * JSON, plus Cumulus's `delivery` (retries and the outbox). Validated with errors that
 * name the key (`route.routes[1].group_wait: expected a duration such as 30s, 5m, 4h`).
 * Experimental: keys may still change while issue 8 settles.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_DELIVERY_POLICY, type DeliveryPolicy } from '../receivers/outbox.ts';
import { PAGERDUTY_EVENTS_URL, type PagerDutyConfig } from '../receivers/pagerduty.ts';
import type { SlackConfig } from '../receivers/slack.ts';
import type { WebhookConfig } from '../receivers/webhook.ts';
import { MatcherError } from './errors.ts';
import { RoutingConfigError } from './errors.ts';
import { parseMatcher, type Matcher } from './matchers.ts';

/** Alertmanager's defaults. */
export const DEFAULT_GROUP_WAIT_MS = 30_000;
export const DEFAULT_GROUP_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_REPEAT_INTERVAL_MS = 4 * 3_600_000;
/** How often the notifier's loop looks for due groups and due outbox rows; the clock decides what is due. */
export const DEFAULT_TICK_MS = 1_000;
/** How long "mark as false positive" silences an alarm unless told otherwise. */
export const DEFAULT_FALSE_POSITIVE_MS = 7 * 24 * 3_600_000;
/** The receiver of the built-in configuration: no integration, nothing sent (only Aodh's own actions are). */
export const NULL_RECEIVER = 'null';

export interface RouteNode {
  /** Position in the tree ('0', '0.1', '0.1.0'): the key groups are stored under. */
  id: string;
  receiver: string;
  matchers: Matcher[];
  /** Label names to group by; 'all' for Alertmanager's '...'. */
  groupBy: string[] | 'all';
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  continue: boolean;
  routes: RouteNode[];
}

export interface ReceiverConfig {
  name: string;
  slack: SlackConfig[];
  pagerduty: PagerDutyConfig[];
  webhook: WebhookConfig[];
}

export interface InhibitRule {
  source: Matcher[];
  target: Matcher[];
  /** Labels the source and the target must share (missing on both counts as equal). */
  equal: string[];
}

export interface RoutingConfig {
  externalUrl: string;
  route: RouteNode;
  receivers: ReadonlyMap<string, ReceiverConfig>;
  inhibitRules: InhibitRule[];
  delivery: DeliveryPolicy;
  tickMs: number;
  falsePositiveMs: number;
}

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Alertmanager's duration: `30s`, `5m`, `4h`, `1h30m`, `1d`, `500ms`, or `0`. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const m = DURATION.exec(text);
  if (!m || text === '') return undefined;
  return UNIT_MS.reduce((sum, unit, i) => sum + Number(m[i + 1] ?? 0) * unit, 0);
}

const duration = z.string().refine((s) => parseDuration(s) !== undefined, { message: 'expected a duration such as 30s, 5m, 4h or 1h30m' });
const httpUrl = z.string().refine((s) => {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}, { message: 'expected an http:// or https:// URL' });
const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'expected a label name ([a-zA-Z_][a-zA-Z0-9_]*)');
const matcherList = z.array(z.string());

const routeSchema = z.strictObject({
  receiver: z.string().min(1).optional(),
  matchers: matcherList.optional(),
  group_by: z.array(z.union([z.literal('...'), labelName])).optional(),
  group_wait: duration.optional(),
  group_interval: duration.optional(),
  repeat_interval: duration.optional(),
  continue: z.boolean().optional(),
  routes: z.array(z.unknown()).optional(),
});

const slackSchema = z.strictObject({ api_url: httpUrl, channel: z.string().min(1).optional(), username: z.string().min(1).optional(), send_resolved: z.boolean().default(true) });
const pagerdutySchema = z.strictObject({
  routing_key: z.string().min(1),
  url: httpUrl.default(PAGERDUTY_EVENTS_URL),
  send_resolved: z.boolean().default(true),
  send_insufficient_data: z.boolean().default(false),
  source: z.string().min(1).optional(),
  severity: z.enum(['critical', 'error', 'warning', 'info']).optional(),
  class: z.string().optional(),
  group: z.string().optional(),
});
const webhookSchema = z.strictObject({ url: httpUrl, send_resolved: z.boolean().default(true), format: z.enum(['alertmanager', 'aodh']).default('alertmanager'), max_alerts: z.number().int().min(0).default(0) });
const receiverSchema = z.strictObject({
  name: z.string().min(1),
  slack_configs: z.array(slackSchema).default([]),
  pagerduty_configs: z.array(pagerdutySchema).default([]),
  webhook_configs: z.array(webhookSchema).default([]),
});
const inhibitSchema = z.strictObject({ source_matchers: matcherList.min(1), target_matchers: matcherList.min(1), equal: z.array(labelName).default([]) });
const deliverySchema = z.strictObject({
  timeout: duration.optional(),
  initial_backoff: duration.optional(),
  max_backoff: duration.optional(),
  max_age: duration.optional(),
  batch_size: z.number().int().min(1).max(1000).optional(),
});
const fileSchema = z.strictObject({
  global: z.strictObject({ external_url: z.union([httpUrl, z.literal('')]).default('') }).default({ external_url: '' }),
  route: z.unknown(),
  receivers: z.array(receiverSchema).min(1),
  inhibit_rules: z.array(inhibitSchema).default([]),
  delivery: deliverySchema.default({}),
  tick_interval: duration.optional(),
  false_positive_duration: duration.optional(),
});

const keyPath = (prefix: string, path: readonly PropertyKey[]) =>
  path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc === '' ? String(p) : `${acc}.${String(p)}`), prefix);

function parsed<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 5).map((i) => {
    const received = i.path.reduce<unknown>((v, p) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined), value);
    return `${keyPath(prefix, i.path) || '(top level)'}: ${i.message}${received === undefined ? '' : `, got ${JSON.stringify(received)}`}`;
  });
  throw new RoutingConfigError(`routing config: ${issues.join('; ')}`, result.error);
}

function matcherListOf(texts: readonly string[] | undefined, where: string): Matcher[] {
  return (texts ?? []).map((t, i) => {
    try {
      return parseMatcher(t, `${where}[${i}]`);
    } catch (err) {
      if (err instanceof MatcherError) throw new RoutingConfigError(`routing config: ${err.message}`, err);
      throw err;
    }
  });
}

function routeOf(value: unknown, where: string, id: string, parent: RouteNode | undefined, receivers: ReadonlyMap<string, ReceiverConfig>): RouteNode {
  const raw = parsed(routeSchema, value, where);
  const receiver = raw.receiver ?? parent?.receiver;
  if (receiver === undefined) throw new RoutingConfigError(`routing config: ${where}.receiver: the root route needs a receiver (one of ${[...receivers.keys()].join(', ')})`);
  if (!receivers.has(receiver)) throw new RoutingConfigError(`routing config: ${where}.receiver: expected one of the receivers (${[...receivers.keys()].join(', ')}), got ${JSON.stringify(receiver)}`);
  if (parent === undefined && (raw.matchers?.length ?? 0) > 0) throw new RoutingConfigError(`routing config: ${where}.matchers: the root route matches every alert and takes no matchers`);
  const groupBy = raw.group_by === undefined ? (parent?.groupBy ?? []) : raw.group_by.includes('...') ? 'all' : raw.group_by;
  const node: RouteNode = {
    id,
    receiver,
    matchers: matcherListOf(raw.matchers, `${where}.matchers`),
    groupBy,
    groupWaitMs: raw.group_wait === undefined ? (parent?.groupWaitMs ?? DEFAULT_GROUP_WAIT_MS) : (parseDuration(raw.group_wait) as number),
    groupIntervalMs: raw.group_interval === undefined ? (parent?.groupIntervalMs ?? DEFAULT_GROUP_INTERVAL_MS) : (parseDuration(raw.group_interval) as number),
    repeatIntervalMs: raw.repeat_interval === undefined ? (parent?.repeatIntervalMs ?? DEFAULT_REPEAT_INTERVAL_MS) : (parseDuration(raw.repeat_interval) as number),
    continue: raw.continue ?? false,
    routes: [],
  };
  if (node.groupIntervalMs <= 0) throw new RoutingConfigError(`routing config: ${where}.group_interval: expected a duration above 0, got ${JSON.stringify(raw.group_interval)}`);
  if (node.repeatIntervalMs <= 0) throw new RoutingConfigError(`routing config: ${where}.repeat_interval: expected a duration above 0, got ${JSON.stringify(raw.repeat_interval)}`);
  node.routes = (raw.routes ?? []).map((child, i) => routeOf(child, `${where}.routes[${i}]`, `${id}.${i}`, node, receivers));
  return node;
}

/** Validates a routing file's content (already parsed from YAML or JSON). */
export function parseRoutingConfig(value: unknown): RoutingConfig {
  const file = parsed(fileSchema, value, '');
  const receivers = new Map<string, ReceiverConfig>();
  file.receivers.forEach((r, i) => {
    if (receivers.has(r.name)) throw new RoutingConfigError(`routing config: receivers[${i}].name: expected a unique name, got ${JSON.stringify(r.name)} twice`);
    receivers.set(r.name, { name: r.name, slack: r.slack_configs, pagerduty: r.pagerduty_configs, webhook: r.webhook_configs });
  });
  if (file.route === undefined) throw new RoutingConfigError('routing config: route: expected the root route ({receiver, group_by, routes, ...}), got nothing');
  const route = routeOf(file.route, 'route', '0', undefined, receivers);
  const inhibitRules = file.inhibit_rules.map((r, i) => ({ source: matcherListOf(r.source_matchers, `inhibit_rules[${i}].source_matchers`), target: matcherListOf(r.target_matchers, `inhibit_rules[${i}].target_matchers`), equal: r.equal }));
  const d = file.delivery;
  const ms = (text: string | undefined, fallback: number) => (text === undefined ? fallback : (parseDuration(text) as number));
  const delivery: DeliveryPolicy = {
    timeoutMs: ms(d.timeout, DEFAULT_DELIVERY_POLICY.timeoutMs),
    initialBackoffMs: ms(d.initial_backoff, DEFAULT_DELIVERY_POLICY.initialBackoffMs),
    maxBackoffMs: ms(d.max_backoff, DEFAULT_DELIVERY_POLICY.maxBackoffMs),
    maxAgeMs: ms(d.max_age, DEFAULT_DELIVERY_POLICY.maxAgeMs),
    batchSize: d.batch_size ?? DEFAULT_DELIVERY_POLICY.batchSize,
  };
  if (delivery.timeoutMs <= 0) throw new RoutingConfigError(`routing config: delivery.timeout: expected a duration above 0, got ${JSON.stringify(d.timeout)}`);
  if (delivery.initialBackoffMs <= 0 || delivery.maxBackoffMs < delivery.initialBackoffMs) throw new RoutingConfigError(`routing config: delivery.max_backoff: expected at least delivery.initial_backoff (both above 0), got ${JSON.stringify(d.initial_backoff)} and ${JSON.stringify(d.max_backoff)}`);
  const tickMs = ms(file.tick_interval, DEFAULT_TICK_MS);
  if (tickMs < 10) throw new RoutingConfigError(`routing config: tick_interval: expected at least 10ms, got ${JSON.stringify(file.tick_interval)}`);
  const falsePositiveMs = ms(file.false_positive_duration, DEFAULT_FALSE_POSITIVE_MS);
  if (falsePositiveMs <= 0) throw new RoutingConfigError(`routing config: false_positive_duration: expected a duration above 0, got ${JSON.stringify(file.false_positive_duration)}`);
  return { externalUrl: file.global.external_url, route, receivers, inhibitRules, delivery, tickMs, falsePositiveMs };
}

/** Reads a routing file: YAML (JSON is YAML too). */
export function loadRoutingConfig(path: string): RoutingConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RoutingConfigError(`routing config: expected a readable file at ${path}`, err);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new RoutingConfigError(`routing config: ${path} is not valid YAML or JSON: ${(err as Error).message}`, err);
  }
  return parseRoutingConfig(value);
}

/** No routing file: one receiver that sends nothing; Aodh's own alarm actions still go out. */
export function defaultRoutingConfig(): RoutingConfig {
  return parseRoutingConfig({ route: { receiver: NULL_RECEIVER }, receivers: [{ name: NULL_RECEIVER }] });
}

/** Every secret the config holds (webhook URLs, routing keys): scrubbed from any error text. */
export function configSecrets(config: RoutingConfig): string[] {
  const out: string[] = [];
  for (const r of config.receivers.values()) {
    for (const s of r.slack) out.push(s.api_url);
    for (const p of r.pagerduty) out.push(p.routing_key);
    for (const w of r.webhook) out.push(w.url);
  }
  return out;
}
