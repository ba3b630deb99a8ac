/**
 * Hot reads: some metrics' rollup states held in memory, exactly what ClickHouse holds, so
 * a one-metric read (issue 5: a day at 60 s, `mean`) skips chDB's fixed cost and planning
 * (docs/archive-policies.md, "Read performance"). Experimental.
 *
 * Exactness protocol. An entry holds *all* of a metric's rollup rows, merged per bucket; it
 * exists only while that is known to be true:
 * - a write of a metric that had nothing stored (`written(..., emptyBefore)`) creates the
 *   entry from its rows, when no other write of that metric overlapped it and no earlier
 *   write of it ended without an entry (see `tainted` below);
 * - a read-through load installs the merged states read from ClickHouse only when no write
 *   of the metric started or ended since the load began (`generation`), none is in flight,
 *   and nothing invalidated it;
 * - every later write adds its rows (the same sums ClickHouse's merges make); a failed write
 *   (rows null) or an invalidation drops the entry.
 * Where this copy and ClickHouse may differ:
 * - sums (sum, mean, std) are added in another order than ClickHouse's merges, so they can
 *   differ in the last bits (counts, min, max, first and last are exact: first and last
 *   are (time, value) pairs merged by min and max, here as in ClickHouse, so two measures
 *   of the same time keep the smaller value first and the larger last).
 * The copy sees only the writes of this process: every writer of `measures` must share one
 * HotRollups as its observer (see RollupWriteObserver).
 */
import { ConfigError } from '../core/errors.ts';
import type { ArchivePolicy } from './archive-policies.ts';
import type { ClickHouseDriver } from './driver.ts';
import { ROLLUP_METHODS, selectMeasures, type MeasureRow, type MeasuresQuery, type RollupMethod } from './queries/measures.ts';
import { selectRollupStates, type RollupStateRow } from './queries/rollup-states.ts';
import type { RollupColumns, RollupWriteObserver } from './rollup-rows.ts';

/** Memory the entries may take, bytes. */
export const DEFAULT_HOT_ROLLUPS_BUDGET_BYTES = 256 * 1024 * 1024;
/** One metric may take at most this share of the budget (a larger one is read from ClickHouse). */
export const DEFAULT_MAX_ENTRY_SHARE = 1 / 16;
/** Slots of the generation and taint tables (metric ids hash into them). */
export const DEFAULT_GENERATION_SLOTS = 1 << 18;

export interface HotRollupsConfig {
  /**
   * Bytes the entries may take in all (default 256 MiB). Loads evict the least recently
   * read metrics; a write creates an entry only in free room.
   */
  readonly budgetBytes?: number;
  /** Bytes one metric may take (default budgetBytes / 16). */
  readonly maxEntryBytes?: number;
  /** Size of the generation table, a power of two (default 2^18 = 2 MiB + 256 KiB). */
  readonly generationSlots?: number;
}

/** Counters for telemetry (monotonic, except entries and bytes). */
export interface HotRollupsStats {
  /** Reads answered from memory. */
  readonly hits: number;
  /** Reads that had to go to ClickHouse. */
  readonly misses: number;
  /** Entries dropped to stay within the budget. */
  readonly evictions: number;
  /** Entries installed from ClickHouse. */
  readonly loads: number;
  /** Loads not installed because a write of the metric raced them. */
  readonly refusedLoads: number;
  /** Entries created from the first write of a metric. */
  readonly created: number;
  readonly entries: number;
  readonly bytes: number;
}

/** What a hot read takes: selectMeasures' query, for a rollup method. */
export interface HotReadQuery {
  readonly metricId: string;
  readonly method: RollupMethod | string;
  readonly granularity?: number | undefined;
  readonly start?: Date | undefined;
  readonly stop?: Date | undefined;
  readonly now: Date;
}

// One bucket: 11 Float64 slots (times as Unix seconds, first/last times as microseconds).
const BUCKET = 0;
const EXPIRES = 1;
const COUNT = 2;
const SUM = 3;
const MIN = 4;
const MAX = 5;
const SUMSQ = 6;
const FIRST_TS = 7;
const FIRST_VALUE = 8;
const LAST_TS = 9;
const LAST_VALUE = 10;
const STRIDE = 11;
const BUCKET_BYTES = STRIDE * 8;
/** Rough fixed costs (objects, map slots, the id), so the budget also counts tiny entries. */
const LEVEL_OVERHEAD_BYTES = 160;
const ENTRY_OVERHEAD_BYTES = 240;
/** The rollups' `expires` is a DateTime (ends in 2106): the writer caps it, so does this copy. */
const MAX_DATETIME = 0xffff_ffff;
/** Expired buckets are dropped from the front of a level once this many (or a quarter of it) pile up. */
const PRUNE_MIN_BUCKETS = 256;

