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

export class SlotIndex {
  /** slot + 1 per table position; 0 is empty. Kept at most half full so probes stay short. */
  #table = new Int32Array(16);
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
    let capacity = this.#table.length;
    while (slots * 2 > capacity) capacity *= 2;
    if (capacity > this.#table.length) this.#rehash(capacity);
  }

  /** The slot of (series, bucket), or -1. */
  find(series: number, bucket: number): number {
    const mask = this.#table.length - 1;
    for (let at = hash(series, bucket) & mask; ; at = (at + 1) & mask) {
      const entry = this.#table[at]!;
      if (entry === EMPTY) return -1;
      if (this.#series[entry - 1] === series && this.#buckets[entry - 1] === bucket) return entry - 1;
    }
  }

  /** The slot of (series, bucket), handing out slot {@link size} if the pair is new. */
  intern(series: number, bucket: number): number {
    const table = this.#table;
    const mask = table.length - 1;
    let at = hash(series, bucket) & mask;
    for (let entry = table[at]!; entry !== EMPTY; entry = table[at]!) {
      if (this.#series[entry - 1] === series && this.#buckets[entry - 1] === bucket) return entry - 1;
      at = (at + 1) & mask;
    }
    const slot = this.#size++;
    if (slot === this.#series.length) this.#growSlots();
    this.#series[slot] = series;
    this.#buckets[slot] = bucket;
    table[at] = slot + 1;
    if (this.#size * 2 > table.length) this.#rehash(table.length * 2);
    return slot;
  }

  #growSlots(): void {
    this.reserve(this.#series.length * 2);
  }

  #rehash(capacity: number): void {
    const table = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let slot = 0; slot < this.#size; slot++) {
      let at = hash(this.#series[slot]!, this.#buckets[slot]!) & mask;
      while (table[at] !== EMPTY) at = (at + 1) & mask;
      table[at] = slot + 1;
    }
    this.#table = table;
  }
}
