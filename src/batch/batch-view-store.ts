import type { AggregateTable } from '../aggregates/index.ts';
import { bucketStart, nextBucket, type Granularity } from '../definitions/index.ts';
import type { BatchManifest } from './batch-manifest.ts';

/**
 * What the serving layer needs from published batch views. The embedded
 * default holds them in memory for sub-millisecond reads; a remote store would
 * implement the same.
 */
export interface BatchViewStore {
  readonly manifest: BatchManifest;
  /**
   * The tables that together hold the view's batch states: the base (from the
   * last full recompute) and one per incremental cycle since, each over its
   * own offsets; none if this version does not have the view.
   */
  tables(view: string): readonly AggregateTable[];
  /**
   * The view's base states rolled up to the coarser buckets its ranges read
   * whole ({@link COARSER}: UTC days for a minute or hour view, months for a
   * day or week view), once ready; undefined until then, and for month and
   * `none` views.
   */
  coarseTable(view: string): AggregateTable | undefined;
  /**
   * For a query rolled up over `[from, to)` (not by time bucket): the tables
   * with the part of the range each is read over. With the roll-ups ready, a
   * range that holds every bucket of the base table reads its all-time
   * roll-up (one slot per series); any other reads the whole coarser buckets
   * inside it (days, or months) from the coarser roll-up and the partial ones
   * at its ends from the base table through its index of slots by bucket, so
   * a range cut mid-day or mid-month costs about what whole ones do.
   */
  spans(view: string, from: number, to: number): { table: AggregateTable; from: number; to: number }[];
  /** Resolves once every view's read aids are built (or their build failed, which loses only a speed-up). */
  settled(): Promise<void>;
}

/**
 * The coarser buckets whose roll-up a view's ranges read, per granularity:
 * each base bucket goes to the coarser one that holds its start. A range
 * reads a bucket when its start is in the range, so the whole coarser
 * buckets inside a range hold exactly the base buckets it reads there. That
 * holds for weeks too, which straddle months: a week counts in the month of
 * its Monday. Month, quarter and year views have none (a range's months
 * are few); their ranges read the buckets' slots through the index of
 * slots by bucket.
 */
export const COARSER: Readonly<Partial<Record<Granularity, 'day' | 'month'>>> = { minute: 'day', hour: 'day', day: 'month', week: 'month' };

/** A table and the part of a query's range it is read over. */
type Span = { table: AggregateTable; from: number; to: number };

/** Slots per step of a background roll-up: a few milliseconds of work between two turns of the event loop. */
const ROLL_UP_STEP = 1 << 15;

/**
 * What a wide query can read in place of a view's base table, each set once
 * built. The all-time roll-up comes first, as it is the cheapest (a series'
 * slots go to one slot, found without hashing) and serves the most common
 * leaderboard; the coarser roll-up is set only once the base table's index
 * of slots by bucket is built too, since a range that uses it reads its
 * partial days or months through that index.
 */
interface ReadAids {
  /** The base states over all time, one slot per series, with the base table's first and last bucket starts. */
  total?: { readonly table: AggregateTable; readonly first: number; readonly last: number };
  /** The base states rolled up to the view's {@link COARSER} buckets. */
  coarse?: { readonly table: AggregateTable; readonly granularity: 'day' | 'month' };
  /** Whether the base table's index of slots by bucket is built (and with it the coarser roll-up, for a view that has one). */
  indexed: boolean;
}

/** A base table's read aids as they are built: shared by every version that keeps the base table. */
interface ReadAidsBuild {
  readonly base: AggregateTable;
  readonly aids: ReadAids;
  state: 'building' | 'done' | 'failed';
  /** Resolves once the build is done or has failed. */
  readonly settled: Promise<void>;
  /** Runs steps of the build now, until `enough` holds or for up to `budgetMs`. */
  advance(budgetMs: number, enough: () => boolean): void;
}

/**
 * How long a wide query spends building the read aids it is waiting for
 * before it reads the finer table. The background steps run between turns
 * of the event loop, and a caller that awaits queries back to back in one
 * process never yields a turn: 2,000 point queries then a leaderboard found
 * nothing built, and the leaderboards took 11 to 157 ms instead of 2.
 */
const QUERY_HELPS_BUILD_MS = 50;

/** Batch views loaded into memory. */
export class InMemoryBatchViews implements BatchViewStore {
  readonly #builds = new Map<string, ReadAidsBuild>();

  /**
   * Starts building the read aids of every view with time buckets in the
   * background, in steps between other work; callers read the finer tables
   * until they are ready. Aids of a base table that `previous` (the version
   * this one follows) already built or is building are taken over, since an
   * incremental cycle keeps the base table and adds a delta.
   */
  constructor(
    readonly manifest: BatchManifest,
    /** Per view, the base table first, then the deltas in offset order. */
    private readonly byView: ReadonlyMap<string, readonly AggregateTable[]>,
    previous?: InMemoryBatchViews,
  ) {
    for (const [view, tables] of byView) {
      const base = tables[0];
      // A view without time buckets has one slot per series already: its base table is its all-time roll-up.
      if (base === undefined || base.view.granularity === 'none') continue;
      const inherited = previous === undefined ? undefined : previous.#builds.get(view);
      this.#builds.set(view, inherited?.base === base && inherited.state !== 'failed' ? inherited : buildReadAids(base));
    }
  }

