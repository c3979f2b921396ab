/**
 * A node's part in dividing the partitions (issue #28): the balancing step
 * (`partition-balancer.ts`), which the node runs every third of a lease time, over
 * the partition leases (`partition-leases.ts`, KV bucket
 * `<cluster>_partitions`), with the live nodes from the registry's
 * heartbeats, and keeps what it saw for status: each partition's owner and
 * epoch, and the moves it made or saw. It releases its leases on close, so
 * that another node takes them at once rather than after a lease time.
 *
 * Every node still applies every partition; what ownership is for next is
 * that each applies and answers for its own (scatter-gather over
 * `serving/partial-states.ts`), so a node added adds capacity.
 *
 * @module
 */
import type { EngineLogger } from '../../engine/index.ts';
import { PartitionBalancer, type BalanceInput, type BalanceReport } from './partition-balancer.ts';
import type { PartitionLeases } from './partition-leases.ts';

/** A partition's owner as this node last saw it. */
export interface PartitionOwnerView {
  readonly partition: number;
  /** The owning node; null while none holds it. */
  readonly owner: string | null;
  /** The fencing epoch of the owner's lease; null while none holds it. */
  readonly epoch: number | null;
  /** The node the owner is handing it to, once that node caught up; null when none. */
  readonly moveTo: string | null;
}

/** A change of a partition's owner, as this node saw it. */
export interface OwnershipMove {
  readonly partition: number;
  readonly from: string | null;
  readonly to: string | null;
  /** When this node saw it (ISO 8601). */
  readonly at: string;
}

/** Moves kept for status: the latest ones. */
const MOVES_KEPT = 32;

export class PartitionOwnership {
  readonly #balancer: PartitionBalancer;
  readonly #owners: PartitionOwnerView[];
  /** Whether each partition's record has been read once: the first sighting of an owner is no move. */
  readonly #known: boolean[];
  readonly #moves: OwnershipMove[] = [];
  #movesSeen = 0;
  #stepping: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    private readonly leases: PartitionLeases, partitions: number, private readonly logger: EngineLogger, standbys = 0,
  ) {
    this.#balancer = new PartitionBalancer(leases, { partitions, standbys });
    this.#owners = Array.from({ length: partitions }, (_, partition) => ({ partition, owner: null, epoch: null, moveTo: null }));
    this.#known = new Array<boolean>(partitions).fill(false);
  }

  /** How often to step: every third of a lease time, so a lease is renewed twice before it could run out. */
  get stepEveryMs(): number {
    return this.leases.renewEveryMs;
  }

  /** One balancing step; what it saw replaces what status shows. */
  async step(input: BalanceInput): Promise<BalanceReport | undefined> {
    if (this.#closed) return undefined;
    const stepping = this.#balancer.step(input);
    this.#stepping = stepping.then(() => undefined, () => undefined);
    const report = await stepping;
    if (this.#closed) return report;
    for (const [partition, epoch] of report.owned) this.#see(partition, this.leases.node, epoch, this.leases.ownRecord(partition)?.moveTo ?? null);
    for (const view of report.seen) {
      const lease = view.entry?.value;
      this.#see(view.partition, lease?.owner?.node ?? null, lease?.owner === null || lease === undefined ? null : lease.epoch, lease?.moveTo ?? null);
    }
    for (const p of report.taken) this.logger.info({ partition: p, epoch: report.owned.get(p) }, 'took a partition\'s lease');
    for (const p of report.lost) this.logger.warn({ partition: p }, 'lost a partition\'s lease to another node');
    for (const offer of report.offered) this.logger.info({ partition: offer.partition, to: offer.to }, 'offered a partition to the node it is assigned to');
    return report;
  }

  #see(partition: number, owner: string | null, epoch: number | null, moveTo: string | null): void {
    const before = this.#owners[partition]!;
    if (this.#known[partition] === true && before.owner !== owner) {
      this.#moves.push({ partition, from: before.owner, to: owner, at: new Date().toISOString() });
      this.#movesSeen++;
      if (this.#moves.length > MOVES_KEPT) this.#moves.shift();
    }
    this.#owners[partition] = { partition, owner, epoch, moveTo };
    this.#known[partition] = true;
  }

  /** Each partition's owner, as last seen. */
  owners(): readonly PartitionOwnerView[] {
    return this.#owners;
  }

  /** The latest changes of owner seen, oldest first. */
  moves(): readonly OwnershipMove[] {
    return this.#moves;
  }

  /** Changes of owner seen since this node started. */
  get movesSeen(): number {
    return this.#movesSeen;
  }

  /** The partitions this node owns, with their epochs. */
  owned(): ReadonlyMap<number, number> {
    return this.leases.held();
  }

  /** Stops stepping and releases every lease held, so that other nodes take them at once. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#stepping;
    const { failed } = await this.leases.release();
    if (failed.length > 0) this.logger.warn({ partitions: failed.map((f) => f.partition) }, 'could not release some partition leases; they are taken over once they expire');
  }
}
