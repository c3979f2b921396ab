/**
 * The idempotency keys already in the log, per event type. It holds every key
 * ever accepted, so duplicates are caught however late they arrive; memory
 * grows with the number of keyed events (about 60 bytes each).
 *
 * @module
 */
export class IdempotencyIndex {
  readonly #keys = new Map<string, Set<string>>();

  #set(eventType: string): Set<string> {
    let set = this.#keys.get(eventType);
    if (set === undefined) {
      set = new Set();
      this.#keys.set(eventType, set);
    }
    return set;
  }

  has(eventType: string, key: string): boolean {
    return this.#keys.get(eventType)?.has(key) ?? false;
  }

  add(eventType: string, key: string): void {
    this.#set(eventType).add(key);
  }

  delete(eventType: string, key: string): void {
    this.#keys.get(eventType)?.delete(key);
  }

  get size(): number {
    let n = 0;
    for (const set of this.#keys.values()) n += set.size;
    return n;
  }
}
