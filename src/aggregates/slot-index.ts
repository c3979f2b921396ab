/**
 * Finds the slot of a (series, bucket) pair in an aggregate table.
 *
 * An open-addressing hash table over typed arrays, hand-written because the
 * speed layer looks a pair up for every event and view: a Map would need a
 * composite key (a fresh string, or a Map per series) and allocate on every
 * lookup, while this allocates only when it doubles.
 *
 * @module
 */

const EMPTY = 0;
/** Int32s in a table past which it no longer fits in a core's caches (256 KiB here). */
const LARGE_TABLE = 1 << 16;

/** Mixes a series id and a bucket start (epoch ms, an integer) into 32 bits. */
function hash(series: number, bucket: number): number {
  // `| 0` keeps the low 32 bits of an integer double; the division brings the high bits down.
  let h = Math.imul(series, 0x9e3779b1) ^ Math.imul(bucket | 0, 0x85ebca77) ^ Math.imul((bucket / 4294967296) | 0, 0xc2b2ae3d);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return h ^ (h >>> 16);
}

/**
 * The indices of `hashes` sorted by the high bits of their table position (a
 * counting sort into at most 4,096 runs): entering pairs in this order
 * writes each run's few kilobytes of table while they are in cache.
 */
function positionOrder(hashes: Int32Array, positions: number): Int32Array {
  const shift = Math.max(0, 31 - Math.clz32(positions) - 12);
  const mask = positions - 1;
  const starts = new Int32Array((positions >>> shift) + 1);
  for (let i = 0; i < hashes.length; i++) starts[((hashes[i]! & mask) >>> shift) + 1]!++;
  for (let r = 1; r < starts.length; r++) starts[r]! += starts[r - 1]!;
  const order = new Int32Array(hashes.length);
  for (let i = 0; i < hashes.length; i++) order[starts[(hashes[i]! & mask) >>> shift]!++] = i;
  return order;
}

export class SlotIndex {
  /**
   * Two Int32s per table position: the pair's hash, then slot + 1 (0 is
   * empty). Kept at most half full so probes stay short. The hash sits beside
   * the slot so that a probe passing other pairs, and a rehash, never read
   * the pairs themselves: with a million keys those reads were cache misses,
   * and most of the cost of a view whose events each open a new key. There
   * are always at least twice as many positions as room for slots.
   */
  #table = new Int32Array(32);
  #series = new Int32Array(8);
  #buckets = new Float64Array(8);
  #size = 0;

  /** Slots handed out so far; they are numbered 0 to size − 1. */
  get size(): number {
    return this.#size;
  }

  seriesAt(slot: number): number {
    return this.#series[slot]!;
  }

  bucketAt(slot: number): number {
    return this.#buckets[slot]!;
  }

