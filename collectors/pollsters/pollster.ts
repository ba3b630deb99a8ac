import { TOPICS, deriveId, encodeMeasureBatch, errorMessage, samplesAsMeasureBatch, type Clock, type ComponentTelemetry, type Lifecycle, type Logger, type Stream, type StreamRecord } from '../../core/index.ts';
import { resolveComputePollsterConfig, type ComputePollsterConfig } from './config.ts';
import { PollSamples, pollStamp } from './meters.ts';
import { eachLimited, periodicPoll } from './schedule.ts';
import type { ComputeSource } from './source.ts';

export interface ComputePollsterDeps {
  source: ComputeSource;
  stream: Stream;
  /** Stamps the samples; the timer runs on real time, so a warped clock only moves the stamps. */
  clock: Clock;
  logger: Logger;
  telemetry: ComponentTelemetry;
}

/** What one poll did, for logs, tests and a driver such as the simulator. */
export interface PollReport {
  /** The poll's instant (ISO 8601, UTC), shared by all its samples. */
  timestamp: string;
  hosts: number;
  /** Samples the stream took. */
  published: number;
  /** Hosts whose readings could not be read (or the host list itself: `*`). */
  failedHosts: string[];
  /** Samples built but not taken by the stream; the next poll reads the state again. */
  unsent: number;
}

export interface ComputePollster extends Lifecycle {
  /** Polls every host now, outside the schedule; resolves when each host's batch was sent or given up. */
  poll(): Promise<PollReport>;
}

/**
 * Ceilometer's compute agent, centralised: every interval it lists the compute hosts and,
 * per host, reads the running guests and the host's stats, builds signed samples and
 * sends them to `cumulus.samples` as one batch, keyed by resource id.
 *
 * Failures stay local: a host that cannot be read is logged and counted as refused, the
 * others are polled all the same. A batch the stream rejects is not kept for a retry:
 * the next poll reads the same counters again (cumulative values only grow, gauges are
 * current state), so what is lost is that one instant's points, never an increment.
 */
export function createComputePollster(config: Partial<ComputePollsterConfig> & Pick<ComputePollsterConfig, 'meteringSecret'>, deps: ComputePollsterDeps): ComputePollster {
  const settings = resolveComputePollsterConfig(config);
  const { source, stream, clock, logger, telemetry } = deps;

  async function pollHost(host: string, atMs: number, report: PollReport): Promise<void> {
    const batch = new PollSamples(pollStamp(host, atMs, settings.source, settings.meteringSecret));
    const [inspection, stats] = await Promise.allSettled([source.instances(host), source.hostStats(host)]);
    const failures: unknown[] = [];
    // What could be read is still sent: the instance meters do not need the host's stats, nor the reverse.
    const use = <T>(result: PromiseSettledResult<T>, add: (value: T) => void) => {
      if (result.status === 'rejected') return void failures.push(result.reason);
      try {
        add(result.value);
      } catch (err) {
        // An answer of the wrong shape (in-process readers are not checked like HTTP answers) fails this host only.
        failures.push(err);
      }
    };
    use(inspection, (value) => {
      for (const instance of value.instances) batch.addInstance(instance);
    });
    use(stats, (value) => batch.addHost(value, { hardware: settings.hardwareMeters }));
    if (failures.length > 0) {
      report.failedHosts.push(host);
      telemetry.refused(1);
      logger.warn({ host, errors: failures.map(errorMessage) }, 'pollster: could not read the host this time');
    }
    if (batch.skipped > 0) {
      telemetry.dropped(batch.skipped);
      logger.warn({ host, count: batch.skipped }, 'pollster: readings that are not finite numbers were left out');
    }
    if (batch.samples.length === 0) return;
    const count = batch.samples.length;
    // One record per sample, or the host's whole poll as one batch (named by host and time, so a resend is the same batch).
    const [topic, records]: [string, StreamRecord[]] =
      settings.publishAs === 'measure-batches'
        ? [TOPICS.measureBatches, [{ key: host, value: encodeMeasureBatch(samplesAsMeasureBatch(batch.samples, deriveId('poll', host, String(atMs), settings.source)), settings.meteringSecret) }]]
        : [TOPICS.samples, batch.samples.map((sample) => ({ key: sample.resource_id, value: Buffer.from(JSON.stringify(sample)) }))];
    try {
      await stream.send(topic, records);
      report.published += count;
      telemetry.accepted(count);
    } catch (err) {
      // Not retried here: the next poll rebuilds these from the same, newer state.
      report.unsent += count;
      telemetry.dropped(count);
      logger.warn({ host, count, err: errorMessage(err) }, 'pollster: the stream did not take the batch; the next poll reads the host again');
    }
  }

  async function poll(): Promise<PollReport> {
    const atMs = clock.nowMs();
    const report: PollReport = { timestamp: new Date(atMs).toISOString(), hosts: 0, published: 0, failedHosts: [], unsent: 0 };
    try {
      const hosts = await source.hosts();
      report.hosts = hosts.length;
      await eachLimited(
        hosts.map((h) => h.name),
        settings.maxConcurrentHosts,
        (host) => pollHost(host, atMs, report),
      );
    } catch (err) {
      report.failedHosts.push('*');
      telemetry.refused(1);
      logger.warn({ err: errorMessage(err) }, 'pollster: could not list the compute hosts; nothing polled this time');
    }
    telemetry.observeBatch(clock.nowMs() - atMs);
    logger.debug(report, 'pollster: poll done');
    return report;
  }

  return { poll, ...periodicPoll(poll, { intervalMs: settings.intervalMs, name: 'pollster', logger }) };
}
