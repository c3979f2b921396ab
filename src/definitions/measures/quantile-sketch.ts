/**
 * The state of a `quantiles` measure: a count per bucket of values, with
 * buckets whose width is a fixed fraction of their values, so every quantile
 * comes back within a guaranteed **relative** error (as DDSketch does).
 *
 * Values are the normalized ones (a number's scaled integer), so the bucket
 * of a value is computed with integers only, and DuckDB computes the same
 * bucket as JavaScript for the same value (no floating-point logarithm
 * decides it, whose last bit may differ between the two):
 *
 * - `a = |v|`; below `2^(k+1)` each integer is its own bucket (exact);
 * - above, with `e` the position of `a`'s highest bit, the bucket is
 *   `(e - k) * 2^k + (a >> (e - k))`: the top `k + 1` bits of `a`. A bucket
 *   `[L, U)` has `U - L <= L / 2^k`, and its representative `2LU / (L + U)`
 *   is within `1 / (2^(k+1) + 1)` of every value in it, relatively;
 * - negative values use the same buckets of `|v|`, with the sign; zero has
 *   its own count.
 *
 * `k` is the smallest that meets the accuracy asked: 6 for the default 1%
 * (a guaranteed 0.78%). The bucket index is a signed integer (negative for
 * negative values, 0 for zero), and the state is the count of each index; a
 * state's canonical form lists them in ascending order, so states merged in
 * any order, or built in either layer, are the same bytes.
 *
 * @module
 */
import { parseIntegers } from './sql-integers.ts';

export const DEFAULT_RELATIVE_ACCURACY = 0.01;
export const DEFAULT_QUANTILES = [0.5, 0.9, 0.99] as const;

/** The sub-bucket bits that guarantee `accuracy`: the smallest k with 1 / (2^(k+1) + 1) <= accuracy. */
export function subBucketBits(accuracy: number): number {
  let k = 0;
  while (1 / (2 ** (k + 1) + 1) > accuracy) k++;
  return k;
}

