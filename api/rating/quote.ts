import type { FastifyInstance, FastifyRequest, RouteHandlerMethod, RouteShorthandOptions } from 'fastify';
import { Money, parseRuleTime, shownAmount, sumAmounts, type HashmapRules, type UsageFrame } from '../../storage/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { callerOf, TOKEN_SECURITY, useErrorStyle } from '../http.ts';
import { NO_OTHER_FIELDS, requireJsonBody } from '../params.ts';

/** The rating period a quote's volume is for (the rating processor's default period). */
export const QUOTE_PERIOD_MS = 3_600_000;
/** At most a leap year of hourly periods. */
export const MAX_QUOTE_HOURS = 8784;
export const MAX_QUOTE_RESOURCES = 1000;

const DECIMAL_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

interface QuoteResource {
  service: string;
  desc?: Record<string, unknown> | null;
  volume: string | number;
}

interface QuoteBody {
  resources: QuoteResource[];
  hours?: number;
  start?: string;
}

/** A metadata value as CloudKitty compares it: str(value). */
const text = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'boolean' ? (value ? 'True' : 'False') : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));

/**
 * What a quoted resource's `desc` matches fields against: its `metadata` and `groupby`
 * objects when it has them (CloudKitty's v2 data points), else the object itself (v1).
 */
function metadataOf(desc: Record<string, unknown> | null | undefined): Record<string, string> {
  if (desc === null || desc === undefined) return {};
  const nested = ['metadata', 'groupby'].filter((key) => typeof desc[key] === 'object' && desc[key] !== null && !Array.isArray(desc[key]));
  const source = nested.length > 0 ? Object.assign({}, ...nested.map((key) => desc[key] as Record<string, unknown>)) : desc;
  return Object.fromEntries(Object.entries(source as Record<string, unknown>).map(([key, value]) => [key, text(value)]));
}

/** Instants where some rule starts or ends, strictly inside (fromMs, toMs): the rules in force change only there. */
function ruleChanges(rules: HashmapRules, fromMs: number, toMs: number): number[] {
  const instants = new Set<number>();
  for (const rule of [...rules.mappings, ...rules.thresholds]) {
    for (const t of [rule.start, rule.end]) {
      if (t === null) continue;
      const ms = Date.parse(`${t}Z`);
      if (ms > fromMs && ms < toMs) instants.add(ms);
    }
  }
  return [...instants].sort((a, b) => a - b);
}

/**
 * CloudKitty's /v1/rating/quote: the price of resources before they exist, with the rules in
 * force now, as one JSON number (CloudKitty's float; ours is exact decimal text rounded to the
 * currency's minor unit, docs/rating.md). Any authenticated caller (`rating:quote`); the
 * caller's project's own prices apply (CloudKitty quotes without a project).
 *
 * Our extension, documented in docs/rating.md: `hours` (default 1) quotes that many
 * consecutive hourly periods from `start` (default now), each priced like a rated frame
 * (with the rule in force at its start, cost kept to 9 places) and summed: a 30-day month is
 * `"hours": 720`. The response's `x-cumulus-currency` header names the currency.
 */
