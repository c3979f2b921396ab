/**
 * A map past V8's size limit. A V8 `Map` holds at most 2^24 (16,777,216)
 * entries and throws `RangeError: Map maximum size exceeded` at the next;
 * some of Tandem's maps grow with the data: the series of a view keyed by
 * user, the idempotency keys of a long history. This one starts another
 * `Map` each time the newest fills, and below the limit it is one `Map`
 * behind a method call and a branch.
 *
 * @module
 */

/** Entries per inner map: half V8's limit, so a future lower limit is not reached either. */
const DEFAULT_MAP_ENTRIES = 1 << 23;

/**
 * A map from keys to defined values that can hold any number of entries.
 *
 * @example
 * ```ts
 * const ids = new LargeMap<string, number>();
 * ids.set('c42', 0);
 * ids.get('c42'); // 0
 * ```
 */
export class LargeMap<K, V extends NonNullable<unknown>> {
  /** Full maps, oldest first; new keys go to {@link #newest}. */
  readonly #full: Map<K, V>[] = [];
  #newest = new Map<K, V>();
  #size = 0;

  /** `entriesPerMap` is for tests; the default keeps each inner map well inside V8's limit. */
  constructor(private readonly entriesPerMap = DEFAULT_MAP_ENTRIES) {}

  /** Every key, oldest map first. */
  *keys(): Generator<K> {
    for (const map of [...this.#full, this.#newest]) yield* map.keys();
  }

  get size(): number {
    return this.#size;
  }

  get(key: K): V | undefined {
    const value = this.#newest.get(key);
    return value !== undefined || this.#full.length === 0 ? value : this.#fullHolder(key)?.get(key);
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  set(key: K, value: V): void {
    const holder = this.#holder(key);
    if (holder === undefined) this.insert(key, value);
    else holder.set(key, value);
  }

  /** Adds a key the caller knows is absent (it just failed a {@link get}): one lookup fewer than {@link set}. */
  insert(key: K, value: V): void {
    if (this.#newest.size >= this.entriesPerMap) {
      this.#full.push(this.#newest);
      this.#newest = new Map();
    }
    this.#newest.set(key, value);
    this.#size++;
  }

  delete(key: K): boolean {
    const holder = this.#holder(key);
    if (holder === undefined) return false;
    holder.delete(key);
    this.#size--;
    return true;
  }

  /** The inner map holding `key`, if any. */
  #holder(key: K): Map<K, V> | undefined {
    return this.#newest.has(key) ? this.#newest : this.#fullHolder(key);
  }

  /** The full map holding `key`, if any. */
  #fullHolder(key: K): Map<K, V> | undefined {
    for (const map of this.#full) if (map.has(key)) return map;
    return undefined;
  }
}