const isRollupMethod = (method: string): method is RollupMethod => (ROLLUP_METHODS as readonly string[]).includes(method);

/** The value of `method` from a bucket's merged states at `o`: the expressions of selectMeasures. */
function bucketValue(d: Float64Array, o: number, method: RollupMethod): number {
  switch (method) {
    case 'mean':
      return (d[o + SUM] as number) / (d[o + COUNT] as number);
    case 'min':
      return d[o + MIN] as number;
    case 'max':
      return d[o + MAX] as number;
    case 'sum':
      return d[o + SUM] as number;
    case 'count':
      return d[o + COUNT] as number;
    case 'std': {
      // sqrt(greatest(sum(sumsq) - pow(sum(sum), 2) / sum(count), 0) / (sum(count) - 1))
      const count = d[o + COUNT] as number;
      const sum = d[o + SUM] as number;
      return Math.sqrt(Math.max((d[o + SUMSQ] as number) - (sum * sum) / count, 0) / (count - 1));
    }
    case 'first':
      return d[o + FIRST_VALUE] as number;
    case 'last':
      return d[o + LAST_VALUE] as number;
  }
}

/** One granularity of a metric: its buckets in time order, packed in one Float64Array. */
class Level {
  private data: Float64Array;
  length = 0;
  /** The largest `expires` of buckets dropped as expired: a read with an earlier `now` would need them. */
  prunedExpires = 0;

  constructor(capacity = 8) {
    this.data = new Float64Array(Math.max(1, capacity) * STRIDE);
  }

  get bytes(): number {
    return this.data.length * 8 + LEVEL_OVERHEAD_BYTES;
  }

