import { DEFAULT_EVENT_DEFINITIONS_FILE, EventConverter, loadEventDefinitions } from '../collectors/events/index.ts';
import { openEnvelope, type Notification } from '../collectors/notifications/envelope.ts';
import { CEILOMETER_EVENT_DEFINITIONS, buildEventCorpus, ceilometerBench, ceilometerUnavailable } from '../test/support/ceilometer-events.ts';
import type { BenchRow } from './report.ts';

export const CEILOMETER_PEER = 'ceilometer 19 (python3-ceilometer)';
/** How long each side converts; BENCH_EVENTS_SECONDS overrides. */
export const DEFAULT_BENCH_EVENTS_SECONDS = 3;
const WARM_UP_MS = 500;

/** Converts the messages round and round for `seconds`; events per second. */
function measure(seconds: number, convertAll: () => number): number {
  const warmUntil = performance.now() + WARM_UP_MS;
  while (performance.now() < warmUntil) convertAll();
  let events = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    events += convertAll();
    elapsed = performance.now() - started;
  }
  return events / (elapsed / 1000);
}

/**
 * Events per second on one core: our EventConverter with our definitions and, in the same
 * run, Ceilometer 19's NotificationEventsConverter with its own (the same event types and
 * traits) through /usr/bin/python3 — both from decoded notifications, over the
 * compatibility test's corpus as the control plane emits it (its edge cases left out,
 * since some of them fail on purpose). A third row adds decoding the bytes from the bus.
 */
export async function benchEvents(): Promise<BenchRow[]> {
  const seconds = Number(process.env.BENCH_EVENTS_SECONDS ?? DEFAULT_BENCH_EVENTS_SECONDS);
  const corpus = (await buildEventCorpus()).filter((entry) => !entry.label.startsWith('edge:'));
  const converter = new EventConverter(loadEventDefinitions(DEFAULT_EVENT_DEFINITIONS_FILE));
  const notifications: Notification[] = corpus.map((entry) => openEnvelope(entry.body));
  const bodies = corpus.map((entry) => entry.body);

  const convertAll = () => {
    let made = 0;
    for (const n of notifications) if (converter.convert(n)) made++;
    return made;
  };
  const decodeAndConvertAll = () => {
    let made = 0;
    for (const body of bodies) if (converter.convert(openEnvelope(body))) made++;
    return made;
  };
  process.stderr.write(`events benchmark: ${notifications.length} notifications, ${seconds} s per side\n`);
  const ours = measure(seconds, convertAll);
  const withDecoding = measure(seconds, decodeAndConvertAll);

  let peer: number | null = null;
  const unavailable = ceilometerUnavailable();
  if (unavailable) process.stderr.write(`Ceilometer's converter did not run: ${unavailable}\n`);
  else peer = (await ceilometerBench(CEILOMETER_EVENT_DEFINITIONS, corpus.map((entry) => entry.message), seconds)).events_per_second;

  return [
    { suite: 'events', name: 'notification -> event (1 core)', value: ours, unit: 'events/s', peer: unavailable ? null : CEILOMETER_PEER, peer_value: peer },
    { suite: 'events', name: 'bus bytes -> event, with envelope decoding (1 core)', value: withDecoding, unit: 'events/s', peer: null, peer_value: null },
  ];
}
