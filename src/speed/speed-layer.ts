/**
 * The speed layer: real-time views of every event the batch layer has not
 * absorbed, kept in memory.
 *
 * Its state is split into generations by log offset (Marz's "expiring
 * real-time views"): a new generation starts where a batch run seals the
 * log, and where a segment rolled over for size, and publishing a batch
 * drops exactly the generations below its cutoff, whatever the events'
 * timestamps. The boundaries at roll-overs let a batch run stop at the end
 * of a segment already exported to Parquet, leaving the partial segment
 * here, so that it exports nothing itself. They are capped
 * ({@link MAX_GENERATIONS}): each generation refills its tables from empty,
 * and every query merges one table per generation.
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
  /** By {@link viewKey}: two definitions of one view may be held while one replaces the other. */
  readonly tables: Map<string, AggregateTable>;
  readonly byEventType: Map<string, AggregateTable[]>;
}

/**
 * A view definition's key in the speed layer: its name and hash. While a
 * changed view's batch layer is backfilled, the old definition serves and
 * the new one starts folding, so both are held under one name.
 */
export function viewKey(view: ViewSchema): string {
  return `${view.name}@${view.hash}`;
}

/**
 * Generations held at most, counting roll-over boundaries not reached yet.
 * Past it a roll-over starts none: a batch run then stops at an earlier
 * boundary (or seals the log), and the speed layer keeps a little more.
 */
export const MAX_GENERATIONS = 6;

export class SpeedLayer implements RealtimeStore {
  readonly #views = new Map<string, ViewSchema>();
  #generations: Generation[];
  /**
   * Segment ends the log rolled over at that the applied events have not
   * reached yet, ascending: the log tells of a roll-over before the events
   * below it are applied, so each starts a generation once they are.
   */
  #boundaries: number[] = [];

  /** An empty speed layer whose first generation starts at `start` (the published batch cutoff). */
  constructor(catalog: Pick<Catalog, 'views'>, start: number) {
    for (const view of catalog.views.values()) this.#views.set(viewKey(view), view);
    this.#generations = [this.#generation(start)];
  }

  #generation(start: number): Generation {
    const generation: Generation = { start, end: start, tables: new Map(), byEventType: new Map() };
    for (const view of this.#views.values()) addTable(generation, view);
    return generation;
  }

  /**
   * Starts folding `view` too: every generation started from now on holds a
   * table of it, and so does the current one if it holds no event yet. A
   * view changed while serving is included just before the log is sealed
   * for its switch, so every generation at or past that cutoff holds it whole.
   */
  include(view: ViewSchema): void {
    const key = viewKey(view);
    if (this.#views.has(key)) return;
    this.#views.set(key, view);
    const current = this.#generations.at(-1)!;
    if (current.end === current.start) addTable(current, view);
  }

  /** Stops folding `view` and frees its tables: a definition replaced or dropped. */
  retire(view: ViewSchema): void {
    const key = viewKey(view);
    if (!this.#views.delete(key)) return;
    for (const g of this.#generations) {
      const table = g.tables.get(key);
      if (table === undefined) continue;
      g.tables.delete(key);
      const type = view.eventType.name;
      const rest = (g.byEventType.get(type) ?? []).filter((t) => t !== table);
      if (rest.length === 0) g.byEventType.delete(type);
      else g.byEventType.set(type, rest);
    }
  }

  /** The view definitions folded now. */
  held(): ViewSchema[] {
    return [...this.#views.values()];
  }

  /** Whether every generation from `offset` on holds `view`: it was included before the first of them began. */
  holdsWhole(view: ViewSchema, offset: number): boolean {
    const key = viewKey(view);
    return this.#generations.every((g) => g.start < offset || g.tables.has(key));
  }

  apply(eventType: string, events: EventColumns, firstOffset: number): void {
    if (this.#boundaries.length > 0) this.#reach(firstOffset);
    const current = this.#generations.at(-1)!;
    if (firstOffset < current.start) throw new MisalignedCutoffError(firstOffset, this.#starts());
    for (const table of current.byEventType.get(eventType) ?? []) table.apply(events);
    current.end = firstOffset + events.count;
  }

  rotate(offset: number): void {
    this.#reach(offset);
    const current = this.#generations.at(-1)!;
    if (offset === current.start) return;
    current.end = offset;
    this.#generations.push(this.#generation(offset));
  }

  /**
   * Notes that the log rolled over at `offset` (a segment's end): a
   * generation starts there once every event below it is applied, unless
   * {@link MAX_GENERATIONS} are held.
   */
  markBoundary(offset: number): void {
    const last = this.#boundaries.at(-1) ?? this.#generations.at(-1)!.start;
    if (offset <= last || this.#generations.length + this.#boundaries.length >= MAX_GENERATIONS) return;
    this.#boundaries.push(offset);
  }

  /** Starts the generations of the boundaries at or below `offset`, the next offset to apply. */
  #reach(offset: number): void {
    while (this.#boundaries.length > 0 && this.#boundaries[0]! <= offset) {
      const boundary = this.#boundaries.shift()!;
      const current = this.#generations.at(-1)!;
      // Events were applied past it (none should be: a frame never spans a roll-over), so it is no clean cut: passed over.
      if (current.end !== boundary || boundary === current.start) continue;
      this.#generations.push(this.#generation(boundary));
    }
  }

  /**
   * The largest offset in (`after`, `limit`] at which {@link dropBefore}
   * can cut: a generation's start, or a boundary every applied event is
   * below (which then starts one). Undefined when there is none.
   */
  cutPoint(after: number, limit: number): number | undefined {
    this.#reach(this.#generations.at(-1)!.end);
    let cut: number | undefined;
    for (const g of this.#generations) if (g.start > after && g.start <= limit) cut = g.start;
    return cut;
  }

  dropBefore(cutoff: number): void {
    // A generation holding offsets on both sides of the cutoff cannot be split: that would miscount.
    if (this.#generations.some((g) => g.start < cutoff && g.end > cutoff)) {
      throw new MisalignedCutoffError(cutoff, this.#starts());
    }
    const kept = this.#generations.filter((g) => g.start >= cutoff);
    this.#generations = kept.length > 0 ? kept : [this.#generation(cutoff)];
    this.#boundaries = this.#boundaries.filter((b) => b > cutoff);
  }

  #starts(): number[] {
    return this.#generations.map((g) => g.start);
  }

  tables(view: ViewSchema): readonly AggregateTable[] {
    const key = viewKey(view);
    return this.#generations.flatMap((g) => g.tables.get(key) ?? []);
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

function addTable(generation: Generation, view: ViewSchema): void {
  const table = new AggregateTable(view);
  generation.tables.set(viewKey(view), table);
  const type = view.eventType.name;
  generation.byEventType.set(type, [...(generation.byEventType.get(type) ?? []), table]);
}