/** The position of the highest set bit of a positive safe integer, exactly. */
function highestBit(a: number): number {
  if (a < 2 ** 31) return 31 - Math.clz32(a);
  let e = Math.floor(Math.log2(a));
  // The logarithm may round across a power of two; the integer comparisons settle it.
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

/** The signed bucket index of a normalized value (a safe integer). */
export function bucketOf(value: number, k: number): number {
  const a = Math.abs(value);
  if (a < 2 ** (k + 1)) return value;
  const e = highestBit(a);
  const index = (e - k) * 2 ** k + Math.floor(a / 2 ** (e - k));
  return value < 0 ? -index : index;
}

/** The value a bucket stands for: the point of its range with the least relative error to any value in it. */
export function representative(index: number, k: number): number {
  const sign = index < 0 ? -1 : 1;
  const i = Math.abs(index);
  if (i < 2 ** (k + 1)) return index;
  const shift = Math.floor(i / 2 ** k) - 1;
  const top = i - shift * 2 ** k;
  const low = top * 2 ** shift;
  const high = (top + 1) * 2 ** shift;
  return sign * ((2 * low * high) / (low + high));
}

/** The SQL of {@link bucketOf} over `input`, a BIGINT expression: integer arithmetic, as in JavaScript. */
export function bucketSql(input: string, k: number): string {
  const a = `abs(${input})`;
  const e0 = `CAST(floor(log2(${a})) AS BIGINT)`;
  const e = `(${e0} - CASE WHEN (CAST(1 AS BIGINT) << ${e0}) > ${a} THEN 1 ELSE 0 END + CASE WHEN (CAST(1 AS BIGINT) << (${e0} + 1)) <= ${a} THEN 1 ELSE 0 END)`;
  const limit = 2 ** (k + 1);
  return `CASE WHEN ${a} < ${limit} THEN ${input} ELSE sign(${input}) * ((${e} - ${k}) * ${2 ** k} + (${a} >> (${e} - ${k}))) END`;
}

/** Counts per bucket: the state of one key. */
export class QuantileSketch {
  /** Bucket index → count; kept sorted only when read. Null while the state is only {@link #pairs}. */
  #counts: Map<number, number> | null = new Map();
  /**
   * A state read from the batch layer as it came: (index, count) pairs in
   * any order, an index maybe repeated. Loading a view then makes no Map
   * entry per bucket (a million of them for a view of 4,320 keys cost more
   * in garbage collection than the SQL); the Map is made only if the state
   * changes, and a query merges the pairs into its own state.
   */
  #pairs: Float64Array | null = null;
  #total = 0;

  get count(): number {
    return this.#total;
  }

  /** Map entries (or pairs read from SQL), for the memory bound. */
  get buckets(): number {
    return this.#counts?.size ?? this.#pairs!.length / 2;
  }

  /** The counts as a Map, made from the pairs the first time the state changes or is read in order. */
  #map(): Map<number, number> {
    if (this.#counts !== null) return this.#counts;
    const pairs = this.#pairs!;
    const counts = (this.#counts = new Map());
    for (let i = 0; i < pairs.length; i += 2) counts.set(pairs[i]!, (counts.get(pairs[i]!) ?? 0) + pairs[i + 1]!);
    this.#pairs = null;
    return counts;
  }

  addBucket(index: number, count = 1): void {
    const counts = this.#map();
    counts.set(index, (counts.get(index) ?? 0) + count);
    this.#total += count;
  }

  merge(other: QuantileSketch): void {
    const pairs = other.#pairs;
    if (pairs === null) for (const [index, count] of other.#counts!) this.addBucket(index, count);
    else for (let i = 0; i < pairs.length; i += 2) this.addBucket(pairs[i]!, pairs[i + 1]!);
  }

  clone(): QuantileSketch {
    const copy = new QuantileSketch();
    copy.merge(this);
    return copy;
  }

  /** The (index, count) pairs in ascending order of index: the canonical form. */
  entries(): [number, number][] {
    return [...this.#map()].sort((a, b) => a[0] - b[0]);
  }

  /**
   * The normalized value at quantile `q` (0 to 1): the representative of the
   * bucket holding the value of rank `q * (count - 1)`, or null when empty.
   */
  quantile(q: number, k: number, sorted = this.entries()): number | null {
    if (this.#total === 0) return null;
    const rank = q * (this.#total - 1);
    let seen = 0;
    for (const [index, count] of sorted) {
      seen += count;
      if (seen > rank) return representative(index, k);
    }
    return representative(sorted.at(-1)![0], k);
  }

  /** Canonical bytes: format byte 1, `k`, a 32-bit big-endian entry count, then per entry the index and count as 64-bit big-endian integers. */
  encode(k: number): Uint8Array {
    const entries = this.entries();
    const bytes = new Uint8Array(6 + 16 * entries.length);
    const view = new DataView(bytes.buffer);
    bytes[0] = 1;
    bytes[1] = k;
    view.setUint32(2, entries.length);
    entries.forEach(([index, count], i) => {
      view.setBigInt64(6 + 16 * i, BigInt(index));
      view.setBigInt64(14 + 16 * i, BigInt(count));
    });
    return bytes;
  }

  static decode(bytes: Uint8Array): { sketch: QuantileSketch; k: number } {
    if (bytes[0] !== 1) throw new RangeError('not a quantiles state of format 1');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const sketch = new QuantileSketch();
    const n = view.getUint32(2);
    for (let i = 0; i < n; i++) sketch.addBucket(Number(view.getBigInt64(6 + 16 * i)), Number(view.getBigInt64(14 + 16 * i)));
    return { sketch, k: bytes[1]! };
  }

  /** The state from the batch layer's SQL: `index:count` pairs joined by commas, in any order; an index may come more than once, its counts then add up. */
  static fromSql(text: string | null): QuantileSketch {
    const sketch = new QuantileSketch();
    if (text === null || text === '') return sketch;
    const pairs = parseIntegers(text);
    for (let i = 1; i < pairs.length; i += 2) sketch.#total += pairs[i]!;
    sketch.#pairs = pairs;
    sketch.#counts = null;
    return sketch;
  }
}
