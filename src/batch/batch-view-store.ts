import type { AggregateTable } from '../definitions/index.ts';
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
  /** The view's states rolled up to UTC days, for a view with minute or hour buckets; else undefined. */
  dailyTable(view: string): AggregateTable | undefined;
}

/** Batch views loaded into memory. */
export class InMemoryBatchViews implements BatchViewStore {
  constructor(
    readonly manifest: BatchManifest,
    private readonly tables: ReadonlyMap<string, AggregateTable>,
  ) {}

  readonly #daily = new Map<string, AggregateTable>();

  table(view: string): AggregateTable | undefined {
    return this.tables.get(view);
  }

  /** Built on first use and kept: a version never changes, and most views are never read whole-day. */
  dailyTable(view: string): AggregateTable | undefined {
    const table = this.tables.get(view);
    if (table === undefined || (table.view.granularity !== 'minute' && table.view.granularity !== 'hour')) return undefined;
    let daily = this.#daily.get(view);
    if (daily === undefined) {
      daily = table.rolledUp('day');
      this.#daily.set(view, daily);
    }
    return daily;
  }
}
