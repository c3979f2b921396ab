import type { AggregateTable } from '../aggregates/index.ts';
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
   * The view's base states rolled up to UTC days, for a view with minute or
   * hour buckets, once ready; undefined until then, and for other views.
   */
  dailyTable(view: string): AggregateTable | undefined;
  /**
   * For a query rolled up over `[from, to)` (not by time bucket): the tables
   * with the part of the range each is read over. With the roll-ups ready, a
   * range that holds every bucket of the base table reads its all-time
   * roll-up (one slot per series); any other reads the whole UTC days inside
   * it from the daily roll-up and the partial days at its ends from the
   * finer base table, so a range cut mid-day costs about what whole days do.
   */
  spans(view: string, from: number, to: number): { table: AggregateTable; from: number; to: number }[];
}

const DAY_MS = 86_400_000;

/** Slots per step of a background roll-up: a few milliseconds of work between two turns of the event loop. */
const ROLL_UP_STEP = 1 << 15;

/** What a wide query reads in place of a view's finer base table, once built. */
interface RollUps {
  /** The base table they were built from: kept across incremental versions that keep it. */
  readonly base: AggregateTable;
  /** The base states rolled up to UTC days. */
  readonly daily: AggregateTable;
  /** The base states rolled up over all time: one slot per series, for a range that holds every bucket. */
  readonly total: AggregateTable;
  /** The base table's first and last bucket starts. */
  readonly first: number;
  readonly last: number;
}

/** A base table's roll-ups as they are built: shared by every version that keeps the base table. */
interface RollUpBuild {
  readonly base: AggregateTable;
  result: RollUps | 'building' | 'failed';
}

/** Batch views loaded into memory. */
export class InMemoryBatchViews implements BatchViewStore {
  readonly #rollUps = new Map<string, RollUpBuild>();

  /**
   * Starts building the roll-ups of every minute or hour view in the
   * background, in steps between other work; callers read the finer tables
   * until they are ready. Roll-ups of a base table that `previous` (the
   * version this one follows) already built or is building are taken over,
   * since an incremental cycle keeps the base table and adds a delta.
   */
  constructor(
    readonly manifest: BatchManifest,
    /** Per view, the base table first, then the deltas in offset order. */
    private readonly byView: ReadonlyMap<string, readonly AggregateTable[]>,
    previous?: InMemoryBatchViews,
  ) {
    for (const [view, tables] of byView) {
      const base = tables[0];
      if (base === undefined || (base.view.granularity !== 'minute' && base.view.granularity !== 'hour')) continue;
      const inherited = previous === undefined ? undefined : previous.#rollUps.get(view);
      this.#rollUps.set(view, inherited?.base === base && inherited.result !== 'failed' ? inherited : this.#build(base));
    }
  }

  spans(view: string, from: number, to: number): { table: AggregateTable; from: number; to: number }[] {
    const tables = this.byView.get(view) ?? [];
    const whole = tables.map((table) => ({ table, from, to }));
    const ready = this.#ready(view);
    if (ready === undefined || tables[0] !== ready.base) return whole;
    const rest = whole.slice(1);
    if (from <= ready.first && to > ready.last) return [{ table: ready.total, from: -Infinity, to: Infinity }, ...rest];
    // Whole days inside the range; an open end stays open.
    const firstDay = Number.isFinite(from) ? Math.ceil(from / DAY_MS) * DAY_MS : from;
    const lastDay = Number.isFinite(to) ? Math.floor(to / DAY_MS) * DAY_MS : to;
    if (!(firstDay < lastDay)) return whole;
    return [
      { table: ready.daily, from: firstDay, to: lastDay },
      { table: ready.base, from, to: firstDay },
      { table: ready.base, from: lastDay, to },
      ...rest,
    ];
  }

  tables(view: string): readonly AggregateTable[] {
    return this.byView.get(view) ?? [];
  }

  dailyTable(view: string): AggregateTable | undefined {
    return this.#ready(view)?.daily;
  }

  #ready(view: string): RollUps | undefined {
    const result = this.#rollUps.get(view)?.result;
    return typeof result === 'object' ? result : undefined;
  }

  /**
   * The daily roll-up, the base table's index of slots by bucket (for a
   * range's partial days), then the all-time roll-up from the daily one:
   * all three are ready before {@link spans} uses any.
   */
  *#rollingUp(base: AggregateTable): Generator<void, RollUps, void> {
    const daily = yield* base.rollingUp('day', ROLL_UP_STEP);
    yield* base.indexingByBucket(ROLL_UP_STEP);
    const total = yield* daily.rollingUp('none', ROLL_UP_STEP);
    const [first, last] = base.bucketBounds() ?? [Infinity, -Infinity];
    return { base, daily, total, first, last };
  }

  #build(base: AggregateTable): RollUpBuild {
    const build: RollUpBuild = { base, result: 'building' };
    const steps = this.#rollingUp(base);
    const step = (): void => {
      try {
        const next = steps.next();
        if (next.done === true) build.result = next.value;
        else setImmediate(step);
      } catch {
        // Only a speed-up is lost (out of memory, most likely): queries go on reading the finer table.
        build.result = 'failed';
      }
    };
    // Not unref'd: an unref'd immediate does not keep the loop turning, so on an idle server each step would
    // wait for the next timer or request, and the roll-up would be ready only after the queries that wanted it.
    setImmediate(step);
    return build;
  }
}
