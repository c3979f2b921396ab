/**
 * How many events each partition holds, counted exactly rather than read
 * off its stream: a message may carry many events (an ingest's batch) and
 * seals and duplicates take sequences too, so a sequence counts messages,
 * never events. A partition's events are those its served archive holds
 * (each range's files record their rows) plus those its speed layer
 * applied past the archive's end; the node holding its speed layer knows
 * both, and its heartbeat tells the others. The archive's bytes are the
 * sizes of its objects in the object store, looked up once per object
 * (archived objects never change).
 *
 * @module
 */
import type { BlobStore } from '../../master/index.ts';
import type { ArchivedRange } from './shared-manifest.ts';

/**
 * Per partition, the events `chain` archives below `below[p]` (every range
 * when `below` is not given): the rows of its ranges' files.
 *
 * @example
 * ```ts
 * archivedEvents(chain, 4);   // [1200, 980, 0, 1431]
 * ```
 */
export function archivedEvents(chain: readonly ArchivedRange[], partitions: number, below?: readonly number[]): number[] {
  const events = new Array<number>(partitions).fill(0);
  for (const range of chain) {
    if (below !== undefined && range.to > below[range.partition]!) continue;
    for (const file of Object.values(range.files)) events[range.partition]! += file.rows;
  }
  return events;
}

/** One partition's events as a node reports them: its archive's, and all it holds (the archive's and its speed layer's), or null where no node told. */
export interface PartitionEvents {
  readonly archived: number;
  readonly total: number | null;
}

/** What a heartbeat tells of the events its node holds. */
export interface EventsTold {
  readonly node: string;
  readonly events?: readonly (number | null)[];
}

/**
 * Each partition's events: where `here[p]` is known (this node holds the
 * speed layer), that; else what the heartbeat of its owner (`owners[p]`)
 * says; else what another holder's says; else null. The archive's are
 * `archived`, this node's served chain's.
 *
 * @example
 * ```ts
 * partitionEvents([10, 0], [12, null], [{ node: 'b', events: [null, 3] }], ['a', 'b']);
 * // [{ archived: 10, total: 12 }, { archived: 0, total: 3 }]
 * ```
 */
export function partitionEvents(archived: readonly number[], here: readonly (number | null)[], told: readonly EventsTold[], owners: readonly (string | null)[]): PartitionEvents[] {
  return archived.map((a, p) => {
    const byOwner = told.find((beat) => beat.node === owners[p])?.events?.[p] ?? null;
    const byAny = told.map((beat) => beat.events?.[p] ?? null).find((n) => n !== null) ?? null;
    return { archived: a, total: here[p] ?? byOwner ?? byAny };
  });
}

/** The sum of `counts`, or null when any is unknown: a total that leaves a partition out would read as exact. */
export function knownSum(counts: readonly (number | null)[]): number | null {
  let sum = 0;
  for (const n of counts) {
    if (n === null) return null;
    sum += n;
  }
  return sum;
}

/**
 * The bytes of a chain's objects in the object store, per partition. Sizes
 * are looked up in the background (`learn`), since status answers at once;
 * until every object of a partition is known its bytes are null.
 *
 * @example
 * ```ts
 * const sizes = new ArchiveSizes(blobs);
 * void sizes.learn(chain);
 * sizes.bytes(chain, 4);   // [null, …] at first, then [18_230, 9_411, 0, 20_007]
 * ```
 */
export class ArchiveSizes {
  readonly #bytes = new Map<string, number>();
  #learning: Promise<void> | undefined;

  constructor(private readonly blobs: Pick<BlobStore, 'info'>) {}

  /** Per partition, the bytes of `chain`'s Parquet objects, or null while one of them is not looked up yet. */
  bytes(chain: readonly ArchivedRange[], partitions: number): (number | null)[] {
    const bytes: (number | null)[] = new Array<number | null>(partitions).fill(0);
    for (const range of chain) {
      for (const file of Object.values(range.files)) {
        const size = this.#bytes.get(file.blob);
        const sum = bytes[range.partition];
        bytes[range.partition] = size === undefined || sum === null || sum === undefined ? null : sum + size;
      }
    }
    return bytes;
  }

  /**
   * Looks up the sizes of `chain`'s objects not known yet, one lookup at a
   * time (a call while one runs joins it), and forgets those of objects no
   * longer in `chain`. An object gone from the store (the archive check
   * reports it) stays unknown.
   */
  learn(chain: readonly ArchivedRange[]): Promise<void> {
    this.#learning ??= this.#lookUp(chain).finally(() => (this.#learning = undefined));
    return this.#learning;
  }

  async #lookUp(chain: readonly ArchivedRange[]): Promise<void> {
    // Objects no longer in the chain (folded, or swept) are forgotten: the sizes kept stay those of one archive.
    const named = new Set(chain.flatMap((range) => Object.values(range.files).map((f) => f.blob)));
    for (const blob of this.#bytes.keys()) if (!named.has(blob)) this.#bytes.delete(blob);
    for (const range of chain) {
      for (const { blob } of Object.values(range.files)) {
        if (this.#bytes.has(blob)) continue;
        const info = await this.blobs.info(blob).catch(() => undefined);
        if (info !== undefined) this.#bytes.set(blob, info.bytes);
      }
    }
  }

  /** Whether every object of `chain` has its size known. */
  knows(chain: readonly ArchivedRange[]): boolean {
    return chain.every((range) => Object.values(range.files).every((f) => this.#bytes.has(f.blob)));
  }
}
