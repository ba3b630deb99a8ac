import { dirname } from 'node:path';
import { DEFAULT_METERS_FILE, loadMeterDefinitions } from '../collectors/meters/definitions.ts';
import { MeterMapper } from '../collectors/meters/mapper.ts';
import { openEnvelope, type Notification } from '../collectors/notifications/envelope.ts';
import { sampleId, signSample, type Sample } from '../core/index.ts';
import { BENCH_MIX, benchMix, CEILOMETER_METERS_FILE, ceilometerAvailability, runCeilometer, sampleFields } from '../test/support/ceilometer.ts';
import type { BenchRow } from './report.ts';

/** Notifications in the measured run (BENCH_COLLECTOR_NOTIFICATIONS). */
export const DEFAULT_COLLECTOR_NOTIFICATIONS = 200_000;
/**
 * Notifications Ceilometer maps in the same run (BENCH_CEILOMETER_NOTIFICATIONS): a prefix
 * of the same mix, which keeps its shares; Ceilometer takes about a second per 4,000.
 */
export const DEFAULT_CEILOMETER_NOTIFICATIONS = 20_000;
/** Notifications mapped before timing, so that the JIT has settled. */
const WARMUP_NOTIFICATIONS = 20_000;
/** Notifications of the mix the split timings (envelope, meters, signatures) use. */
const SPLIT_NOTIFICATIONS = 20_000;
/** Each timing is the best of this many passes (the machine is shared: the best pass is the least disturbed). */
const PASSES = 3;
const PEER = 'ceilometer 19 (python3-ceilometer)';
const SECRET = 'metering-secret-for-the-benchmark';

interface Run {
  notifications: number;
  samples: number;
  seconds: number;
}

function best(passes: number, run: () => Run): Run {
  let fastest: Run | undefined;
  for (let i = 0; i < passes; i++) {
    const r = run();
    if (!fastest || r.seconds < fastest.seconds) fastest = r;
  }
  return fastest as Run;
}

/** The collector's work per message on this thread: the oslo envelope, the meters, the signatures. */
function endToEnd(bodies: readonly Buffer[], mapper: MeterMapper): Run {
  let samples = 0;
  const started = performance.now();
  for (const body of bodies) samples += mapper.map(openEnvelope(body)).length;
  return { notifications: bodies.length, samples, seconds: (performance.now() - started) / 1000 };
}

function envelopes(bodies: readonly Buffer[]): Run {
  const started = performance.now();
  for (const body of bodies) openEnvelope(body);
  return { notifications: bodies.length, samples: 0, seconds: (performance.now() - started) / 1000 };
}

function mapping(notifications: readonly Notification[], mapper: MeterMapper): Run {
  let samples = 0;
  const started = performance.now();
  for (const n of notifications) samples += mapper.map(n).length;
  return { notifications: notifications.length, samples, seconds: (performance.now() - started) / 1000 };
}

/** What core/records costs per sample, as the mapper calls it: the id, then the signature, redone on the samples the mapping made. */
function signing(unsigned: ReadonlyArray<Omit<Sample, 'message_signature'>>): Run {
  const started = performance.now();
  for (const sample of unsigned) {
    sampleId(sample.message_id, sample.name, sample.resource_id);
    signSample(sample, SECRET);
  }
  return { notifications: 0, samples: unsigned.length, seconds: (performance.now() - started) / 1000 };
}

/** Ceilometer's notification agent code on the same messages: oslo.messaging's decoding and dispatcher, the meter endpoint, the pipeline's volume check and the notifier publisher's signing. */
function ceilometer(bodies: readonly string[]): Run | string {
  const peer = ceilometerAvailability();
  if (!peer.available) return peer.reason;
  return runCeilometer<Run>('bench', { meters: dirname(CEILOMETER_METERS_FILE), bodies });
}

function row(name: string, value: number, unit: string, peerValue: number | null = null): BenchRow {
  return { suite: 'collector', name, value, unit, peer: peerValue === null ? null : PEER, peer_value: peerValue };
}

