/**
 * The speed layer: real-time views of every event the batch layer has not
 * absorbed, kept in memory.
 *
 * Its state is split into generations by log offset (Marz's "expiring
 * real-time views"): a new generation starts where each batch run seals the
 * log (its cutoff), and publishing that batch drops exactly the generations
 * below it, whatever the events' timestamps. Segments that roll over for
 * size do not start one: a generation per segment would refill its tables
 * from empty every segment of log, and make every query merge one table per
 * segment since the last batch.
 *
 * @module
 */
import { type Catalog, type EventColumns, type ViewSchema } from '../definitions/index.ts';
import { AggregateTable } from '../aggregates/index.ts';
import { MisalignedCutoffError } from './errors.ts';
import type { RealtimeStats, RealtimeStore } from './realtime-store.ts';

interface Generation {
  readonly start: number;
  end: number;
  readonly tables: ReadonlyMap<string, AggregateTable>;
  readonly byEventType: ReadonlyMap<string, readonly AggregateTable[]>;
}

export class SpeedLayer implements RealtimeStore {
  readonly #views: readonly ViewSchema[];
  #generations: Generation[];

  /** An empty speed layer whose first generation starts at `start` (the published batch cutoff). */
  constructor(catalog: Catalog, start: number) {
    this.#views = [...catalog.views.values()];
    this.#generations = [this.#generation(start)];
  }

  #generation(start: number): Generation {
    const tables = new Map(this.#views.map((v) => [v.name, new AggregateTable(v)]));
    const byEventType = new Map<string, AggregateTable[]>();
    for (const table of tables.values()) {
      const type = table.view.eventType.name;
      byEventType.set(type, [...(byEventType.get(type) ?? []), table]);
    }
    return { start, end: start, tables, byEventType };
  }

  apply(eventType: string, events: EventColumns, firstOffset: number): void {
    const current = this.#generations.at(-1)!;
    if (firstOffset < current.start) throw new MisalignedCutoffError(firstOffset, this.#boundaries());
    for (const table of current.byEventType.get(eventType) ?? []) table.apply(events);
    current.end = firstOffset + events.count;
  }

  rotate(offset: number): void {
    const current = this.#generations.at(-1)!;
    if (offset === current.start) return;
    current.end = offset;
    this.#generations.push(this.#generation(offset));
  }

  dropBefore(cutoff: number): void {
    // A generation holding offsets on both sides of the cutoff cannot be split: that would miscount.
    if (this.#generations.some((g) => g.start < cutoff && g.end > cutoff)) {
      throw new MisalignedCutoffError(cutoff, this.#boundaries());
    }
    const kept = this.#generations.filter((g) => g.start >= cutoff);
    this.#generations = kept.length > 0 ? kept : [this.#generation(cutoff)];
  }

  #boundaries(): number[] {
    return this.#generations.map((g) => g.start);
  }

  tables(view: string): readonly AggregateTable[] {
    return this.#generations.flatMap((g) => g.tables.get(view) ?? []);
  }

  stats(): RealtimeStats {
    let keys = 0;
    let bytes = 0;
    for (const g of this.#generations) {
      for (const t of g.tables.values()) {
        keys += t.size;
        bytes += t.bytes;
      }
    }
    const from = this.#generations[0]!.start;
    return { from, events: this.#generations.at(-1)!.end - from, keys, bytes, generations: this.#generations.length };
  }
}