  /** The first index whose bucket is >= `bucket`. */
  private lowerBound(bucket: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.data[mid * STRIDE] as number) < bucket) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Room for `more` buckets past the current ones (a write's rows of this level are counted first: one growth, not one per doubling). */
  reserve(more: number): void {
    const needed = (this.length + more) * STRIDE;
    if (needed <= this.data.length) return;
    const grown = new Float64Array(Math.max(needed, this.data.length * 2));
    grown.set(this.data.subarray(0, this.length * STRIDE));
    this.data = grown;
  }

  private makeRoom(at: number): void {
    this.reserve(1);
    if (at < this.length) this.data.copyWithin((at + 1) * STRIDE, at * STRIDE, this.length * STRIDE);
    this.length++;
  }

  /** Appends a bucket read from ClickHouse (states already merged; buckets arrive in order). */
  push(state: readonly number[]): void {
    this.makeRoom(this.length);
    this.data.set(state, (this.length - 1) * STRIDE);
  }

  /** Adds one write's states of one bucket (row `r` of `c`), as ClickHouse's merge adds rows of a bucket. */
  add(c: RollupColumns, r: number): void {
    const d = this.data;
    const bucket = c.bucket[r] as number;
    const last = this.length - 1;
    const i = last < 0 || (d[last * STRIDE] as number) < bucket ? this.length : this.lowerBound(bucket);
    const expires = Math.min(c.expires[r] as number, MAX_DATETIME);
    const min = c.min[r] as number;
    const max = c.max[r] as number;
    const firstTs = c.firstTs[r] as number;
    const firstValue = c.firstValue[r] as number;
    const lastTs = c.lastTs[r] as number;
    const lastValue = c.lastValue[r] as number;
    if (i < this.length && d[i * STRIDE] === bucket) {
      const o = i * STRIDE;
      if (expires > (d[o + EXPIRES] as number)) d[o + EXPIRES] = expires;
      d[o + COUNT] = (d[o + COUNT] as number) + (c.count[r] as number);
      d[o + SUM] = (d[o + SUM] as number) + (c.sum[r] as number);
      d[o + SUMSQ] = (d[o + SUMSQ] as number) + (c.sumsq[r] as number);
      if (min < (d[o + MIN] as number)) d[o + MIN] = min;
      if (max > (d[o + MAX] as number)) d[o + MAX] = max;
      const heldFirst = d[o + FIRST_TS] as number;
      if (firstTs < heldFirst || (firstTs === heldFirst && firstValue < (d[o + FIRST_VALUE] as number))) {
        d[o + FIRST_TS] = firstTs;
        d[o + FIRST_VALUE] = firstValue;
      }
      const heldLast = d[o + LAST_TS] as number;
      if (lastTs > heldLast || (lastTs === heldLast && lastValue > (d[o + LAST_VALUE] as number))) {
        d[o + LAST_TS] = lastTs;
        d[o + LAST_VALUE] = lastValue;
      }
      return;
    }
    this.makeRoom(i);
    // Slot by slot: no array per bucket on this path, which runs for every rollup row written.
    const o = i * STRIDE;
    const data = this.data;
    data[o + BUCKET] = bucket;
    data[o + EXPIRES] = expires;
    data[o + COUNT] = c.count[r] as number;
    data[o + SUM] = c.sum[r] as number;
    data[o + MIN] = min;
    data[o + MAX] = max;
    data[o + SUMSQ] = c.sumsq[r] as number;
    data[o + FIRST_TS] = firstTs;
    data[o + FIRST_VALUE] = firstValue;
    data[o + LAST_TS] = lastTs;
    data[o + LAST_VALUE] = lastValue;
  }

  /**
   * Drops the buckets at the front that expired before the newest bucket began: no read at
   * a `now` from then on sees them (prunedExpires keeps the bar for earlier `now`s).
   */
  prune(force = false): void {
    if (this.length === 0) return;
    const d = this.data;
    const newest = d[(this.length - 1) * STRIDE] as number;
    let k = 0;
    let dropped = this.prunedExpires;
    while (k < this.length && (d[k * STRIDE + EXPIRES] as number) <= newest) {
      dropped = Math.max(dropped, d[k * STRIDE + EXPIRES] as number);
      k++;
    }
    if (k === 0 || (!force && k < PRUNE_MIN_BUCKETS && k * 4 < this.length)) return;
    d.copyWithin(0, k * STRIDE, this.length * STRIDE);
    this.length -= k;
    this.prunedExpires = dropped;
  }

  /** Appends to `out` the buckets of [fromBucket, stop) alive at `nowSec`, as selectMeasures returns them. */
  read(method: RollupMethod, granularity: number, fromBucket: number | undefined, stop: number | undefined, nowSec: number, out: MeasureRow[]): void {
    const d = this.data;
    for (let i = fromBucket === undefined ? 0 : this.lowerBound(fromBucket); i < this.length; i++) {
      const o = i * STRIDE;
      const bucket = d[o + BUCKET] as number;
      if (stop !== undefined && bucket >= stop) break;
      // HAVING max(expires) > now, and for std sum(count) > 1.
      if ((d[o + EXPIRES] as number) <= nowSec) continue;
      if (method === 'std' && (d[o + COUNT] as number) <= 1) continue;
      const value = bucketValue(d, o, method);
      // The drivers read a NaN or an infinity as null (JSON cannot carry them).
      out.push({ bucket, granularity, value: Number.isFinite(value) ? value : null });
    }
  }
}

/** All of one metric's rollup rows, per granularity. */
class Entry {
  readonly levels = new Map<number, Level>();
  /** Granularities, coarsest first (Gnocchi's order). */
  private order: number[] = [];
  bytes = ENTRY_OVERHEAD_BYTES;

  level(granularity: number, capacity?: number): Level {
    let found = this.levels.get(granularity);
    if (found === undefined) {
      found = new Level(capacity);
      this.levels.set(granularity, found);
      this.order = [...this.levels.keys()].sort((a, b) => b - a);
    }
    return found;
  }

  measureBytes(): number {
    let bytes = ENTRY_OVERHEAD_BYTES;
    for (const level of this.levels.values()) bytes += level.bytes;
    this.bytes = bytes;
    return bytes;
  }

  /** selectMeasures' answer, or null when a bucket the read could see was pruned. */
  read(q: HotReadQuery, method: RollupMethod): MeasureRow[] | null {
    const nowSec = Math.floor(q.now.getTime() / 1000);
    const startSec = q.start ? Math.floor(q.start.getTime() / 1000) : undefined;
    const stopSec = q.stop ? Math.ceil(q.stop.getTime() / 1000) : undefined;
    const out: MeasureRow[] = [];
    // A granularity without a level has no rows in ClickHouse either: the entry is complete.
    for (const g of q.granularity === undefined ? this.order : [q.granularity]) {
      const level = this.levels.get(g);
      if (level === undefined) continue;
      if (nowSec < level.prunedExpires) return null;
      level.read(method, g, startSec === undefined ? undefined : Math.floor(startSec / g) * g, stopSec, nowSec, out);
    }
    return out;
  }
}

