import { ConfigError } from '../../core/index.ts';

/** The event converter's settings, Ceilometer's `[event]` options. Stable. */
export interface EventConverterConfig {
  /** `drop_unmatched_notifications`: when false, a notification no definition matches still gives an event, with the default traits. */
  dropUnmatched: boolean;
  /**
   * `store_raw`: the priorities whose events keep the notification as `raw` ('all' for
   * every one). Ceilometer keeps none by default; we keep all, so an event can be
   * re-derived and audited from what it was made of.
   */
  storeRaw: 'all' | readonly string[];
  /** The priorities that become events: Ceilometer's event endpoint handles only info and error. */
  priorities: readonly string[];
}

export const DEFAULT_DROP_UNMATCHED = false;
export const DEFAULT_STORE_RAW = 'all' as const;
export const DEFAULT_EVENT_PRIORITIES: readonly string[] = ['info', 'error'];

export const DEFAULT_EVENT_CONVERTER_CONFIG: EventConverterConfig = {
  dropUnmatched: DEFAULT_DROP_UNMATCHED,
  storeRaw: DEFAULT_STORE_RAW,
  priorities: DEFAULT_EVENT_PRIORITIES,
};

const PRIORITIES = ['audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample'];

function priorityList(key: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((p) => typeof p !== 'string' || !PRIORITIES.includes(p.toLowerCase()))) {
    throw new ConfigError(`collectors.events.${key} must be a list of oslo priorities (${PRIORITIES.join(', ')}), got ${JSON.stringify(value)}`);
  }
  return value.map((p: string) => p.toLowerCase());
}

/** Fills defaults and refuses what cannot work, naming the key. */
export function resolveEventConverterConfig(config: Partial<EventConverterConfig>): EventConverterConfig {
  const merged = { ...DEFAULT_EVENT_CONVERTER_CONFIG, ...config };
  if (typeof merged.dropUnmatched !== 'boolean') throw new ConfigError(`collectors.events.dropUnmatched must be true or false, got ${JSON.stringify(merged.dropUnmatched)}`);
  const storeRaw = merged.storeRaw === 'all' ? 'all' : priorityList('storeRaw', merged.storeRaw);
  const priorities = priorityList('priorities', merged.priorities);
  if (priorities.length === 0) throw new ConfigError('collectors.events.priorities must name at least one priority (Ceilometer converts info and error)');
  return { dropUnmatched: merged.dropUnmatched, storeRaw, priorities };
}
