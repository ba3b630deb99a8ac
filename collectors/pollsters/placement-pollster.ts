import { ConfigError, TOPICS, errorMessage, type Clock, type ComponentTelemetry, type Lifecycle, type Logger, type Stream, type StreamRecord } from '../../core/index.ts';
import { DEFAULT_MAX_CONCURRENT_HOSTS, DEFAULT_SAMPLE_SOURCE, MAX_CONCURRENT_HOSTS, MAX_POLLING_INTERVAL_MS, MIN_METERING_SECRET_LENGTH, MIN_POLLING_INTERVAL_MS } from './config.ts';
import { providerSamples } from './placement-meters.ts';
import { eachLimited, periodicPoll } from './schedule.ts';
import type { PlacementSource } from './placement-source.ts';

/**
 * Five minutes: capacity moves with boots and deletes, and the forecasts read hourly means,
 * so twelve points an hour are plenty; the reads are light (four GETs per provider).
 */
export const DEFAULT_PLACEMENT_POLLING_INTERVAL_MS = 300_000;

/** The Placement pollster's settings. Experimental. */
export interface PlacementPollsterConfig {
  /** Time between two polls; the first runs at start. */
  intervalMs: number;
  /** HMAC key the samples are signed with (the pipeline verifies it). */
  meteringSecret: string;
  /** The samples' `source`. */
  source: string;
  /** Providers read at once. */
  maxConcurrentProviders: number;
}

export const DEFAULT_PLACEMENT_POLLSTER_CONFIG: Omit<PlacementPollsterConfig, 'meteringSecret'> = {
  intervalMs: DEFAULT_PLACEMENT_POLLING_INTERVAL_MS,
  source: DEFAULT_SAMPLE_SOURCE,
  maxConcurrentProviders: DEFAULT_MAX_CONCURRENT_HOSTS,
};

function wholeNumber(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${field} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  return value;
}

/** Fills the defaults and refuses what cannot work, naming the field. */
export function resolvePlacementPollsterConfig(config: Partial<PlacementPollsterConfig> & Pick<PlacementPollsterConfig, 'meteringSecret'>): PlacementPollsterConfig {
  const merged = { ...DEFAULT_PLACEMENT_POLLSTER_CONFIG, ...config };
  if (typeof merged.meteringSecret !== 'string' || merged.meteringSecret.length < MIN_METERING_SECRET_LENGTH) {
    throw new ConfigError(`pollsters.placement.meteringSecret must be at least ${MIN_METERING_SECRET_LENGTH} characters; got ${typeof merged.meteringSecret === 'string' ? `${merged.meteringSecret.length}` : typeof merged.meteringSecret}`);
  }
  if (typeof merged.source !== 'string' || merged.source.trim() === '') throw new ConfigError(`pollsters.placement.source must be a non-empty string; got ${JSON.stringify(merged.source)}`);
  return {
    intervalMs: wholeNumber('pollsters.placement.intervalMs', merged.intervalMs, MIN_POLLING_INTERVAL_MS, MAX_POLLING_INTERVAL_MS),
    meteringSecret: merged.meteringSecret,
    source: merged.source,
    maxConcurrentProviders: wholeNumber('pollsters.placement.maxConcurrentProviders', merged.maxConcurrentProviders, 1, MAX_CONCURRENT_HOSTS),
  };
}

export interface PlacementPollsterDeps {
  source: PlacementSource;
  stream: Stream;
  /** Stamps the samples; the timer runs on real time, so a warped clock only moves the stamps. */
  clock: Clock;
  logger: Logger;
  telemetry: ComponentTelemetry;
}

/** What one poll did, for logs, tests and a driver such as the simulator. */
export interface PlacementPollReport {
  /** The poll's instant (ISO 8601, UTC), shared by all its samples. */
  timestamp: string;
  providers: number;
  /** Samples the stream took. */
  published: number;
  /** Providers that could not be read (or the list itself: `*`). */
  failedProviders: string[];
  /** Samples built but not taken by the stream; the next poll reads the state again. */
  unsent: number;
  /** False when Nova's zones could not be read: samples then carry availability_zone null. */
  zonesRead: boolean;
}

