import { Agent, request } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The load generator bench/api.ts runs in a process of its own, so the client's work does
 * not share an event loop with the server it measures: `connections` requests in flight,
 * each worker sending its next one as soon as the previous answer has been read, for
 * `durationMs` after an untimed `warmupMs`. Each request takes one of `requests` at random.
 *
 * Why not autocannon: gnocchi-api under uWSGI (as Debian runs it) answers every request
 * with `Connection: close`, and autocannon 9 keeps writing to the closing socket, so its
 * queue of requests in flight drifts and its latencies grow without bound. Node's HTTP agent
 * opens a new connection when the server closed the last one and keeps it otherwise, so the
 * same client serves both peers.
 *
 * Input: the LoadSpec as JSON on stdin. Output: one JSON line on stdout (LoadResult).
 */

export interface LoadSpec {
  /** http://host:port */
  origin: string;
  headers: Record<string, string>;
  requests: ReadonlyArray<{ method: 'GET' | 'POST'; path: string; body?: string }>;
  connections: number;
  durationMs: number;
  warmupMs: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers other than 2xx, by status; a sample of the first one's body. */
  non2xx: Record<string, number>;
  firstNon2xx: string | null;
  /** Requests that failed without an answer (connection refused or reset). */
  errors: number;
  firstError: string | null;
  bytes: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

function send(agent: Agent, spec: LoadSpec, item: LoadSpec['requests'][number]): Promise<{ status: number; bytes: number; body: string }> {
  const url = new URL(item.path, spec.origin);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...spec.headers };
    if (item.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(item.body);
    }
    const req = request({ agent, host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: item.method, headers }, (res) => {
      const status = res.statusCode ?? 0;
      let bytes = 0;
      const kept: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        // Only a failed answer's body is kept (to say why); a good one is counted and dropped.
        if (status >= 300 && kept.length < 4) kept.push(chunk);
      });
      res.on('end', () => resolve({ status, bytes, body: Buffer.concat(kept).toString('utf8').slice(0, 300) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(item.body);
  });
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const latencies: number[] = [];
  const non2xx: Record<string, number> = {};
  let firstNon2xx: string | null = null;
  let errors = 0;
  let firstError: string | null = null;
  let bytes = 0;
  let timing = false;
  const pick = () => spec.requests[Math.floor(Math.random() * spec.requests.length)] as LoadSpec['requests'][number];

  const worker = async (until: number): Promise<void> => {
    while (performance.now() < until) {
      const item = pick();
      const t0 = performance.now();
      try {
        const answer = await send(agent, spec, item);
        if (!timing) continue;
        latencies.push(performance.now() - t0);
        bytes += answer.bytes;
        if (answer.status < 200 || answer.status >= 300) {
          non2xx[answer.status] = (non2xx[answer.status] ?? 0) + 1;
          firstNon2xx ??= `${item.method} ${item.path} -> ${answer.status}: ${answer.body}`;
        }
      } catch (err) {
        if (!timing) continue;
        errors++;
        firstError ??= `${item.method} ${item.path}: ${(err as Error).message}`;
      }
    }
  };

  // 1. warm-up (connections opened, caches and JIT warm on both sides), not counted;
  // 2. the timed run, counting every answer that arrives before its end.
  await Promise.all(Array.from({ length: spec.connections }, () => worker(performance.now() + spec.warmupMs)));
  timing = true;
  const started = performance.now();
  await Promise.all(Array.from({ length: spec.connections }, () => worker(started + spec.durationMs)));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();

  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    seconds,
    requestsPerSecond: latencies.length / seconds,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    non2xx,
    firstNon2xx,
    errors,
    firstError,
    bytes,
  };
}

// Run as a script (bench/api.ts spawns it): the LoadSpec on stdin, the LoadResult on stdout.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const chunks: Buffer[] = [];
  process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
  process.stdin.on('end', () => {
    runLoad(JSON.parse(Buffer.concat(chunks).toString('utf8')) as LoadSpec).then(
      (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
      (err: unknown) => {
        process.stderr.write(`api-load failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  });
}
