/**
 * A set of origin sequences, as sorted disjoint half-open runs
 * (`[[0, 1200], [1250, 1300]]`): which events of one node's outbox a
 * partition has seen. A node's outbox numbers the events it takes for a
 * partition 0, 1, 2, … and they mostly arrive in that order, so the set stays
 * a run or two however many events it holds.
 *
 * @module
 */

/** A half-open run of origin sequences: `[from, to)`. */
export type OriginRun = readonly [from: number, to: number];

export class OriginSet {
  #runs: [number, number][] = [];

  /** A set holding `runs` (from a snapshot: sorted, disjoint, non-empty). */
  static of(runs: readonly OriginRun[]): OriginSet {
    const set = new OriginSet();
    for (const [from, to] of runs) set.add(from, to);
    return set;
  }

  get runs(): readonly OriginRun[] {
    return this.#runs;
  }

  /** Adds `[from, to)`. */
  add(from: number, to: number): void {
    if (to <= from) return;
    const runs = this.#runs;
    // The first run that ends at or after `from`: every run before it lies wholly below.
    const i = this.#firstEndingAtOrAfter(from);
    let start = from;
    let end = to;
    let j = i;
    while (j < runs.length && runs[j]![0] <= end) {
      start = Math.min(start, runs[j]![0]);
      end = Math.max(end, runs[j]![1]);
      j++;
    }
    runs.splice(i, j - i, [start, end]);
  }

  /** Whether every sequence of `[from, to)` is in the set. */
  covers(from: number, to: number): boolean {
    if (to <= from) return true;
    const run = this.#runs[this.#firstEndingAtOrAfter(from + 1)];
    return run !== undefined && run[0] <= from && run[1] >= to;
  }

  /** The runs of `[from, to)` not in the set, in order. */
  missingFrom(from: number, to: number): OriginRun[] {
    const missing: OriginRun[] = [];
    let at = from;
    for (let i = this.#firstEndingAtOrAfter(from + 1); i < this.#runs.length && at < to; i++) {
      const [start, end] = this.#runs[i]!;
      if (start >= to) break;
      if (start > at) missing.push([at, start]);
      at = Math.max(at, end);
    }
    if (at < to) missing.push([at, to]);
    return missing;
  }

  /** One past the end of the run that starts at 0, or 0: every origin below it is in the set. */
  get prefix(): number {
    const first = this.#runs[0];
    return first !== undefined && first[0] === 0 ? first[1] : 0;
  }

  #firstEndingAtOrAfter(seq: number): number {
    let lo = 0;
    let hi = this.#runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#runs[mid]![1] < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