export interface PlacementPollster extends Lifecycle {
  /** Polls every provider now, outside the schedule. */
  poll(): Promise<PlacementPollReport>;
}

/**
 * Every interval: lists Placement's resource providers and, per provider, reads its
 * inventories, usages and aggregates, adds Nova's availability zone of its host, and sends
 * the signed `placement.*` samples to `cumulus.samples`, one batch per provider keyed by
 * its uuid. As with the compute pollster, failures stay local (one provider, or the zones)
 * and a batch the stream refuses is not retried: the next poll reads newer state anyway,
 * and every meter is a gauge, so nothing is lost but that instant's points.
 */
export function createPlacementPollster(config: Partial<PlacementPollsterConfig> & Pick<PlacementPollsterConfig, 'meteringSecret'>, deps: PlacementPollsterDeps): PlacementPollster {
  const settings = resolvePlacementPollsterConfig(config);
  const { source, stream, clock, logger, telemetry } = deps;

  async function poll(): Promise<PlacementPollReport> {
    const atMs = clock.nowMs();
    const report: PlacementPollReport = { timestamp: new Date(atMs).toISOString(), providers: 0, published: 0, failedProviders: [], unsent: 0, zonesRead: true };
    try {
      // 1. the providers and the zones at once: the zones only label the samples, so their failure is not the poll's.
      const [providers, zones] = await Promise.all([
        source.providers(),
        source.availabilityZones().catch((err: unknown) => {
          report.zonesRead = false;
          logger.warn({ err: errorMessage(err) }, 'placement pollster: could not read the availability zones; samples carry none this time');
          return {} as Record<string, string>;
        }),
      ]);
      report.providers = providers.length;
      // 2. per provider: read, build, send.
      await eachLimited(providers, settings.maxConcurrentProviders, async (provider) => {
        let batch: ReturnType<typeof providerSamples>;
        try {
          const detail = await source.provider(provider.uuid);
          batch = providerSamples(provider, detail, zones[provider.name] ?? null, { atMs, source: settings.source, secret: settings.meteringSecret });
        } catch (err) {
          report.failedProviders.push(provider.uuid);
          telemetry.refused(1);
          logger.warn({ provider: provider.uuid, name: provider.name, err: errorMessage(err) }, 'placement pollster: could not read the provider this time');
          return;
        }
        if (batch.skipped > 0) {
          telemetry.dropped(batch.skipped);
          logger.warn({ provider: provider.uuid, count: batch.skipped }, 'placement pollster: readings that are not finite numbers were left out');
        }
        if (batch.samples.length === 0) return;
        const records: StreamRecord[] = batch.samples.map((sample) => ({ key: sample.resource_id, value: Buffer.from(JSON.stringify(sample)) }));
        try {
          await stream.send(TOPICS.samples, records);
          report.published += records.length;
          telemetry.accepted(records.length);
        } catch (err) {
          report.unsent += records.length;
          telemetry.dropped(records.length);
          logger.warn({ provider: provider.uuid, count: records.length, err: errorMessage(err) }, 'placement pollster: the stream did not take the batch; the next poll reads the provider again');
        }
      });
    } catch (err) {
      report.failedProviders.push('*');
      telemetry.refused(1);
      logger.warn({ err: errorMessage(err) }, 'placement pollster: could not list the resource providers; nothing polled this time');
    }
    telemetry.observeBatch(clock.nowMs() - atMs);
    logger.debug(report, 'placement pollster: poll done');
    return report;
  }

  return { poll, ...periodicPoll(poll, { intervalMs: settings.intervalMs, name: 'placement pollster', logger }) };
}