/**
 * Notifications per second through the collector's mapping on one core, for a realistic
 * mix (BENCH_MIX in test/support/ceilometer.ts: hourly audits, instance lifecycles,
 * hypervisor metrics, volumes, images, logins, object requests, capacity reports and
 * unmetered events), beside real Ceilometer 19's rate on the same mix in the same run;
 * then where the time goes (envelope, meters, signatures).
 */
export async function benchCollector(): Promise<BenchRow[]> {
  const count = Number(process.env.BENCH_COLLECTOR_NOTIFICATIONS ?? DEFAULT_COLLECTOR_NOTIFICATIONS);
  const peerCount = Math.min(count, Number(process.env.BENCH_CEILOMETER_NOTIFICATIONS ?? DEFAULT_CEILOMETER_NOTIFICATIONS));
  const mix = benchMix(count);
  const bodies = mix.map((m) => Buffer.from(m.body));
  process.stderr.write(`collector benchmark: ${count} notifications (${BENCH_MIX.map((k) => `${k.share}% ${k.kind}`).join(', ')})\n`);

  const ours = new MeterMapper(loadMeterDefinitions(DEFAULT_METERS_FILE), SECRET);
  const theirs = new MeterMapper(loadMeterDefinitions(CEILOMETER_METERS_FILE), SECRET);
  endToEnd(bodies.slice(0, WARMUP_NOTIFICATIONS), ours);
  endToEnd(bodies.slice(0, WARMUP_NOTIFICATIONS), theirs);
  const full = best(PASSES, () => endToEnd(bodies, ours));
  const fullTheirs = best(PASSES, () => endToEnd(bodies, theirs));
  // Where the time goes, on a prefix of the mix (holding all of it parsed would time the garbage collector).
  const part = bodies.slice(0, SPLIT_NOTIFICATIONS);
  const parsing = best(PASSES, () => envelopes(part));
  const notifications = part.map((b) => openEnvelope(b));
  const mapRun = best(PASSES, () => mapping(notifications, ours));
  // Fresh objects with the mapper's field order, as signSample receives them there.
  const unsigned = notifications.flatMap((n) => ours.map(n)).map((s) => ({ id: s.id, ...sampleFields(s), message_id: s.message_id }));
  const signRun = best(PASSES, () => signing(unsigned));
  const instanceBodies = bodies.filter((_, i) => mix[i]?.body.includes('compute.instance.exists'));
  const instances = best(PASSES, () => endToEnd(instanceBodies, ours));

  process.stderr.write(`collector benchmark: Ceilometer 19 maps the first ${peerCount} of them\n`);
  const peer = ceilometer(mix.slice(0, peerCount).map((m) => m.body));
  if (typeof peer === 'string') process.stderr.write(`Ceilometer is not available (${peer}): no peer figures\n`);
  const peerRate = typeof peer === 'string' ? null : peer.notifications / peer.seconds;
  const peerSamples = typeof peer === 'string' ? null : peer.samples / peer.seconds;

  return [
    row('notifications/s on one core: envelope + meters + signatures, bench mix, our meters.yaml', full.notifications / full.seconds, 'notifications/s', peerRate),
    row("notifications/s on one core: envelope + meters + signatures, bench mix, Ceilometer's meters.yaml", fullTheirs.notifications / fullTheirs.seconds, 'notifications/s', peerRate),
    row("samples/s on one core, bench mix, Ceilometer's meters.yaml", fullTheirs.samples / fullTheirs.seconds, 'samples/s', peerSamples),
    row('notifications/s on one core: the oslo envelope alone (JSON twice)', parsing.notifications / parsing.seconds, 'notifications/s'),
    row('notifications/s on one core: meters + signatures, the envelope already open', mapRun.notifications / mapRun.seconds, 'notifications/s'),
    row('samples/s on one core: sample ids and signatures alone (core/records)', signRun.samples / signRun.seconds, 'samples/s'),
    row('notifications/s on one core: envelope + meters + signatures, compute.instance.exists only (5 samples each)', instances.notifications / instances.seconds, 'notifications/s'),
  ];
}