  /** Makes room for `slots` slots in all, so that loading a known number of them never rehashes. */
  reserve(slots: number): void {
    if (slots <= this.#series.length) return;
    const series = new Int32Array(slots);
    series.set(this.#series);
    this.#series = series;
    const buckets = new Float64Array(slots);
    buckets.set(this.#buckets);
    this.#buckets = buckets;
    let positions = this.#table.length >> 1;
    while (slots * 2 > positions) positions *= 2;
    if (positions * 2 > this.#table.length) this.#rehash(positions);
  }

  /** Whether the table has outgrown the processor's caches, so that {@link touch} pays. */
  get large(): boolean {
    return this.#table.length > LARGE_TABLE;
  }

  /**
   * Reads the table where (series, bucket) would go, without using what it
   * reads. Called for a run of pairs before looking them up: the reads do
   * not depend on one another, so the processor keeps many of them in
   * flight, and the lookups that follow find the table in cache. Returns a
   * meaningless number, to be kept so the read is not dropped.
   */
  touch(series: number, bucket: number): number {
    const table = this.#table;
    return table[2 * (hash(series, bucket) & ((table.length >> 1) - 1)) + 1]!;
  }

  /**
   * Sets `out[slot]`, for every slot, to `targetOfSeries[its series]` if its
   * bucket is in [from, to), else to -1: one pass over the pairs, for a
   * roll-up that merges whole tables.
   */
  mapSlots(targetOfSeries: Int32Array, from: number, to: number, out: Int32Array): void {
    const series = this.#series;
    const buckets = this.#buckets;
    for (let slot = 0; slot < this.#size; slot++) {
      const bucket = buckets[slot]!;
      out[slot] = bucket >= from && bucket < to ? targetOfSeries[series[slot]!]! : -1;
    }
  }

  /**
   * The table position of (series, bucket), whose hash is `h`: where the pair
   * is, or else the empty position where it would go.
   */
  #position(h: number, series: number, bucket: number): number {
    const table = this.#table;
    const mask = (table.length >> 1) - 1;
    let at = h & mask;
    for (let entry = table[2 * at + 1]!; entry !== EMPTY; entry = table[2 * at + 1]!) {
      if (table[2 * at] === h && this.#series[entry - 1] === series && this.#buckets[entry - 1] === bucket) return at;
      at = (at + 1) & mask;
    }
    return at;
  }

  /** The slot of (series, bucket), or -1. */
  find(series: number, bucket: number): number {
    // An empty position holds 0, so this is -1 for a pair not there.
    return this.#table[2 * this.#position(hash(series, bucket), series, bucket) + 1]! - 1;
  }

  /** The slot of (series, bucket), handing out slot {@link size} if the pair is new. */
  intern(series: number, bucket: number): number {
    // Grown before probing, since growing rehashes: the position found must be in the table kept.
    if (this.#size === this.#series.length) this.reserve(this.#size * 2);
    const h = hash(series, bucket);
    const at = this.#position(h, series, bucket);
    const entry = this.#table[2 * at + 1]!;
    if (entry !== EMPTY) return entry - 1;
    const slot = this.#size++;
    this.#series[slot] = series;
    this.#buckets[slot] = bucket;
    this.#table[2 * at] = h;
    this.#table[2 * at + 1] = slot + 1;
    return slot;
  }

  /**
   * Numbers a pair as slot {@link size} without entering it in the table:
   * the first half of a bulk load, which {@link indexAppended} completes.
   * Until then, {@link find} and {@link intern} do not see the pair.
   */
  append(series: number, bucket: number): number {
    if (this.#size === this.#series.length) this.reserve(this.#size * 2);
    const slot = this.#size++;
    this.#series[slot] = series;
    this.#buckets[slot] = bucket;
    return slot;
  }

  /**
   * Enters slots `first` to {@link size} − 1, numbered by {@link append},
   * into the table. They go in the order of their table positions, so the
   * writes sweep the table once: loading a 720,000-key batch view, entering
   * each pair as it came (at a random position, a cache miss each) took
   * most of the load's JavaScript time. Returns -1, or a slot whose pair is
   * already in the table (the caller's input was not distinct).
   */
  indexAppended(first: number): number {
    const count = this.#size - first;
    if (count <= 0) return -1;
    const table = this.#table;
    const positions = table.length >> 1;
    const mask = positions - 1;
    const hashes = new Int32Array(count);
    for (let i = 0; i < count; i++) hashes[i] = hash(this.#series[first + i]!, this.#buckets[first + i]!);
    for (const i of positionOrder(hashes, positions)) {
      const h = hashes[i]!;
      const slot = first + i;
      let at = h & mask;
      // Not #position: that takes the pair itself, and reading it for every slot (in table order, so at random)
      // made the whole load a third slower; here it is read only when a hash matches.
      for (let entry = table[2 * at + 1]!; entry !== EMPTY; entry = table[2 * at + 1]!) {
        if (table[2 * at] === h && this.#series[entry - 1] === this.#series[slot] && this.#buckets[entry - 1] === this.#buckets[slot]) return slot;
        at = (at + 1) & mask;
      }
      table[2 * at] = h;
      table[2 * at + 1] = slot + 1;
    }
    return -1;
  }

  /**
   * Moves every pair to a table of `positions` positions. The old table is
   * walked in order and each pair's position comes from its stored hash, so
   * the reads are sequential and the writes nearly so.
   */
  #rehash(positions: number): void {
    const old = this.#table;
    const table = new Int32Array(positions * 2);
    const mask = positions - 1;
    for (let from = 1; from < old.length; from += 2) {
      const entry = old[from]!;
      if (entry === EMPTY) continue;
      const h = old[from - 1]!;
      let at = h & mask;
      while (table[2 * at + 1] !== EMPTY) at = (at + 1) & mask;
      table[2 * at] = h;
      table[2 * at + 1] = entry;
    }
    this.#table = table;
  }
}
