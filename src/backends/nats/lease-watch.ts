/**
 * How long each partition's lease record has stayed unchanged, as this node
 * saw it: a lease expires when its owner has not written it for a lease time,
 * and that is told by watching the record's revision on this node's own
 * clock, never by comparing a timestamp another machine wrote with this
 * one's (the node registry tells a dead node the same way). A record first
 * seen now has been unchanged for 0 ms, whatever its age: a node that just
 * started waits one lease time before it takes a lease from anyone.
 *
 * @module
 */

interface Sighting {
  readonly revision: number;
  readonly since: number;
}

/** The revision each record was last seen at, and since when. */
export class LeaseWatch {
  readonly #seen = new Map<number, Sighting>();

  /**
   * Notes that `partition`'s record was read at `revision` (0: no record) at
   * `now`, a time taken after the read returned; resolves with how long it
   * has been unchanged.
   *
   * @example
   * ```ts
   * const watch = new LeaseWatch();
   * watch.observe(3, 41, 1_000); // 0
   * watch.observe(3, 41, 11_000); // 10_000: its owner has not renewed it for 10 s
   * watch.observe(3, 44, 11_500); // 0: renewed
   * ```
   */
  observe(partition: number, revision: number, now: number): number {
    const seen = this.#seen.get(partition);
    if (seen?.revision === revision) return now - seen.since;
    this.#seen.set(partition, { revision, since: now });
    return 0;
  }
}