const toNumber = (value: number | string | null): number => (value === null ? Number.NaN : Number(value));

/**
 * An entry from selectRollupStates' rows, or null when a state cannot be read back exactly
 * (a sum that overflowed comes back as null).
 */
function entryFromStates(rows: readonly RollupStateRow[]): Entry | null {
  const entry = new Entry();
  const sizes = new Map<number, number>();
  for (const r of rows) sizes.set(Number(r.granularity), (sizes.get(Number(r.granularity)) ?? 0) + 1);
  for (const r of rows) {
    const state = [r.bucket, Math.min(Number(r.expires), MAX_DATETIME), r.count, r.sum, r.min, r.max, r.sumsq, r.first_ts, r.first_value, r.last_ts, r.last_value].map(toNumber);
    if (!state.every(Number.isFinite)) return null;
    const g = Number(r.granularity);
    const level = entry.level(g, (sizes.get(g) ?? 0) + 8);
    level.push(state);
  }
  for (const level of entry.levels.values()) level.prune(true);
  entry.measureBytes();
  return entry;
}

/** FNV-1a: metric ids spread over the generation slots. */
function slotOf(metricId: string, mask: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < metricId.length; i++) h = Math.imul(h ^ metricId.charCodeAt(i), 0x01000193);
  return (h >>> 0) & mask;
}

interface Flight {
  /** Writes of the metric started and not yet ended. */
  count: number;
  /** Another write started while one was in flight: none of them may create an entry. */
  overlapped: boolean;
}

/**
 * The in-memory copy and the observer keeping it exact (see the file comment). One per
 * process, shared by every writer (as their observer) and the API's reads.
 */
export class HotRollups implements RollupWriteObserver {
  readonly budgetBytes: number;
  readonly maxEntryBytes: number;
  /** Least recently read first (a Map keeps insertion order; a read moves its metric last). */
  private readonly entries = new Map<string, Entry>();
  private readonly flights = new Map<string, Flight>();
  /**
   * Per slot, the sequence number of the last write start or end of a metric hashing there.
   * Hashed rather than per metric so the table stays small whatever the number of metrics
   * written; two metrics sharing a slot only make a load refused that could have been kept.
   */
  private readonly generations: Float64Array;
  /**
   * Slots of metrics left with stored rollups and no entry (a write that created none, a
   * failed write, an eviction, an invalidation). The writer reads its
   * back window (emptyBefore) before it calls writing(): a write that ended between that
   * read and writing() would be missed by an entry created from emptyBefore, so no entry is
   * created for a tainted slot. Never cleared (a load of one metric says nothing of the
   * others in its slot); refusing costs only a later load.
   */
  private readonly tainted: Uint8Array;
  private readonly mask: number;
  private sequence = 0;
  private bytesUsed = 0;
  private counters = { hits: 0, misses: 0, evictions: 0, loads: 0, refusedLoads: 0, created: 0 };

