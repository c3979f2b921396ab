/**
 * The chain the next cycle will publish, prepared on the batch node between
 * cycles, as the embedded engine exports sealed segments in the background:
 * ranges archived ahead of the seal (so that a cycle archives only what
 * arrived since the last pass) and folds of older ranges (compaction, see
 * `archive-compaction.ts`). Nothing prepared here counts until a cycle
 * publishes it: the cycle takes it, extends it up to its seal, and publishes
 * it through the fenced compare-and-set, like any range.
 *
 * Ranges archived ahead follow the served chain's end under one lease term;
 * what follows another chain or term (another node published, the lease was
 * lost and taken again) is dropped. A fold holds on while its ranges are
 * still in the chain, so a fold that runs across a cycle (folds run beside
 * cycles, on their own connection) counts in the next one. What is dropped
 * is an orphan, which the sweep deletes (`archive-sweep.ts`).
 *
 * @module
 */
import { nextFold, replaceGroup } from './archive-compaction.ts';
import type { PartitionArchive } from './partition-archive.ts';
import type { ArchivedRange } from './shared-manifest.ts';

/** What a cycle takes: the served chain with the folds made, and the ranges archived past its end. */
export interface PreparedChain {
  readonly chain: readonly ArchivedRange[];
  readonly ahead: readonly ArchivedRange[];
}

/** A range named for comparison across chains: a version loaded from its manifest holds other objects for the same ranges. */
const keyOf = (r: ArchivedRange) => `${r.partition}:${r.from}:${r.to}:${Object.values(r.files).map((f) => f.sha256).join(',')}`;

interface Fold {
  readonly group: readonly ArchivedRange[];
  readonly folded: ArchivedRange;
  readonly term: number;
}

export class NextChain {
  /** The served chain and term the ranges archived ahead follow; compared by identity, as a new version brings a new chain. */
  #served: readonly ArchivedRange[] = [];
  #term = -1;
  #ahead: readonly ArchivedRange[] = [];
  /** Folds made and not yet published. */
  #folds: Fold[] = [];
  /** The fold in flight, if any, settled once it is made (or failed). */
  #folding: Promise<void> = Promise.resolve();
  #paused = false;

  constructor(private readonly archive: PartitionArchive) {}

  /** Starts the ranges archived ahead over on `served` unless they follow it under `term`. */
  #on(served: readonly ArchivedRange[], term: number): void {
    if (served === this.#served && term === this.#term) return;
    this.#served = served;
    this.#term = term;
    this.#ahead = [];
  }

  /**
   * `served` with every fold made under `term` whose ranges it still holds,
   * in the order they were made (a fold may take in an earlier one's range);
   * the others are dropped.
   */
  #folded(served: readonly ArchivedRange[], term: number): ArchivedRange[] {
    let chain = [...served];
    const kept: Fold[] = [];
    for (const f of this.#folds) {
      const byKey = new Map(chain.map((r) => [keyOf(r), r]));
      const group = f.group.map((r) => byKey.get(keyOf(r)));
      if (f.term !== term || group.some((r) => r === undefined)) continue;
      chain = replaceGroup(chain, group as ArchivedRange[], f.folded);
      kept.push(f);
    }
    this.#folds = kept;
    return chain;
  }

  /** Per partition, one past the last sequence prepared (1 where nothing is archived). */
  ends(served: readonly ArchivedRange[], term: number): number[] {
    this.#on(served, term);
    return this.archive.endsOf([...served, ...this.#ahead]);
  }

  /** Events archived ahead in partition `p`: already out of what the next cycle archives. */
  aheadEvents(p: number): number {
    return this.#ahead.filter((r) => r.partition === p).reduce((n, r) => n + Object.values(r.files).reduce((m, f) => m + f.rows, 0), 0);
  }

  /** Archives each partition past what is prepared, up to `to[p]` (exclusive) where that is further. */
  async archiveAhead(served: readonly ArchivedRange[], term: number, to: readonly number[]): Promise<void> {
    this.#on(served, term);
    const base = [...served, ...this.#ahead];
    const added = (await this.archive.extend(base, to, term)).slice(base.length);
    // Read after the wait: what is prepared may have been taken or dropped meanwhile, and these ranges then follow nothing.
    if (this.#served === served && this.#term === term && this.#ahead.length === base.length - served.length) this.#ahead = [...this.#ahead, ...added];
  }

  /** Folds (with `fold`) the next group compaction picks in the served chain with the folds made; resolves with whether there was one. */
  async foldOnce(served: readonly ArchivedRange[], term: number, fold: (group: readonly ArchivedRange[]) => Promise<ArchivedRange>): Promise<boolean> {
    if (this.#paused) return false;
    const group = nextFold(this.#folded(served, term));
    if (group === undefined) return false;
    const run = (async () => {
      const folded = await fold(group);
      // Read after the wait: a cycle may have taken the folds meanwhile, and this one counts in the next.
      this.#folds.push({ group, folded, term });
    })();
    this.#folding = run.catch(() => undefined);
    await run;
    return true;
  }

  /**
   * Starts no fold until {@link resume}, and resolves once the fold in
   * flight is made. A cycle that erases takes the chain only then, so the
   * erasure rewrites every fold it takes; a fold made after the take would
   * read objects the erasure replaces and hold the erased values outside
   * every chain, until the sweep deleted it without erasing its bytes in
   * the servers' files.
   *
   * @example
   * ```ts
   * await next.pause();
   * try { erase(next.take(served, term)); } finally { next.resume(); }
   * ```
   */
  async pause(): Promise<void> {
    this.#paused = true;
    await this.#folding;
  }

  resume(): void {
    this.#paused = false;
  }

  /** The objects prepared and not yet published: no sweep may take them. */
  unpublished(): string[] {
    return [...this.#ahead, ...this.#folds.map((f) => f.folded)].flatMap(objectsOf);
  }

  /** Hands what is prepared on `served` under `term` to a cycle. */
  take(served: readonly ArchivedRange[], term: number): PreparedChain {
    this.#on(served, term);
    const prepared = { chain: this.#folded(served, term), ahead: this.#ahead };
    this.#ahead = [];
    this.#folds = [];
    return prepared;
  }

  /** Drops the ranges archived ahead: the stream they were read from lost its tail since. */
  dropAhead(): void {
    this.#served = [];
    this.#term = -1;
    this.#ahead = [];
  }
}

/** The objects of a range: its Parquet files and its snapshot. */
export function objectsOf(range: ArchivedRange): string[] {
  return [...Object.values(range.files).map((f) => f.blob), range.filter.blob];
}
