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
}

/** Batch views loaded into memory. */
export class InMemoryBatchViews implements BatchViewStore {
  constructor(
    readonly manifest: BatchManifest,
    private readonly tables: ReadonlyMap<string, AggregateTable>,
  ) {}

  table(view: string): AggregateTable | undefined {
    return this.tables.get(view);
  }
}
