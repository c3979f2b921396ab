/**
 * Events a node had read that a batch version records as lost by NATS, and
 * that it now awaits again. The version holds none of them, and adopting it
 * drops them from the speed layer, so the node's answers lack them until the
 * outbox of the node that took each publishes it again (within a second or
 * so, or once that node is back up). Until the node has seen every one of
 * them again, by origin, its status names the partition: an answer is never
 * short without saying so.
 *
 * The rule that tells "seen again" is the one the node reads the partition
 * with after the version: the rule it read the lost stretch with has seen
 * those origins already, so while it is still in use nothing is settled.
 *
 * @module
 */
import { OriginSet } from './origin-set.ts';
import type { LostReads, SeqStretch } from './read-origins.ts';

/** What one partition awaits, for status. */
export interface AwaitedPartition {
  readonly partition: number;
  /** The version that recorded the loss (the latest, where several did). */
  readonly version: number;
  readonly stretches: readonly SeqStretch[];
  /** Events still awaited, with an origin or without. */
  readonly events: number;
}

/** What tells the origins a partition's rule has seen: its FirstOccurrenceFilter. */
export interface SeenOrigins {
  originsOf(id: string): OriginSet;
}

interface Awaited {
  version: number;
  stretches: SeqStretch[];
  origins: Map<string, OriginSet>;
  /** Events without an origin (written before outboxes): nothing can publish them again. */
  unknown: number;
  /** The rule in use when the loss was adopted: it has seen these origins already. */
  readonly stale: SeenOrigins | null;
}

function count(set: OriginSet): number {
  return set.runs.reduce((n, [from, to]) => n + to - from, 0);
}

export class AwaitedEvents {
  readonly #partitions = new Map<number, Awaited>();

  get size(): number {
    return this.#partitions.size;
  }

  has(p: number): boolean {
    return this.#partitions.has(p);
  }

  /** Version `version` recorded `stretches` of `p` lost, and adopting it dropped `reads`; `current` is the rule in use now. */
  add(p: number, version: number, stretches: readonly SeqStretch[], reads: LostReads, current: SeenOrigins | null): void {
    if (reads.events === 0) return;
    const awaited = this.#partitions.get(p) ?? { version, stretches: [], origins: new Map<string, OriginSet>(), unknown: 0, stale: current };
    awaited.version = version;
    awaited.stretches.push(...stretches);
    awaited.unknown += reads.unknown;
    for (const [id, set] of reads.origins) {
      const into = awaited.origins.get(id) ?? new OriginSet();
      for (const [from, to] of set.runs) into.add(from, to);
      awaited.origins.set(id, into);
    }
    this.#partitions.set(p, awaited);
  }

  /** Lets go of what `filter`, the rule `p` is read with now, has seen; whether anything changed. */
  settle(p: number, filter: SeenOrigins | null): boolean {
    const awaited = this.#partitions.get(p);
    if (awaited === undefined || filter === null || filter === awaited.stale) return false;
    let changed = false;
    for (const [id, set] of awaited.origins) {
      const seen = filter.originsOf(id);
      const left = OriginSet.of(set.runs.flatMap(([from, to]) => seen.missingFrom(from, to)));
      if (count(left) === count(set)) continue;
      changed = true;
      if (left.runs.length === 0) awaited.origins.delete(id);
      else awaited.origins.set(id, left);
    }
    if (awaited.origins.size === 0 && awaited.unknown === 0) {
      this.#partitions.delete(p);
      return true;
    }
    return changed;
  }

  /** Awaits nothing more of `p`: this node no longer reads it, and its owner awaits what it lost. */
  forget(p: number): boolean {
    return this.#partitions.delete(p);
  }

  /** Every partition still awaiting events, in order. */
  list(): AwaitedPartition[] {
    return [...this.#partitions].sort(([a], [b]) => a - b).map(([partition, a]) => ({
      partition, version: a.version, stretches: a.stretches,
      events: a.unknown + [...a.origins.values()].reduce((n, set) => n + count(set), 0),
    }));
  }
}
