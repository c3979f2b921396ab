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
   * with the part of the range each is read over. With the daily roll-up
   * ready, the whole UTC days inside the range come from it and the partial
   * days at its ends from the finer base table, so a range cut mid-day costs
   * about what whole days do.
   */
  spans(view: string, from: number, to: number): { table: AggregateTable; from: number; to: number }[];
}

const DAY_MS = 86_400_000;

/** Slots per step of a background roll-up: a few milliseconds of work between two turns of the event loop. */
const ROLL_UP_STEP = 1 << 15;

/** Batch views loaded into memory. */
export class InMemoryBatchViews implements BatchViewStore {
  readonly #daily = new Map<string, AggregateTable | 'building' | 'failed'>();

  constructor(
    readonly manifest: BatchManifest,
    /** Per view, the base table first, then the deltas in offset order. */
    private readonly byView: ReadonlyMap<string, readonly AggregateTable[]>,
  ) {}

  spans(view: string, from: number, to: number): { table: AggregateTable; from: number; to: number }[] {
    const tables = this.byView.get(view) ?? [];
    const whole = tables.map((table) => ({ table, from, to }));
    const daily = tables.length === 0 ? undefined : this.dailyTable(view);
    if (daily === undefined) return whole;
    // Whole days inside the range; an open end stays open.
    const firstDay = Number.isFinite(from) ? Math.ceil(from / DAY_MS) * DAY_MS : from;
    const lastDay = Number.isFinite(to) ? Math.floor(to / DAY_MS) * DAY_MS : to;
    if (!(firstDay < lastDay)) return whole;
    const base = tables[0]!;
    return [
      { table: daily, from: firstDay, to: lastDay },
      { table: base, from, to: firstDay },
      { table: base, from: lastDay, to },
      ...whole.slice(1),
    ];
  }

  tables(view: string): readonly AggregateTable[] {
    return this.byView.get(view) ?? [];
  }

  /**
   * The first call starts building the roll-up in the background, in steps
   * between other work, and callers read the finer table until it is ready;
   * then it is kept, since a version never changes. Built on demand because
   * most views are never read over whole days.
   */
  dailyTable(view: string): AggregateTable | undefined {
    const table = this.byView.get(view)?.[0];
    if (table === undefined || (table.view.granularity !== 'minute' && table.view.granularity !== 'hour')) return undefined;
    const daily = this.#daily.get(view);
    if (daily === undefined) this.#build(view, table);
    return typeof daily === 'object' ? daily : undefined;
  }

  /**
   * The roll-up, and then the base table's index of slots by bucket: the
   * roll-up serves a range's whole days, and the index its partial days,
   * so both are ready before {@link spans} uses either.
   */
  *#rollingUp(table: AggregateTable): Generator<void, AggregateTable, void> {
    const daily = yield* table.rollingUp('day', ROLL_UP_STEP);
    yield* table.indexingByBucket(ROLL_UP_STEP);
    return daily;
  }

  #build(view: string, table: AggregateTable): void {
    this.#daily.set(view, 'building');
    const steps = this.#rollingUp(table);
    const step = (): void => {
      try {
        const next = steps.next();
        if (next.done === true) this.#daily.set(view, next.value);
        else setImmediate(step);
      } catch {
        // Only a speed-up is lost (out of memory, most likely): queries go on reading the finer table.
        this.#daily.set(view, 'failed');
      }
    };
    // Not unref'd: an unref'd immediate does not keep the loop turning, so on an idle server each step would
    // wait for the next timer or request, and the roll-up would be ready only after the queries that wanted it.
    setImmediate(step);
  }
}
