import { describe, expect, it } from 'vitest';
import { MAX_REASONS_PER_COMPONENT, TelemetryRegistry, createProcessMetrics, refusedByReason } from './telemetry.ts';

/** The exposition's sample lines (no comments), as "name{labels} value". */
const samples = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

/** Every family has one HELP and one TYPE line, before its samples, and names follow Prometheus' rules. */
function expectWellFormed(text: string): void {
  expect(text.endsWith('\n')).toBe(true);
  const typed = new Map<string, string>();
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
    if (type) {
      expect(typed.has(type[1] as string), `TYPE ${type[1]} twice`).toBe(false);
      typed.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    expect(sample, `sample line: ${line}`).not.toBeNull();
    const name = sample?.[1] as string;
    const family = typed.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    expect(typed.has(family), `${name} has no TYPE before it`).toBe(true);
    expect(Number.isNaN(Number(sample?.[3])) && sample?.[3] !== 'NaN', `value of ${line}`).toBe(false);
  }
}

describe('TelemetryRegistry', () => {
  it('renders per-component counters and a cumulative batch histogram in seconds', () => {
    const registry = new TelemetryRegistry([0.01, 0.1, 1]);
    const writer = registry.component('pipeline.samples');
    writer.accepted(5);
    writer.refused(2);
    writer.dropped();
    writer.observeBatch(5); // 0.005 s: first bucket
    writer.observeBatch(50); // 0.05 s: second
    writer.observeBatch(5000); // 5 s: beyond every bound, only in +Inf
    const text = registry.render();
    expectWellFormed(text);
    const lines = samples(text);
    expect(lines).toContain('cumulus_items_accepted_total{component="pipeline.samples"} 5');
    expect(lines).toContain('cumulus_items_refused_total{component="pipeline.samples"} 2');
    expect(lines).toContain('cumulus_items_dropped_total{component="pipeline.samples"} 1');
    expect(lines).toContain('cumulus_batches_total{component="pipeline.samples"} 3');
    expect(lines).toContain('cumulus_batch_duration_ms_sum{component="pipeline.samples"} 5055');
    expect(lines.filter((l) => l.startsWith('cumulus_batch_duration_seconds'))).toEqual([
      'cumulus_batch_duration_seconds_bucket{component="pipeline.samples",le="0.01"} 1',
      'cumulus_batch_duration_seconds_bucket{component="pipeline.samples",le="0.1"} 2',
      'cumulus_batch_duration_seconds_bucket{component="pipeline.samples",le="1"} 2',
      'cumulus_batch_duration_seconds_bucket{component="pipeline.samples",le="+Inf"} 3',
      'cumulus_batch_duration_seconds_sum{component="pipeline.samples"} 5.055',
      'cumulus_batch_duration_seconds_count{component="pipeline.samples"} 3',
    ]);
  });

  it('counts refusals by reason, caps distinct reasons, and escapes label values', () => {
    const registry = new TelemetryRegistry();
    const listener = registry.component('collector.notifications');
    refusedByReason(listener, ['CUMULUS_COLLECTOR_MISSING_FIELD', 'CUMULUS_COLLECTOR_MALFORMED', 'CUMULUS_COLLECTOR_MISSING_FIELD']);
    refusedByReason(listener, []);
    expect(listener.snapshot()).toMatchObject({ refused: 3, refusedByReason: { CUMULUS_COLLECTOR_MISSING_FIELD: 2, CUMULUS_COLLECTOR_MALFORMED: 1 } });

    const noisy = registry.component('noisy');
    for (let i = 0; i < MAX_REASONS_PER_COMPONENT + 5; i++) noisy.refused(1, `r${i}`);
    noisy.refused(1, 'r0');
    expect(Object.keys(noisy.snapshot().refusedByReason)).toHaveLength(MAX_REASONS_PER_COMPONENT + 1);
    expect(noisy.snapshot().refusedByReason).toMatchObject({ r0: 2, other: 5 });

    registry.component('odd "name"\\\nhere').refused(1, 'x');
    const text = registry.render();
    expectWellFormed(text);
    expect(samples(text)).toContain('cumulus_items_refused_by_reason_total{component="collector.notifications",reason="CUMULUS_COLLECTOR_MISSING_FIELD"} 2');
    expect(text).toContain('cumulus_items_accepted_total{component="odd \\"name\\"\\\\\\nhere"} 0');
  });

  it('adds scrape-time collectors, merges families of one name, and reports a failing or late one as down', async () => {
    const registry = new TelemetryRegistry();
    registry.component('c').accepted();
    registry.addCollector('lag-a', () => [{ name: 'cumulus_stream_consumer_lag_records', help: 'lag', type: 'gauge', samples: [{ labels: { group: 'g1', topic: 't', partition: '0' }, value: 4 }] }]);
    registry.addCollector('lag-b', async () => [{ name: 'cumulus_stream_consumer_lag_records', help: 'lag', type: 'gauge', samples: [{ labels: { group: 'g2', topic: 't', partition: '0' }, value: 0 }] }]);
    registry.addCollector('broken', () => {
      throw new Error('broker down');
    });
    const remove = registry.addCollector('late', () => new Promise(() => undefined));
    const text = await registry.scrape(50);
    expectWellFormed(text);
    const lines = samples(text);
    expect(lines).toContain('cumulus_items_accepted_total{component="c"} 1');
    expect(lines).toContain('cumulus_stream_consumer_lag_records{group="g1",topic="t",partition="0"} 4');
    expect(lines).toContain('cumulus_stream_consumer_lag_records{group="g2",topic="t",partition="0"} 0');
    expect(lines.filter((l) => l.startsWith('cumulus_scrape_collector_up')).sort()).toEqual([
      'cumulus_scrape_collector_up{collector="broken"} 0',
      'cumulus_scrape_collector_up{collector="lag-a"} 1',
      'cumulus_scrape_collector_up{collector="lag-b"} 1',
      'cumulus_scrape_collector_up{collector="late"} 0',
    ]);
    remove();
    expect(await registry.scrape(50)).not.toContain('collector="late"');
  });
});

describe('process metrics', () => {
  it("reads CPU, memory, heap and event loop lag under prom-client's names", async () => {
    const metrics = createProcessMetrics();
    try {
      const registry = new TelemetryRegistry();
      registry.addCollector('process', metrics.collect);
      const text = await registry.scrape();
      expectWellFormed(text);
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
      expect(value('process_resident_memory_bytes')).toBeGreaterThan(1024 * 1024);
      expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
      expect(value('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
      expect(value('process_start_time_seconds')).toBeLessThanOrEqual(Date.now() / 1000);
      expect(text).toMatch(/^nodejs_version_info\{version="v\d+\.\d+\.\d+",major="\d+",minor="\d+",patch="\d+"\} 1$/m);
      expect(text).toMatch(/^nodejs_heap_space_size_used_bytes\{space="old"\} \d+$/m);
      if (process.platform === 'linux') expect(value('process_open_fds')).toBeGreaterThan(0);
    } finally {
      metrics.stop();
      metrics.stop();
    }
  });
});
