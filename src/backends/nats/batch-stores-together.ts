/**
 * Several batch stores read as one: what one answer reads of a node's
 * partitions, held in a few stores (`partition-batch.ts`). Each store holds
 * other partitions' states, so their tables are read side by side and merged
 * by each measure's monoid, as an incremental version's deltas are.
 *
 * @module
 */
import type { AggregateTable } from '../../aggregates/index.ts';
import type { BatchManifest, BatchViewStore } from '../../batch/index.ts';

/**
 * @example
 * ```ts
 * const store = new BatchStoresTogether(manifest, [merged, taken]);
 * store.tables('sales');   // every table of both
 * ```
 */
export class BatchStoresTogether implements BatchViewStore {
  constructor(
    readonly manifest: BatchManifest,
    private readonly stores: readonly BatchViewStore[],
  ) {}

  tables(view: string): readonly AggregateTable[] {
    return this.stores.length === 1 ? this.stores[0]!.tables(view) : this.stores.flatMap((s) => s.tables(view));
  }

  spans(view: string, from: number, to: number): { table: AggregateTable; from: number; to: number }[] {
    return this.stores.flatMap((s) => s.spans(view, from, to));
  }

  async settled(): Promise<void> {
    await Promise.all(this.stores.map((s) => s.settled()));
  }

  /** A coarser roll-up is one store's: none for several together (their spans read each one's). */
  coarseTable(view: string): AggregateTable | undefined {
    return this.stores.length === 1 ? this.stores[0]!.coarseTable(view) : undefined;
  }
}
