/**
 * The balancing rule each node runs every third of a lease time: from the
 * live nodes (the heartbeats heard within a lease time), compute who should
 * own what (`partition-assignment.ts`, the same answer on every node), renew
 * the leases held, take the free or expired partitions this node should own,
 * and offer each partition it should not own to the node that should, once
 * that node has caught up (the heartbeats' applied positions say so). The
 * node that should own a partition another still holds follows it (applies
 * it without owning it) until it is offered; a hot standby applies its
 * partitions all along.
 *
 * A node unable to serve a partition (it cannot follow it) takes none such,
 * and offers each it holds to the node that would own it without it, which
 * takes it at once; it is offered back once the node has caught up again.
 *
 * A partition nobody takes (its node assigned is gone from this node's view
 * but not from the others', say) is taken by any node once it has stayed free
 * or expired for two lease times, so it never stays without an owner; the
 * balancing moves it on afterwards. Nodes whose views of the live set differ
 * for a moment may both claim a partition: the compare-and-set gives it to
 * one, and the views agree again within a heartbeat or two.
 *
 * Cost: a step reads every partition's record it does not hold and writes
 * each it holds, so a cluster makes about 3 × P × N / leaseMs reads and
 * 3 × P / leaseMs writes a second on the lease bucket's one server (256
 * partitions over 10 nodes: 768 reads and 77 writes a second). A KV watch
 * would replace the reads when that grows too large.
 *
 * @module
 */
import { InvalidClusterOptionError } from './errors.ts';
import { assignPartitions, targetsOf, type PartitionAssignment } from './partition-assignment.ts';
import type { LeaseView, PartitionLeases } from './partition-leases.ts';
import { settledFailures, settledWith, type PartitionFailure } from './settled-partitions.ts';

export interface PartitionBalancerOptions {
  /** The cluster's partition count. */
  readonly partitions: number;
  /** Nodes that apply each partition besides its owner, as hot standbys. Default 0. */
  readonly standbys?: number;
}

/** What a balancing step is told. */
export interface BalanceInput {
  /** The nodes heard from within a lease time; this node counts whether listed or not. */
  readonly live: readonly string[];
  /** Whether `node` has applied `partition` as far as this node has: from its heartbeat's applied positions. */
  readonly caughtUp: (partition: number, node: string) => boolean;
  /**
   * Whether this node cannot serve `partition` now (it cannot follow it): it
   * takes none such, and hands each it holds to the node that would own it
   * without this one, so that another node serves it meanwhile. Default: none.
   */
  readonly unable?: (partition: number) => boolean;
}

/** A partition marked as moving to another node. */
export interface PartitionOffer {
  readonly partition: number;
  readonly to: string;
}

/** What a balancing step did, and what the node should apply now. */
export interface BalanceReport {
  /** The partitions this node owns after the step, with their epochs: apply them and answer for them. */
  readonly owned: ReadonlyMap<number, number>;
  /** Partitions taken in this step: resume each from its published version, its archive and its stream. */
  readonly taken: readonly number[];
  /** Partitions this node no longer owns: stop serving and publishing them. */
  readonly lost: readonly number[];
  /** Partitions offered in this step to the node that should own them. */
  readonly offered: readonly PartitionOffer[];
  /** Partitions this node should own that another still holds: apply them, to catch up before they are offered. */
  readonly follow: readonly number[];
  /** Partitions this node applies as a hot standby. */
  readonly standby: readonly number[];
  /** Partitions whose reads or writes failed (NATS unreachable, say): tried again next step. */
  readonly failed: readonly PartitionFailure[];
  /** The records of the partitions this node does not hold, as read in this step: who owns them. */
  readonly seen: readonly LeaseView[];
}

/**
 * One node's balancing over its {@link PartitionLeases}.
 *
 * @example
 * ```ts
 * const balancer = new PartitionBalancer(leases, { partitions: 6, standbys: 1 });
 * setInterval(async () => {
 *   const report = await balancer.step({ live: liveNodes(), caughtUp: (p, node) => appliedOf(node)[p]! >= applied[p]! });
 *   for (const p of report.lost) stopServing(p);
 * }, leases.renewEveryMs);
 * ```
 */
export class PartitionBalancer {
  readonly #partitions: number;
  readonly #standbys: number;
  #cached: { readonly key: string; readonly assignment: PartitionAssignment } | undefined;

