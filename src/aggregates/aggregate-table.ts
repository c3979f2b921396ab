/**
 * The in-memory state of one view: the measures' monoid states for every
 * (series, bucket) the view has seen. The speed layer folds events into it;
 * the serving layer loads batch views into it; a query merges several of them.
 *
 * Laid out for the speed layer's hot path: series and (series, bucket) pairs
 * are numbered, each pair gets a slot, and each measure keeps its states in a
 * column indexed by slot, so an event for a known key allocates nothing.
 *
 * @module
 */
import {
  bucketStart, bucketStarts, valueAt, type Column, type CompiledFilter, type EventColumns, type Granularity, type StateColumn, type Value, type ViewSchema,
} from '../definitions/index.ts';
import { SeriesIndex } from './series-index.ts';
import { SlotIndex } from './slot-index.ts';

/** Slots ordered by bucket: bucket `i`'s slots are `slots[starts[i]]` up to `slots[starts[i + 1]]`. */
interface BucketIndex {
  readonly size: number;
  readonly buckets: Float64Array;
  readonly starts: Int32Array;
  readonly slots: Int32Array;
}

/** The index of the first element of a sorted array that is at least `value` (the length if none is). */
function firstAtOrAbove(sorted: Float64Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Measure states of one (series, bucket), in the view's measure order. */
export type States = unknown[];

/**
 * Heap bytes per (series, bucket) key: its place in the slot index, its
 * series, bucket and chain links, and its measure states, with the spare
 * room of arrays that grow by doubling. Measured at about 121 bytes per key
 * on the benchmark's views (docs/benchmarks.md).
 */
export const SLOT_BYTES = 128;

export class AggregateTable {
  readonly #series: SeriesIndex;
  readonly #slots = new SlotIndex();
  /** One per measure, in the view's measure order. */
  readonly columns: readonly StateColumn[];
  /** Positions in the event type's fields (its columns) of the time, the dimensions, and each measure's field (-1 for none). */
  readonly #timeColumn: number;
  readonly #dimensionColumns: readonly number[];
  readonly #measureColumns: readonly number[];
  readonly #filterColumns: readonly number[];
  /** Per measure, the positions of its own filter's fields (empty for an unfiltered measure). */
  readonly #measureFilterColumns: readonly (readonly number[])[];
  /** Scratch space for {@link apply}, reused from call to call. */
  #seriesIds = new Int32Array(0);
  #buckets = new Float64Array(0);
  #slotIds = new Int32Array(0);
  /** A filtered measure's slots: {@link #slotIds} with -1 for the events its filter drops. */
  #measureSlotIds = new Int32Array(0);
  #capacity = 0;
  /** Per slot, the previous slot of the same series (-1 ends the list), so a series' buckets can be walked. */
  #previous = new Int32Array(0);
  /** Per series, its newest slot. */
  readonly #newest: number[] = [];
  /** Per series, the bucket of its newest slot (NaN for none): apart from the slots, so that checking it reads memory already in cache. */
  #newestBuckets = new Float64Array(0);
  /** Per series, how many slots it has. */
  readonly #bucketCounts: number[] = [];
  /** {@link slotsInBuckets}' index, with the table size it was built at. */
  #byBucket: BucketIndex | undefined;
  /** A sink for {@link SlotIndex.touch}'s reads, so that they are not optimised away. Never read. */
  // eslint-disable-next-line no-unused-private-class-members -- written only, on purpose (see above)
  #touched = 0;

  constructor(readonly view: ViewSchema) {
    this.#series = new SeriesIndex(view.dimensions.map((d) => d.name));
    this.columns = view.measures.map((m) => m.monoid.column());
    const column = (name: string) => view.eventType.fields.findIndex((f) => f.name === name);
    this.#timeColumn = column(view.eventType.time.name);
    this.#dimensionColumns = view.dimensions.map((d) => column(d.name));
    this.#measureColumns = view.measures.map((m) => (m.field === undefined ? -1 : column(m.field.name)));
    this.#filterColumns = view.filter.map((f) => column(f.field.name));
    this.#measureFilterColumns = view.measures.map((m) => m.filter.map((f) => column(f.field.name)));
  }

  /** Number of (series, bucket) keys held. */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * An estimate of the heap the table takes: {@link SLOT_BYTES} per key and
   * what its series hold, long dimension values included.
   */
  get bytes(): number {
    let sketches = 0;
    for (const column of this.columns) sketches += column.extraBytes ?? 0;
    return this.#slots.size * SLOT_BYTES + this.#series.bytes + sketches;
  }

  /** Number of series; their ids run from 0 to seriesCount − 1. */
  get seriesCount(): number {
    return this.#series.size;
  }

  /** The dimension values of a series, in the view's dimension order. */
  dims(series: number): readonly Value[] {
    return this.#series.dims(series);
  }

  /** The id of the series with these dimension values, or -1. */
  findSeries(dims: readonly Value[]): number {
    return this.#series.find(dims);
  }

  /** How many buckets a series has. */
  bucketCount(series: number): number {
    return this.#bucketCounts[series] ?? 0;
  }

  /** The slot of (series, bucket), or -1. */
  findSlot(series: number, bucket: number): number {
    return this.#slots.find(series, bucket);
  }

  /** The series a slot belongs to. */
  seriesAt(slot: number): number {
    return this.#slots.seriesAt(slot);
  }

  /** The bucket start (epoch ms) of a slot. */
  bucketAt(slot: number): number {
    return this.#slots.bucketAt(slot);
  }

  /**
   * This table's states with their buckets rolled up to a coarser
   * `granularity`, each bucket into the coarser one that holds its start
   * (a week into the month of its Monday), as a new table whose series have
   * the same ids: a leaderboard over whole days reads an hourly view's
   * daily roll-up, up to 24 times fewer states to merge. Built in
   * steps, since a view of millions of keys takes seconds: each `next()`
   * numbers up to `stepSlots` series or slots, or merges one measure's
   * column, and the last returns the table. To `none`, every series has
   * one slot: its states over all time.
   */
  *rollingUp(granularity: Granularity, stepSlots: number): Generator<void, AggregateTable, void> {
    const rolled = new AggregateTable({ ...this.view, granularity });
    for (let series = 0; series < this.seriesCount; series++) {
      rolled.internSeries(this.dims(series));
      if (series % stepSlots === stepSlots - 1) yield;
    }
    const targets = new Int32Array(this.size);
    for (let slot = 0; slot < this.size; slot++) {
      targets[slot] = rolled.internSlot(this.seriesAt(slot), bucketStart(granularity, this.bucketAt(slot)));
      if (slot % stepSlots === stepSlots - 1) yield;
    }
    // Each column merges `stepSlots` slots per step, not the whole table at once: one column of a
    // million-slot view took ~100 ms of the main thread in one go, which showed in the ingests' freshness.
    const identity = new Int32Array(this.size);
    for (let slot = 0; slot < this.size; slot++) identity[slot] = slot;
    for (const [i, column] of rolled.columns.entries()) {
      for (let from = 0; from < this.size; from += stepSlots) {
        const to = Math.min(this.size, from + stepSlots);
        column.mergeFrom(this.columns[i]!, targets.subarray(from, to), to - from, identity.subarray(from, to));
        yield;
      }
    }
    return rolled;
  }

  /**
   * Sets `out[slot]`, for every slot, to `targetOfSeries[its series]` if its
   * bucket is in [from, to), else to -1: the targets a roll-up passes to
   * {@link StateColumn.mergeFrom} to merge this whole table in one pass.
   */
  slotTargets(targetOfSeries: Int32Array, from: number, to: number, out: Int32Array): void {
    this.#slots.mapSlots(targetOfSeries, from, to, out);
  }

  /**
   * The slots whose bucket is in [from, to), from an index of slots by
   * bucket that is built on first use and kept while the table does not
   * grow (a batch view's never does). A leaderboard over a range cut mid-day
   * reads its two partial days through it, where a pass over the slots
   * would cost the whole table twice.
   */
  slotsInBuckets(from: number, to: number): Int32Array {
    if (this.#byBucket?.size !== this.size) this.indexingByBucket(Infinity).next();
    const { buckets, starts, slots } = this.#byBucket!;
    return slots.subarray(starts[firstAtOrAbove(buckets, from)]!, starts[firstAtOrAbove(buckets, to)]!);
  }

  /**
   * Builds {@link slotsInBuckets}' index in steps of `stepSlots` slots, so a
   * server can build it between requests: a counting sort, as a view has
   * few distinct buckets and many slots.
   */
  *indexingByBucket(stepSlots: number): Generator<void, void, void> {
    const size = this.size;
    const counts = new Map<number, number>();
    for (let slot = 0; slot < size; slot++) {
      const bucket = this.#slots.bucketAt(slot);
      counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
      if (slot % stepSlots === stepSlots - 1) yield;
    }
    const buckets = Float64Array.from(counts.keys()).sort();
    const starts = new Int32Array(buckets.length + 1);
    const next = new Map<number, number>();
    buckets.forEach((bucket, i) => {
      starts[i + 1] = starts[i]! + counts.get(bucket)!;
      next.set(bucket, starts[i]!);
    });
    const slots = new Int32Array(size);
    for (let slot = 0; slot < size; slot++) {
      const bucket = this.#slots.bucketAt(slot);
      const at = next.get(bucket)!;
      slots[at] = slot;
      next.set(bucket, at + 1);
      if (slot % stepSlots === stepSlots - 1) yield;
    }
    this.#byBucket = { size, buckets, starts, slots };
  }

  /** Calls `visit` with every slot of a series, newest first. */
  forEachSlot(series: number, visit: (slot: number) => void): void {
    for (let slot = this.#newest[series] ?? -1; slot !== -1; slot = this.#previous[slot]!) visit(slot);
  }

  /**
   * Folds events in: those that pass the view's filter go to the slot of
   * their (series, bucket), and each measure folds its field's column, but
   * for the events its own filter drops (their slot still exists: the row
   * is the view's, the measure just holds its empty state there). Each
   * step is one pass over typed arrays; reading the fields off row objects
   * instead, event by event and view by view, cost twice as much.
   */
  apply(events: EventColumns): void {
    const count = events.count;
    if (this.#slotIds.length < count) this.#growScratch(count);
    const columns = events.columns;
    const series = this.#seriesIds;
    const buckets = this.#buckets;
    const slots = this.#slotIds;
    // Events the filter drops get series -1, and no series is numbered for them alone.
    const filtered = this.view.filter.length > 0;
    if (filtered) this.#filter(columns, count, series);
    this.#series.internColumns(this.#dimensionColumns.map((at) => columns[at]!), count, series, filtered);
    bucketStarts(this.view.granularity, columns[this.#timeColumn] as Float64Array, count, buckets);
    if (this.#newestBuckets.length < this.#series.size) this.#growSeries(this.#series.size);
    if (this.#slots.large) this.#touched += this.#touchSlots(series, buckets, count);
    for (let i = 0; i < count; i++) slots[i] = series[i] === -1 ? -1 : this.internSlot(series[i]!, buckets[i]!);
    for (let m = 0; m < this.columns.length; m++) {
      const at = this.#measureColumns[m]!;
      const measureSlots = this.view.measures[m]!.filter.length === 0 ? slots : this.#measureSlots(m, columns, count, slots);
      this.columns[m]!.addMany(measureSlots, count, at === -1 ? undefined : columns[at]);
    }
  }

  /** Sets `out[i]` to -1 for each event the filter drops, and to 0 for the others. */
  #filter(columns: readonly Column[], count: number, out: Int32Array): void {
    out.fill(0, 0, count);
    dropFailing(this.view.filter, this.#filterColumns, columns, count, out);
  }

  /** Measure `m`'s slots: the events' slots, with -1 for those its own filter drops. */
  #measureSlots(m: number, columns: readonly Column[], count: number, slots: Int32Array): Int32Array {
    const out = this.#measureSlotIds;
    out.set(slots.subarray(0, count));
    dropFailing(this.view.measures[m]!.filter, this.#measureFilterColumns[m]!, columns, count, out);
    return out;
  }

  /**
   * Touches the slot index for the events that will not land in their
   * series' newest bucket, and returns the sum of what it read. (Storing
   * each read into a scratch array instead lost the gain: the loads then
   * stopped overlapping.)
   */
  #touchSlots(series: Int32Array, buckets: Float64Array, count: number): number {
    const newest = this.#newestBuckets;
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const s = series[i]!;
      if (s !== -1 && newest[s] !== buckets[i]) sum += this.#slots.touch(s, buckets[i]!);
    }
    return sum;
  }

  #growSeries(count: number): void {
    const grown = new Float64Array(Math.max(count, this.#newestBuckets.length * 2)).fill(NaN);
    grown.set(this.#newestBuckets);
    this.#newestBuckets = grown;
  }

  #growScratch(count: number): void {
    const length = Math.max(count, this.#slotIds.length * 2);
    this.#seriesIds = new Int32Array(length);
    this.#buckets = new Float64Array(length);
    this.#slotIds = new Int32Array(length);
    this.#measureSlotIds = new Int32Array(length);
  }

  /** Makes room for `slots` (series, bucket) keys in all, for a load whose size is known. */
  reserve(slots: number): void {
    this.#slots.reserve(slots);
    if (slots > this.#capacity) this.#grow(slots);
  }

  /** The id of the series with these dimension values, numbering it if new. */
  internSeries(dims: readonly Value[]): number {
    return this.#series.intern(dims);
  }

  /**
   * The slot of (series, bucket), making it (with empty states) if new. With
   * {@link columns} and {@link internSeries}, how a batch view is loaded.
   */
  internSlot(series: number, bucket: number): number {
    // Live events arrive roughly in time order, so most land in their series' newest bucket: no hashing for them.
    if (this.#newestBuckets[series] === bucket) return this.#newest[series]!;
    const before = this.#slots.size;
    const slot = this.#slots.intern(series, bucket);
    return slot === before ? this.#link(slot, series) : slot;
  }

  /**
   * Numbers (series, bucket) pairs as new slots at once, for a load whose
   * pairs are new and distinct (a batch view's rows): `add` returns each
   * pair's slot, and `finish` enters them all in the index in one sweep,
   * returning false if two were the same. Until then only the pairs in
   * their series' newest bucket can be looked up.
   */
  bulkSlots(): { add(series: number, bucket: number): number; finish(): boolean } {
    const first = this.#slots.size;
    return {
      add: (series, bucket) => this.#link(this.#slots.append(series, bucket), series),
      finish: () => this.#slots.indexAppended(first) === -1,
    };
  }

  #link(slot: number, series: number): number {
    if (slot >= this.#capacity) this.#grow(Math.max(16, this.#capacity * 2));
    // Series can be numbered before their first slot (a batch view's are), so fill up to this one.
    while (this.#newest.length <= series) {
      this.#newest.push(-1);
      this.#bucketCounts.push(0);
    }
    if (this.#newestBuckets.length <= series) this.#growSeries(series + 1);
    this.#previous[slot] = this.#newest[series]!;
    this.#newest[series] = slot;
    this.#newestBuckets[series] = this.#slots.bucketAt(slot);
    this.#bucketCounts[series]!++;
    return slot;
  }

  #grow(capacity: number): void {
    const previous = new Int32Array(capacity);
    previous.set(this.#previous);
    this.#previous = previous;
    for (const column of this.columns) column.grow(capacity);
    this.#capacity = capacity;
  }
}

/** Sets `out[i]` to -1 for each event that fails one of `filters` (whose fields are at `at` in `columns`), leaving the rest. */
function dropFailing(filters: readonly CompiledFilter[], at: readonly number[], columns: readonly Column[], count: number, out: Int32Array): void {
  filters.forEach((f, k) => {
    const column = columns[at[k]!]!;
    for (let i = 0; i < count; i++) if (out[i] !== -1 && !f.test(valueAt(column, i))) out[i] = -1;
  });
}