  spans(view: string, from: number, to: number): Span[] {
    const tables = this.byView.get(view) ?? [];
    const whole = tables.map((table) => ({ table, from, to }));
    const build = this.#builds.get(view);
    if (build === undefined || tables[0] !== build.base) return whole;
    const coversAll = (total: ReadAids['total']) => total !== undefined && from <= total.first && to > total.last;
    // Only as far as this query needs: the all-time roll-up, and the rest if the range does not hold every bucket.
    if (build.state === 'building') build.advance(QUERY_HELPS_BUILD_MS, () => coversAll(build.aids.total) || build.aids.indexed);
    const { total, indexed } = build.aids;
    const rest = whole.slice(1);
    if (coversAll(total)) return [{ table: total!.table, from: -Infinity, to: Infinity }, ...rest];
    return indexed ? [...baseSpans(build.base, build.aids, from, to), ...rest] : whole;
  }

  tables(view: string): readonly AggregateTable[] {
    return this.byView.get(view) ?? [];
  }

  /**
   * Resolves once every view's read aids are built (or failed, which only
   * loses a speed-up). A batch cycle waits for it before it serves the new
   * version, so that the first leaderboards after a cycle find them ready;
   * the build runs in steps, so the wait holds no other work up.
   */
  async settled(): Promise<void> {
    await Promise.all([...this.#builds.values()].map((build) => build.settled));
  }

  coarseTable(view: string): AggregateTable | undefined {
    return this.#builds.get(view)?.aids.coarse?.table;
  }
}

/**
 * How a base table with its read aids built is read over `[from, to)`. Its
 * buckets lie between the first and the last it holds, so an open end is
 * closed there, and the range reads the slots it selects through the index
 * of slots by bucket rather than every slot. The whole coarser buckets
 * inside come from the coarser roll-up, the partial ones at the ends from
 * the base table.
 */
function baseSpans(base: AggregateTable, aids: ReadAids, from: number, to: number): Span[] {
  const low = Math.max(from, aids.total!.first);
  // Bucket starts are whole milliseconds: below last + 1 is at or below the last.
  const high = Math.min(to, aids.total!.last + 1);
  if (!(low < high)) return [];
  const coarse = aids.coarse;
  if (coarse === undefined) return [{ table: base, from: low, to: high }];
  const first = ceilToBucket(coarse.granularity, low);
  const last = bucketStart(coarse.granularity, high);
  if (!(first < last)) return [{ table: base, from: low, to: high }];
  return [{ table: coarse.table, from: first, to: last }, { table: base, from: low, to: first }, { table: base, from: last, to: high }];
}

/** The start of the first bucket of `granularity` at or after `t`. */
function ceilToBucket(granularity: Exclude<Granularity, 'none'>, t: number): number {
  const start = bucketStart(granularity, t);
  return start < t ? nextBucket(granularity, start) : start;
}

/** The base table's first and last bucket starts, in steps. */
function* bucketBounds(base: AggregateTable): Generator<void, readonly [number, number], void> {
  let first = Infinity;
  let last = -Infinity;
  for (let slot = 0; slot < base.size; slot++) {
    const bucket = base.bucketAt(slot);
    if (bucket < first) first = bucket;
    if (bucket > last) last = bucket;
    if (slot % ROLL_UP_STEP === ROLL_UP_STEP - 1) yield;
  }
  return [first, last];
}

function* buildingReadAids(base: AggregateTable, aids: ReadAids): Generator<void, void, void> {
  const [first, last] = yield* bucketBounds(base);
  aids.total = { table: yield* base.rollingUp('none', ROLL_UP_STEP), first, last };
  const coarser = COARSER[base.view.granularity];
  const coarse = coarser === undefined ? undefined : { table: yield* base.rollingUp(coarser, ROLL_UP_STEP), granularity: coarser };
  yield* base.indexingByBucket(ROLL_UP_STEP);
  // Ranges read the coarser roll-up's slots through its own index too.
  if (coarse !== undefined) yield* coarse.table.indexingByBucket(ROLL_UP_STEP);
  aids.coarse = coarse;
  aids.indexed = true;
}

/** Starts building a base table's read aids in the background; a query may run steps of it too ({@link ReadAidsBuild.advance}). */
function buildReadAids(base: AggregateTable): ReadAidsBuild {
  const aids: ReadAids = { indexed: false };
  const steps = buildingReadAids(base, aids);
  let settle = (): void => undefined;
  const build: ReadAidsBuild = {
    base,
    aids,
    state: 'building',
    settled: new Promise<void>((resolve) => (settle = resolve)),
    advance(budgetMs, enough) {
      const until = performance.now() + budgetMs;
      while (build.state === 'building' && !enough() && performance.now() < until) stepOnce();
    },
  };
  const stepOnce = (): void => {
    try {
      if (steps.next().done === true) build.state = 'done';
    } catch {
      // Only a speed-up is lost (out of memory, most likely): queries go on reading the finer table.
      build.state = 'failed';
    }
    if (build.state !== 'building') settle();
  };
  const inBackground = (): void => {
    if (build.state !== 'building') return;
    stepOnce();
    if (build.state === 'building') setImmediate(inBackground);
  };
  // Not unref'd: an unref'd immediate does not keep the loop turning, so on an idle server each step would
  // wait for the next timer or request, and the aids would be ready only after the queries that wanted them.
  setImmediate(inBackground);
  return build;
}
