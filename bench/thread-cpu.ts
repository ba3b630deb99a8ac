import { readdirSync, readFileSync } from 'node:fs';

/**
 * Where a benchmark's CPU went, from Linux's /proc: the seconds each kind of thread of
 * this process spent (user + system), and those of the Kafka broker's process. On a
 * 2-core machine everything shares the cores, so these sums, not the wall clock alone,
 * say what a faster run has to cut. Elsewhere than Linux the snapshot is empty.
 *
 * Kinds, by the names the threads carry:
 * - `main`: Node's main thread (our JavaScript, kafkajs);
 * - `node-other`: the other threads named `node`: libuv's pool, where chDB runs each query
 *   it is handed, and V8's own workers (compilation, concurrent garbage collection);
 * - `chdb-pool`: chDB's `ThreadPool` threads (parallel parts of queries and inserts);
 * - `chdb-merges`: chDB's `MergeMutate` threads (background merges of parts);
 * - `other`: anything else of this process;
 * - `kafka`: the broker (a `kafka.Kafka` process on this machine), when there is one.
 */
export type CpuKind = 'main' | 'node-other' | 'chdb-pool' | 'chdb-merges' | 'other' | 'kafka';
export type CpuSnapshot = Map<CpuKind, number>;

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** utime + stime of one /proc stat line, in seconds, and the thread's name. */
function statOf(path: string): { name: string; seconds: number } | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null; // the thread ended between the listing and the read
  }
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  return { name: text.slice(text.indexOf('(') + 1, close), seconds: (Number(fields[11]) + Number(fields[12])) / TICKS };
}

function kindOf(name: string, tid: string): CpuKind {
  if (name === 'node') return tid === String(process.pid) ? 'main' : 'node-other';
  if (name.startsWith('ThreadPool')) return 'chdb-pool';
  if (name.startsWith('MergeMutate')) return 'chdb-merges';
  return 'other';
}

function kafkaBrokerSeconds(): number {
  let seconds = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let command: string;
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (command.includes('kafka.Kafka')) seconds += statOf(`/proc/${pid}/stat`)?.seconds ?? 0;
  }
  return seconds;
}

/** CPU seconds so far, per kind. */
export function cpuSnapshot(): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    const stat = statOf(`/proc/self/task/${tid}/stat`);
    if (stat === null) continue;
    const kind = kindOf(stat.name, tid);
    out.set(kind, (out.get(kind) ?? 0) + stat.seconds);
  }
  out.set('kafka', kafkaBrokerSeconds());
  return out;
}

/** What each kind spent between two snapshots, largest first, e.g. `main 0.92 s, chdb-pool 0.71 s`. */
export function cpuSpent(before: CpuSnapshot, after: CpuSnapshot): string {
  const spent = [...after].map(([kind, seconds]) => [kind, seconds - (before.get(kind) ?? 0)] as const).filter(([, seconds]) => seconds >= 0.01);
  if (spent.length === 0) return 'no CPU accounting here (/proc is Linux only)';
  spent.sort((a, b) => b[1] - a[1]);
  const total = spent.reduce((sum, [kind, seconds]) => sum + (kind === 'kafka' ? 0 : seconds), 0);
  return `${spent.map(([kind, seconds]) => `${kind} ${seconds.toFixed(2)} s`).join(', ')} (this process ${total.toFixed(2)} s)`;
}