  constructor(private readonly leases: PartitionLeases, options: PartitionBalancerOptions) {
    this.#partitions = options.partitions;
    this.#standbys = options.standbys ?? 0;
    if (!Number.isSafeInteger(this.#partitions) || this.#partitions < 1) throw new InvalidClusterOptionError('partitions', `A cluster has at least one partition, not ${this.#partitions}.`);
    if (!Number.isSafeInteger(this.#standbys) || this.#standbys < 0) throw new InvalidClusterOptionError('standbys', `Standbys per partition must be a whole number of at least 0, not ${this.#standbys}.`);
  }

  /** Who should own and stand by for each partition among `live` and (unless told not to) this node; recomputed only when the set changes. */
  assignment(live: readonly string[], withThisNode = true): PartitionAssignment {
    const nodes = [...new Set([...live, ...(withThisNode ? [this.leases.node] : [])])].sort();
    const key = nodes.join('\0');
    if (this.#cached?.key !== key) this.#cached = { key, assignment: assignPartitions(nodes, this.#partitions, this.#standbys) };
    return this.#cached.assignment;
  }

  /** One round: renew, take, offer. Never throws for a partition's failure; lists it in `failed`. */
  async step(input: BalanceInput): Promise<BalanceReport> {
    const assignment = this.assignment(input.live);
    const renewed = await this.leases.renew();
    const others = range(this.#partitions).filter((p) => this.leases.ownRecord(p) === undefined);
    const seen: LeaseView[] = [];
    const unable = input.unable ?? (() => false);
    const claims = await Promise.allSettled(others.map((p) => this.#claim(p, assignment.owners[p] === this.leases.node, seen, unable(p))));
    const offers = await this.#offer(assignment, input.caughtUp, unable, input.live);
    const owned = this.leases.held();
    const targets = targetsOf(assignment, this.leases.node);
    return {
      owned,
      taken: settledWith(others, claims, true),
      lost: renewed.lost,
      offered: offers.offered,
      follow: targets.owned.filter((p) => !owned.has(p)),
      standby: targets.standby.filter((p) => !owned.has(p)),
      failed: [...renewed.failed, ...settledFailures(others, claims), ...offers.failed],
      seen: seen.filter((view) => !owned.has(view.partition)).sort((a, b) => a.partition - b.partition),
    };
  }

  /**
   * Takes `partition` when this node should own it and may, or it is offered
   * to this node; else only when it is this process's own (a take whose
   * answer was lost: offered on next) or has gone without an owner for two
   * lease times. Never one this node is unable to serve.
   */
  async #claim(partition: number, assigned: boolean, seen: LeaseView[], unable: boolean): Promise<boolean> {
    const view = await this.leases.inspect(partition);
    seen.push(view);
    // Offered to this node: by the node it is assigned to, or by an owner unable to serve it.
    const may = view.takeable === 'offered' || (assigned ? view.takeable !== null : view.takeable === 'mine' || orphaned(view, this.leases.leaseMs));
    if (unable || !may) return false;
    return (await this.leases.take(partition, view)) !== undefined;
  }

  /**
   * Offers each held partition that should move to its node once caught up,
   * each this node is unable to serve to the node that would own it without
   * this one, and takes back offers that no longer hold.
   */
  async #offer(
    assignment: PartitionAssignment, caughtUp: BalanceInput['caughtUp'], unable: (partition: number) => boolean, live: readonly string[],
  ): Promise<{ offered: PartitionOffer[]; failed: PartitionFailure[] }> {
    const offered: PartitionOffer[] = [];
    const failed: PartitionFailure[] = [];
    const others = live.filter((node) => node !== this.leases.node);
    await Promise.all(range(this.#partitions).map(async (partition) => {
      const record = this.leases.ownRecord(partition);
      const target = assignment.owners[partition]!;
      if (record === undefined) return;
      const moveTo = unable(partition) && others.length > 0
        ? this.assignment(others, false).owners[partition]!
        : target !== this.leases.node && caughtUp(partition, target) ? target : null;
      if (record.moveTo === moveTo) return;
      try {
        if (await this.leases.handOver(partition, moveTo) && moveTo !== null) offered.push({ partition, to: moveTo });
      } catch (error) {
        failed.push({ partition, error });
      }
    }));
    return { offered, failed };
  }
}

/** Whether any node may take a partition that is not its own: free or expired, and so for two lease times. */
function orphaned(view: LeaseView, leaseMs: number): boolean {
  return (view.takeable === 'free' || view.takeable === 'expired') && view.unchangedMs >= 2 * leaseMs;
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}
