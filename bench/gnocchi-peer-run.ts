import { benchGnocchi, gnocchiAvailability, GNOCCHI_QUICK_OPTIONS, startGnocchi, stopGnocchi, type GnocchiFigures } from './gnocchi-peer.ts';

/**
 * `npx tsx bench/gnocchi-peer-run.ts`: the Gnocchi peer alone. Starts a clean Gnocchi with
 * scripts/gnocchi.sh, runs benchGnocchi (smaller sizes with BENCH_GNOCCHI_QUICK=1), prints
 * the figures (a summary, then the JSON), and stops Gnocchi whatever happened.
 */

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

function summary(f: GnocchiFigures): string {
  const lines = [
    `Gnocchi ${f.version} at ${f.url}: archive policy ${f.archivePolicy.name} (60 s x 1 day; ${f.archivePolicy.aggregation_methods.join('/')}), data on ${f.day}`,
    `setup: ${f.setup ? JSON.stringify(f.setup) : '(not the script instance)'}`,
    `batches: about ${fmt(f.batchMeasures, 0)} measures per POST, ${f.concurrency} in flight`,
    '',
  ];
  for (const i of f.ingestion) {
    lines.push(
      `ingestion ${i.metrics} metrics x ${i.pointsPerMetric} points: ${fmt(i.measuresPerSecond, 0)} measures/s end to end ` +
        `(${fmt(i.seconds, 2)} s first POST -> empty backlog; API accepted in ${fmt(i.postSeconds, 2)} s = ${fmt(i.acceptedMeasuresPerSecond, 0)}/s; ` +
        `${i.requests} POSTs of ${fmt(i.measuresPerRequest, 0)}; metrics created at ${fmt(i.metricsCreatedPerSecond, 0)}/s)`,
    );
  }
  for (const r of f.reads) {
    lines.push(`one metric's day at 60 s (${r.points} points): p50 ${fmt(r.p50Ms, 2)} ms, p95 ${fmt(r.p95Ms, 2)} ms (min ${fmt(r.minMs, 2)}, max ${fmt(r.maxMs, 2)}; ${r.runs} reads over ${r.metrics} metrics)`);
  }
  for (const a of f.aggregates) {
    if ('error' in a) lines.push(`mean across ${a.metrics} metrics: failed: ${a.error}`);
    else lines.push(`mean across ${a.metrics} metrics (/v1/aggregates, ${a.points} points): p50 ${fmt(a.p50Ms, 1)} ms, p95 ${fmt(a.p95Ms, 1)} ms (min ${fmt(a.minMs, 1)}; ${a.runs} runs)`);
  }
  lines.push(`benchGnocchi took ${fmt(f.seconds, 1)} s; load average ${fmt(f.loadAverage.before, 2)} before, ${fmt(f.loadAverage.after, 2)} after`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const quick = process.env.BENCH_GNOCCHI_QUICK === '1';
  const started = performance.now();
  const stopOnSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping Gnocchi\n`);
    stopGnocchi();
    process.exit(130);
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  startGnocchi();
  try {
    const availability = await gnocchiAvailability();
    if (!availability.available) throw new Error(availability.reason);
    const figures = await benchGnocchi(quick ? GNOCCHI_QUICK_OPTIONS : {});
    process.stdout.write(`\n${summary(figures)}\n\n${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    stopGnocchi();
  }
  process.stderr.write(`gnocchi peer run (${quick ? 'quick' : 'full'}): ${((performance.now() - started) / 1000).toFixed(0)} s with start and stop\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`gnocchi peer run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
