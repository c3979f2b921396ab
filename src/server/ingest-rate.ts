/** Events per second over a sliding window, for status pages; one slot per second keeps it O(window). */
export class IngestRate {
  readonly #slots: Float64Array;
  readonly #seconds: Float64Array;

  // One slot more than the window: the current, partial second needs its own slot, or it would
  // overwrite the oldest full second that the window still counts.
  constructor(readonly windowSeconds = 10) {
    this.#slots = new Float64Array(windowSeconds + 1);
    this.#seconds = new Float64Array(windowSeconds + 1).fill(-1);
  }

  record(events: number, now = Date.now()): void {
    const second = Math.floor(now / 1000);
    const slot = second % this.#slots.length;
    if (this.#seconds[slot] !== second) {
      this.#seconds[slot] = second;
      this.#slots[slot] = 0;
    }
    this.#slots[slot]! += events;
  }

  /** Mean rate over the last full window, excluding the current partial second. */
  perSecond(now = Date.now()): number {
    const current = Math.floor(now / 1000);
    let total = 0;
    for (let i = 0; i < this.#slots.length; i++) {
      const age = current - this.#seconds[i]!;
      if (age >= 1 && age <= this.windowSeconds) total += this.#slots[i]!;
    }
    return total / this.windowSeconds;
  }
}