export function registerQuoteRoutes(instance: FastifyInstance, context: ApiContext): void {
  instance.register(async (v1) => {
    useErrorStyle(v1, 'wsme');
    const options: RouteShorthandOptions = {
      preValidation: [async (request: FastifyRequest) => context.access.enforce('rating:quote', callerOf(request)), requireJsonBody],
      schema: {
        tags: ['rating'],
        summary: 'Quote the price of resources before deploying them',
        description:
          'Each resource: service (a hashmap service: instance, volume.size, ...), desc (the metadata its fields match: flavor_name, os_distro, volume_type, ...; or {metadata, groupby}), volume (the quantity per hour: 1 instance, 20 GiB). Answers the total as a JSON number rounded to the currency minor unit. Extension: hours (default 1, e.g. 720 for a 30-day month) and start (default now).',
        security: TOKEN_SECURITY,
        body: {
          type: 'object',
          required: ['resources'],
          properties: {
            resources: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_QUOTE_RESOURCES,
              items: {
                type: 'object',
                required: ['service', 'volume'],
                properties: {
                  service: { type: 'string', minLength: 1, maxLength: 255 },
                  desc: { type: ['object', 'null'] },
                  volume: { type: ['string', 'number'], description: 'decimal; text keeps every digit' },
                },
                additionalProperties: NO_OTHER_FIELDS,
              },
            },
            hours: { type: 'integer', minimum: 1, maximum: MAX_QUOTE_HOURS, description: 'consecutive hourly periods quoted (our extension; default 1)' },
            start: { type: 'string', maxLength: 64, description: 'ISO 8601 instant the first period starts (our extension; default now)' },
          },
          additionalProperties: NO_OTHER_FIELDS,
        },
      },
    };
    const handler: RouteHandlerMethod = async (request, reply) => {
      const identity = callerOf(request);
      const body = request.body as QuoteBody;
      const hours = body.hours ?? 1;
      let startMs: number;
      try {
        startMs = body.start === undefined ? context.clock.nowMs() : (parseRuleTime('start', body.start) as number);
      } catch (err) {
        throw new ApiError('CUMULUS_API_INVALID_INPUT', 400, `Invalid input: body.start: ${(err as Error).message}`);
      }
      const resources = body.resources.map((resource, i) => {
        const volume = typeof resource.volume === 'number' ? String(resource.volume) : resource.volume.trim();
        if (!DECIMAL_TEXT.test(volume) || new Money(volume).isNegative()) throw new ApiError('CUMULUS_API_INVALID_INPUT', 400, `Invalid input: body.resources[${i}].volume must be a decimal >= 0 (such as "1" or "20.5"), got ${JSON.stringify(resource.volume)}`);
        return { service: resource.service, volume: new Money(volume).toFixed(), metadata: metadataOf(resource.desc) };
      });

      // 1. one rater for the whole quote, so every period sees the same rules; 2. the rules
      // in force change only at rule starts and ends: price one period per stretch between
      // them and count it for each hour of the stretch (same as pricing every hour).
      const rater = context.hashmap.rater();
      const endMs = startMs + hours * QUOTE_PERIOD_MS;
      const changes = ruleChanges(context.hashmap.rules(), startMs, endMs);
      const costs: Array<InstanceType<typeof Money>> = [];
      let hour = 0;
      while (hour < hours) {
        const periodStart = startMs + hour * QUOTE_PERIOD_MS;
        const nextChange = changes.find((t) => t > periodStart);
        // Hours whose start is before the next change share this period's rules.
        const stretch = nextChange === undefined ? hours - hour : Math.min(hours - hour, Math.max(1, Math.ceil((nextChange - periodStart) / QUOTE_PERIOD_MS)));
        resources.forEach((resource, i) => {
          const frame: UsageFrame = {
            service: resource.service,
            projectId: identity.projectId ?? '',
            userId: identity.userId ?? '',
            resourceId: `quote-${i}`,
            resourceType: 'generic',
            periodStart: new Date(periodStart),
            periodEnd: new Date(periodStart + QUOTE_PERIOD_MS),
            quantity: resource.volume,
            unit: 'undef',
            metadata: resource.metadata,
            groupby: {},
          };
          const rated = rater.rate(frame);
          if (rated !== null) costs.push(new Money(rated.cost).times(stretch));
        });
        hour += stretch;
      }
      // A JSON number written from decimal text: never through a binary float.
      return reply.type('application/json').header('x-cumulus-currency', rater.currency).send(shownAmount(sumAmounts(costs)));
    };
    v1.post('/v1/rating/quote', options, handler);
    v1.post('/v1/rating/quote/', { ...options, schema: { ...(options.schema ?? {}), hide: true } as RouteShorthandOptions['schema'] }, handler);
  });
}
