/**
 * The idempotency keys already in the log, per event type. Without a window
 * it holds every key ever accepted, so duplicates are caught however late
 * they arrive, and memory grows with the keyed events (a key's characters
 * and 37 to 69 bytes, outside the JavaScript heap: `key-set.ts`).
 * With a window of N, a type keeps the keys of its latest N stored events in
 * a ring, so memory is bounded and a key is forgotten N events after it came.
 *
 * @module
 */
import { LargeMap } from '../util/large-map.ts';
import { KeySet } from './key-set.ts';

/** One event type's keys within its window: each mapped to the sequence number of its latest add, and the ring of the window. */
class WindowKeys {
  /** A window may pass the 2^24 entries one V8 Map holds. */
  readonly #keys = new LargeMap<string, number>();
  readonly #ring: string[] = [];
  #added = 0;

  constructor(private readonly window: number) {}

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  add(key: string): void {
    const seq = this.#added++;
    this.#keys.set(key, seq);
    const slot = seq % this.window;
    const evicted = seq >= this.window ? this.#ring[slot] : undefined;
    // Forget the key leaving the window only if it was not added again since (stored twice: replayed, or forgotten and retried).
    if (evicted !== undefined && this.#keys.get(evicted) === seq - this.window) this.#keys.delete(evicted);
    this.#ring[slot] = key;
  }

  /** Forgets `key`: a slot of the ring that still names it no longer evicts anything. */
  forget(key: string): void {
    this.#keys.delete(key);
  }

  keys(): Iterable<string> {
    return this.#keys.keys();
  }

  get size(): number {
    return this.#keys.size;
  }
}

export class IdempotencyIndex {
  readonly #types = new Map<string, KeySet | WindowKeys>();

  /** `windows` bounds the keys kept per event type; a type not in it keeps all, in a {@link KeySet}. */
  constructor(private readonly windows: ReadonlyMap<string, number> = new Map()) {}

  #of(eventType: string): KeySet | WindowKeys {
    let keys = this.#types.get(eventType);
    if (keys === undefined) {
      const window = this.windows.get(eventType);
      keys = window === undefined ? new KeySet() : new WindowKeys(window);
      this.#types.set(eventType, keys);
    }
    return keys;
  }

  has(eventType: string, key: string): boolean {
    return this.#types.get(eventType)?.has(key) ?? false;
  }

  /** Adds keys in the order their events were stored: with a window, the oldest fall out. */
  add(eventType: string, key: string): void {
    this.#of(eventType).add(key);
  }

  /**
   * Adds `key` unless `eventType` holds it; says whether it was added. One
   * lookup where `has` then `add` made two: the rule deciding which copy of
   * a key counts runs it on every keyed event and history row.
   *
   * @example
   * ```ts
   * if (index.addNew('order', event.id)) kept.push(event);
   * ```
   */
  addNew(eventType: string, key: string): boolean {
    const keys = this.#of(eventType);
    if (keys instanceof KeySet) return keys.add(key);
    if (keys.has(key)) return false;
    keys.add(key);
    return true;
  }

  /**
   * Adds every key of `keys` (in the order they were stored) to `eventType`'s:
   * how a history import's keys join the index once its file is committed.
   * A type keeping every key takes the set as it is when it has none yet,
   * else merges it byte by byte ({@link KeySet.addAll}); a window adds them
   * one by one, so the oldest fall out. The caller gives `keys` up.
   *
   * @example
   * ```ts
   * index.addAll('order', keysOfTheImportedFile);
   * ```
   */
  addAll(eventType: string, keys: KeySet): void {
    const held = this.#types.get(eventType);
    if (held === undefined && !this.windows.has(eventType)) this.#types.set(eventType, keys);
    else if (held instanceof KeySet && held.size === 0) this.#types.set(eventType, keys);
    else if (held instanceof KeySet) held.addAll(keys);
    else for (const key of keys.keys()) this.add(eventType, key);
  }

  /** The event types that keep every key, each with its set: what a snapshot of the keys holds. */
  wholeSets(): Map<string, KeySet> {
    const sets = new Map<string, KeySet>();
    for (const [eventType, keys] of this.#types) if (keys instanceof KeySet) sets.set(eventType, keys);
    return sets;
  }

  /** Puts back a type's keys from a snapshot, in place of any it has; only a type without a window keeps a {@link KeySet}. */
  restore(eventType: string, keys: KeySet): void {
    if (this.windows.has(eventType)) throw new Error(`Event type '${eventType}' keeps a window of keys, which a snapshot does not hold.`);
    this.#types.set(eventType, keys);
  }

  /** Forgets `keys` of `eventType`: their events were erased, so the same events sent again are new. */
  forget(eventType: string, keys: readonly string[]): void {
    const held = this.#types.get(eventType);
    if (held === undefined || keys.length === 0) return;
    if (held instanceof KeySet) this.#types.set(eventType, held.without(new Set(keys)));
    else for (const key of keys) held.forget(key);
  }

  /** Forgets the keys of `eventType` that `erased` picks (by a hash of each, say: `first-occurrence.ts`); one pass over its keys. */
  forgetWhere(eventType: string, erased: (key: string) => boolean): void {
    const held = this.#types.get(eventType);
    if (held === undefined) return;
    const picked: string[] = [];
    for (const key of held.keys()) if (erased(key)) picked.push(key);
    this.forget(eventType, picked);
  }

  /** The window of an event type, or undefined when it keeps every key. */
  windowOf(eventType: string): number | undefined {
    return this.windows.get(eventType);
  }

  get size(): number {
    let n = 0;
    for (const keys of this.#types.values()) n += keys.size;
    return n;
  }
}
