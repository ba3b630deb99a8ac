/**
 * A host's CPU accounting over its guests' runs. The guests report the CPU time they ask
 * for; the host cannot deliver more than its cores, so where the demand could exceed them
 * (overcommitted hosts at peak) the delivered time is the demand capped per fixed step.
 * Everything is a pure function of the runs and the time, so host counters are monotonic
 * and polls at any instants agree.
 */
import { HOST_CAP_STEP_MS } from './config.ts';

/** One source of CPU demand on the host: a guest's run. */
export interface CpuDemand {
  startMs: number;
  endMs: number | null;
  /** An upper bound of the demand (CPUs) at any instant. */
  maxRate: number;
  /** CPU-ms demanded over [aMs, bMs], within the run. */
  integral(aMs: number, bMs: number): number;
}

/** The overlap of [aMs, bMs] with a run, or null when they do not meet. */
function clip(d: CpuDemand, aMs: number, bMs: number): [number, number] | null {
  const from = Math.max(aMs, d.startMs);
  const to = Math.min(bMs, d.endMs ?? bMs);
  return to > from ? [from, to] : null;
}

/** CPU-ms demanded over [fromMs, toMs] by the guests and the host's own processes (uncapped). */
export function demandedCpuMs(demands: readonly CpuDemand[], overheadCpus: number, fromMs: number, toMs: number): number {
  if (toMs <= fromMs) return 0;
  let total = overheadCpus * (toMs - fromMs);
  for (const d of demands) {
    const span = clip(d, fromMs, toMs);
    if (span) total += d.integral(span[0], span[1]);
  }
  return total;
}

/**
 * CPU-ms the cores delivered over [fromMs, toMs]. The span is cut where runs start or end;
 * a piece whose guests cannot together exceed the cores is integrated in closed form, any
 * other piece step by step (steps aligned to the epoch), each step capped at the cores.
 */
export function deliveredCpuMs(demands: readonly CpuDemand[], overheadCpus: number, cores: number, fromMs: number, toMs: number): number {
  if (toMs <= fromMs) return 0;
  const relevant = demands.filter((d) => clip(d, fromMs, toMs) !== null);
  const cuts = new Set<number>([fromMs, toMs]);
  for (const d of relevant) {
    if (d.startMs > fromMs && d.startMs < toMs) cuts.add(d.startMs);
    if (d.endMs !== null && d.endMs > fromMs && d.endMs < toMs) cuts.add(d.endMs);
  }
  const edges = [...cuts].sort((a, b) => a - b);
  let delivered = 0;
  for (let i = 0; i + 1 < edges.length; i++) {
    const a = edges[i] as number;
    const b = edges[i + 1] as number;
    const present = relevant.filter((d) => clip(d, a, b) !== null);
    const bound = overheadCpus + present.reduce((sum, d) => sum + d.maxRate, 0);
    if (bound <= cores) {
      delivered += demandedCpuMs(present, overheadCpus, a, b);
      continue;
    }
    for (let s = a; s < b; ) {
      const next = Math.min(b, (Math.floor(s / HOST_CAP_STEP_MS) + 1) * HOST_CAP_STEP_MS);
      delivered += Math.min(cores * (next - s), demandedCpuMs(present, overheadCpus, s, next));
      s = next;
    }
  }
  return delivered;
}
