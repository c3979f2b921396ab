import type { EventColumns, ViewSchema } from '../definitions/index.ts';
import type { AggregateTable } from '../aggregates/index.ts';

/**
 * What the serving layer needs from a real-time store. The embedded default
 * is {@link SpeedLayer}; a distributed one would implement the same.
 */
export interface RealtimeStore {
  /** Folds committed events `[firstOffset, firstOffset + events.count)` in. */
  apply(eventType: string, events: EventColumns, firstOffset: number): void;
  /** Starts a new generation at `offset`, a log seal point. */
  rotate(offset: number): void;
  /** Forgets every contribution of offsets below `cutoff`, which must be a seal point. */
  dropBefore(cutoff: number): void;
  /** The tables that together hold the real-time state of this definition of a view. */
  tables(view: ViewSchema): readonly AggregateTable[];
  stats(): RealtimeStats;
}

export interface RealtimeStats {
  /** First offset the store holds. */
  readonly from: number;
  readonly events: number;
  readonly keys: number;
  /** An estimate of the heap the store's tables take, dimension values included. */
  readonly bytes: number;
  readonly generations: number;
}
