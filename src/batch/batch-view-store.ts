import type { AggregateTable } from '../aggregates/index.ts';
import type { BatchManifest } from './batch-manifest.ts';

/**
 * What the serving layer needs from published batch views. The embedded
 * default holds them in memory for sub-millisecond reads; a remote store would
 * implement the same.
 */
export interface BatchViewStore {
  readonly manifest: BatchManifest;
  /** The view's table, or undefined if this version does not have the view. */
  table(view: string): AggregateTable | undefined;
  /**
   * The view's states rolled up to UTC days, for a view with minute or hour
   * buckets, once ready; undefined until then, and for other views.
   */
  dailyTable(view: string): AggregateTable | undefined;
}

/** Slots per step of a background roll-up: a few milliseconds of work between two turns of the event loop. */
const ROLL_UP_STEP = 1 << 15;

/** Batch views loaded into memory. */
export class InMemoryBatchViews implements BatchViewStore {
  readonly #daily = new Map<string, AggregateTable | 'building' | 'failed'>();

  constructor(
    readonly manifest: BatchManifest,
    private readonly tables: ReadonlyMap<string, AggregateTable>,
  ) {}

  table(view: string): AggregateTable | undefined {
    return this.tables.get(view);
  }

  /**
   * The first call starts building the roll-up in the background, in steps
   * between other work, and callers read the finer table until it is ready;
   * then it is kept, since a version never changes. Built on demand because
   * most views are never read over whole days.
   */
  dailyTable(view: string): AggregateTable | undefined {
    const table = this.tables.get(view);
    if (table === undefined || (table.view.granularity !== 'minute' && table.view.granularity !== 'hour')) return undefined;
    const daily = this.#daily.get(view);
    if (daily === undefined) this.#build(view, table);
    return typeof daily === 'object' ? daily : undefined;
  }

  #build(view: string, table: AggregateTable): void {
    this.#daily.set(view, 'building');
    const steps = table.rollingUp('day', ROLL_UP_STEP);
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
