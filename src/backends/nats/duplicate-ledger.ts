/**
 * What the duplicate rule decided for recent messages, so that an ingest can
 * say how many of its events were copies of ones already stored: the rule
 * runs in the node's consumer, after the append was acknowledged, so the
 * answer waits for it and reads the decision here.
 *
 * @module
 */

/** Decisions remembered per partition: far more than an ingest waits for. */
const REMEMBERED = 65_536;

export class DuplicateLedger {
  readonly #partitions: Map<number, number>[];

  constructor(partitions: number) {
    this.#partitions = Array.from({ length: partitions }, () => new Map<number, number>());
  }

  /** Records that message `seq` of `partition` had `duplicates` of its events dropped. */
  record(partition: number, seq: number, duplicates: number): void {
    const decided = this.#partitions[partition]!;
    decided.set(seq, duplicates);
    // Maps iterate in insertion order, and sequences arrive in order: the first key is the oldest.
    if (decided.size > REMEMBERED) decided.delete(decided.keys().next().value!);
  }

  /** Events dropped as duplicates in the messages `(partition, seq)`, each counted once; undefined while one is not decided. */
  duplicatesIn(messages: Iterable<readonly [partition: number, seq: number]>): number | undefined {
    let total = 0;
    for (const [partition, seq] of messages) {
      const n = this.#partitions[partition]!.get(seq);
      if (n === undefined) return undefined;
      total += n;
    }
    return total;
  }
}