  constructor(config: HotRollupsConfig = {}) {
    const budget = config.budgetBytes ?? DEFAULT_HOT_ROLLUPS_BUDGET_BYTES;
    if (!Number.isFinite(budget) || budget <= 0) throw new ConfigError(`hot rollups: budgetBytes must be a positive number of bytes, got ${String(config.budgetBytes)}`);
    const maxEntry = config.maxEntryBytes ?? Math.floor(budget * DEFAULT_MAX_ENTRY_SHARE);
    if (!Number.isFinite(maxEntry) || maxEntry <= 0 || maxEntry > budget) throw new ConfigError(`hot rollups: maxEntryBytes must be a positive number of bytes at most budgetBytes (${budget}), got ${String(config.maxEntryBytes)}`);
    const slots = config.generationSlots ?? DEFAULT_GENERATION_SLOTS;
    if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0) throw new ConfigError(`hot rollups: generationSlots must be a power of two, got ${String(config.generationSlots)}`);
    this.budgetBytes = budget;
    this.maxEntryBytes = maxEntry;
    this.generations = new Float64Array(slots);
    this.tainted = new Uint8Array(slots);
    this.mask = slots - 1;
  }

  stats(): HotRollupsStats {
    return { ...this.counters, entries: this.entries.size, bytes: this.bytesUsed };
  }

  /** Whether the metric is held (no effect on recency or counters). */
  has(metricId: string): boolean {
    return this.entries.has(metricId);
  }

  /** A number that changes whenever a write of the metric starts or ends, or it is invalidated: take it before reading states for `load`. */
  generation(metricId: string): number {
    return this.generations[slotOf(metricId, this.mask)] as number;
  }

  /** Whether a metric of this policy could be held (its largest possible entry is within maxEntryBytes). */
  mayHold(policy: ArchivePolicy): boolean {
    let bytes = ENTRY_OVERHEAD_BYTES;
    for (const level of policy.definition) bytes += (level.points + 1) * BUCKET_BYTES + LEVEL_OVERHEAD_BYTES;
    return bytes <= this.maxEntryBytes;
  }

  /**
   * selectMeasures' rows for a rollup method (same order, same types), or null when the
   * metric is not held (or the read needs buckets dropped as expired): ask ClickHouse.
   */
  read(q: HotReadQuery): MeasureRow[] | null {
    const entry = this.entries.get(q.metricId);
    const rows = entry !== undefined && isRollupMethod(q.method) ? entry.read(q, q.method) : null;
    if (rows === null || entry === undefined) {
      this.counters.misses++;
      return null;
    }
    this.counters.hits++;
    this.touch(q.metricId, entry);
    return rows;
  }

  /**
   * Installs the metric from selectRollupStates' rows, read after `generationAtStart` was
   * taken. Refused (false) when a write of the metric started or ended since, one is in
   * flight, the states cannot be kept exactly, or the metric is too large. True when the
   * metric is held afterwards.
   */
  load(metricId: string, rows: readonly RollupStateRow[], generationAtStart: number): boolean {
    const entry = entryFromStates(rows);
    return entry !== null && this.install(metricId, entry, generationAtStart);
  }

  private install(metricId: string, entry: Entry, generationAtStart: number): boolean {
    if (this.entries.has(metricId)) return true;
    if (this.flights.has(metricId) || this.generation(metricId) !== generationAtStart) {
      this.counters.refusedLoads++;
      return false;
    }
    if (entry.bytes > this.maxEntryBytes) return false;
    this.entries.set(metricId, entry);
    this.bytesUsed += entry.bytes;
    this.counters.loads++;
    this.evictOverBudget();
    return true;
  }

  writing(metricIds: ReadonlySet<string>): void {
    for (const id of metricIds) {
      this.bump(id);
      const flight = this.flights.get(id);
      if (flight === undefined) this.flights.set(id, { count: 1, overlapped: false });
      else {
        flight.count++;
        flight.overlapped = true;
      }
    }
  }

  written(metricIds: ReadonlySet<string>, rows: RollupColumns | null, emptyBefore: ReadonlySet<string>): void {
    // 1. The flights end and the generations move first, whatever happens next: a load that
    //    started before this point must not be installed.
    const targets = new Map<string, Entry>();
    const creating = new Set<string>();
    for (const id of metricIds) {
      this.bump(id);
      const flight = this.flights.get(id);
      const alone = flight !== undefined && flight.count === 1 && !flight.overlapped;
      if (flight !== undefined && --flight.count === 0) this.flights.delete(id);
      const entry = this.entries.get(id);
      // 2. What to do per metric: forget it (outcome unknown), add to its entry, create one
      //    (nothing was stored before and no other write overlapped), or remember that
      //    rollups exist that no entry holds.
      if (rows === null) {
        this.drop(id);
        this.taint(id);
      } else if (entry !== undefined) targets.set(id, entry);
      else if (emptyBefore.has(id) && alone && !this.isTainted(id)) {
        const created = new Entry();
        targets.set(id, created);
        creating.add(id);
      } else this.taint(id);
    }
    if (rows === null || targets.size === 0) return;
    // 3. Add the rows to their entries, a run of consecutive rows of one metric and
    //    granularity at a time (what computeRollups writes, one run's level after another):
    //    the level makes room for the run once.
    for (let i = 0; i < rows.length; ) {
      const id = rows.metricIds[i] as string;
      const granularity = rows.granularity[i] as number;
      let end = i + 1;
      while (end < rows.length && rows.metricIds[end] === id && rows.granularity[end] === granularity) end++;
      const entry = targets.get(id);
      if (entry !== undefined) {
        const level = entry.level(granularity);
        level.reserve(end - i);
        for (let r = i; r < end; r++) level.add(rows, r);
      }
      i = end;
    }
    // 4. Account for the bytes, keep the new entries that fit, then keep to the budget.
    for (const [id, target] of targets) {
      for (const level of target.levels.values()) level.prune();
      const before = target.bytes;
      const after = target.measureBytes();
      if (creating.has(id)) {
        // Writes only fill free room: a flood of new metrics must not evict what is read.
        if (after > this.maxEntryBytes || this.bytesUsed + after > this.budgetBytes) {
          this.taint(id);
          continue;
        }
        this.entries.set(id, target);
        this.bytesUsed += after;
        this.counters.created++;
      } else this.bytesUsed += after - before;
      if (after > this.maxEntryBytes) {
        this.drop(id);
        this.taint(id);
      }
    }
    this.evictOverBudget();
  }

  invalidate(metricIds: Iterable<string>): void {
    for (const id of metricIds) {
      this.bump(id);
      this.drop(id);
      this.taint(id);
    }
  }

  /** Forgets every metric (an archive policy changed, a restore): loads in progress are refused. */
  clear(): void {
    this.entries.clear();
    this.bytesUsed = 0;
    this.generations.fill(++this.sequence);
    this.tainted.fill(1);
  }

  private bump(metricId: string): void {
    this.generations[slotOf(metricId, this.mask)] = ++this.sequence;
  }

  private taint(metricId: string): void {
    this.tainted[slotOf(metricId, this.mask)] = 1;
  }

  private isTainted(metricId: string): boolean {
    return this.tainted[slotOf(metricId, this.mask)] === 1;
  }

  private drop(metricId: string): void {
    const entry = this.entries.get(metricId);
    if (entry === undefined) return;
    this.entries.delete(metricId);
    this.bytesUsed -= entry.bytes;
  }

  private touch(metricId: string, entry: Entry): void {
    this.entries.delete(metricId);
    this.entries.set(metricId, entry);
  }

  private evictOverBudget(): void {
    for (const [id, entry] of this.entries) {
      if (this.bytesUsed <= this.budgetBytes) return;
      this.entries.delete(id);
      this.bytesUsed -= entry.bytes;
      this.counters.evictions++;
      this.taint(id);
    }
  }

  /** Answers a read from states just read from ClickHouse, installing them when allowed (read-through). */
  readThrough(q: HotReadQuery, states: readonly RollupStateRow[], generationAtStart: number): MeasureRow[] | null {
    if (!isRollupMethod(q.method)) return null;
    const entry = entryFromStates(states);
    if (entry === null) return null;
    // Read before installing: install may evict it again at once (a tiny budget).
    const rows = entry.read(q, q.method);
    this.install(q.metricId, entry, generationAtStart);
    return rows;
  }
}

