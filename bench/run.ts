import { reachable } from '../test/support/services.ts';
import { benchAlerts } from './alerts.ts';
import { benchApiBesideGnocchi } from './api.ts';
import { benchCollector } from './collector.ts';
import { benchEvents } from './events.ts';
import { benchPipelineBesideGnocchi } from './pipeline.ts';
import { benchRating } from './rating.ts';
import { benchSlice } from './slice.ts';
import { benchStorageFloor } from './storage-floor.ts';
import { printTable, writeResults, type BenchRow } from './report.ts';

/**
 * `npm run bench`: every benchmark, sized for this 2-core machine. Each prints a table
 * and the rows go to bench/results/latest.json ({suite, name, value, unit, peer, peer_value}).
 * BENCH_NOTIFICATIONS scales the slice benchmark (default 20,000 notifications = 60,000 samples);
 * BENCH_ONLY=slice,pipeline,collector,events,api,rating,alerts picks suites (rating: BENCH_RATING_PROJECTS, BENCH_RATING_DAYS;
 * alerts: BENCH_ALARMS, BENCH_ALERT_RESOURCES, BENCH_ALERT_ROUNDS, BENCH_ALERT_LATENCY_RUNS); BENCH_PIPELINE_QUICK=1 shrinks the pipeline shapes.
 */
async function main(): Promise<void> {
  const notifications = Number(process.env.BENCH_NOTIFICATIONS ?? 20_000);
  // BENCH_ONLY=slice,pipeline,collector,events,api,rating,alerts runs just those suites (default: all).
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const runs = (suite: string) => !only || only.includes(suite);
  const rows: BenchRow[] = [];
  if (runs('slice')) {
    process.stderr.write(`slice benchmark: ${notifications} notifications, ${notifications * 3} samples\n`);
    rows.push(await benchSlice('embedded', notifications, {}));
  }
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  if (await reachable(brokers.split(',')[0] as string)) {
    if (runs('slice')) rows.push(await benchSlice('kafka', notifications, { KAFKA_BROKERS: brokers }));
    if (runs('pipeline')) rows.push(...(await benchPipelineBesideGnocchi(brokers.split(','))));
  } else {
    process.stderr.write(`Kafka is not reachable at ${brokers}: the Kafka-path and pipeline benchmarks did not run (bash scripts/kafka.sh start)\n`);
  }
  if (runs('collector')) {
    process.stderr.write('notification mapping benchmark (ours and Ceilometer 19, same mix)\n');
    rows.push(...(await benchCollector()));
  }
  if (runs('api')) {
    process.stderr.write('API read benchmark under load (ours and Gnocchi 4.4, same data, load from a second process)\n');
    rows.push(...(await benchApiBesideGnocchi()));
  }
  if (runs('events')) {
    process.stderr.write('event conversion benchmark (ours and Ceilometer 19, same corpus)\n');
    rows.push(...(await benchEvents()));
  }
  if (runs('floor')) {
    process.stderr.write('storage floor: what chDB alone takes per measure, JSON and Native inserts, with and without rollups (1000 x 1000)\n');
    rows.push(...(await benchStorageFloor()));
  }
  if (runs('rating')) {
    process.stderr.write('rating benchmark: a month of hourly periods (BENCH_RATING_PROJECTS x 20 resources), statements; CloudKitty 17 hashmap on the same frames\n');
    rows.push(...(await benchRating()));
  }
  if (runs('alerts')) {
    process.stderr.write('alerts benchmark: gnocchi alarms evaluated per second (ours and Aodh 15 on Gnocchi 4.4, same data), breach -> webhook latency\n');
    rows.push(...(await benchAlerts()));
  }
  printTable(rows);
  writeResults(rows);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