/**
 * One metric's points as selectMeasures answers them, from memory when the metric is held.
 * Steps, in this order:
 * 1. a rollup method of a held metric: answered from memory;
 * 2. otherwise, when the metric could be held: take its generation, read all its states
 *    (one query, about the cost of selectMeasures), answer from them and keep them unless
 *    a write raced the read;
 * 3. anything else (raw methods, metrics too large, no HotRollups): selectMeasures.
 */
export async function readMeasureRows(store: ClickHouseDriver, hot: HotRollups | null | undefined, q: MeasuresQuery, policy: ArchivePolicy): Promise<MeasureRow[]> {
  if (hot && isRollupMethod(q.method)) {
    // 1. memory
    const held = hot.read(q);
    if (held !== null) return held;
    // 2. read-through (a held metric that missed needs buckets it dropped as expired)
    if (!hot.has(q.metricId) && hot.mayHold(policy)) {
      const generation = hot.generation(q.metricId);
      const states = await store.query<RollupStateRow>(selectRollupStates(q.metricId));
      const rows = hot.readThrough(q, states, generation);
      if (rows !== null) return rows;
    }
  }
  // 3. ClickHouse
  const rows = await store.query<MeasureRow>(selectMeasures(q));
  return rows.map((r) => ({ bucket: Number(r.bucket), granularity: Number(r.granularity), value: r.value === null ? null : Number(r.value) }));
}
