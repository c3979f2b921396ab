/**
 * Partition ownership: one lease per log partition, each a record in a KV
 * bucket (`<cluster>_partitions`, key `partition.<p>`), written only by
 * compare-and-set on its revision. A node takes a free or expired partition
 * (create, or compare-and-set at the revision it watched), renews what it
 * holds every third of a lease time, hands a partition over, releases all on
 * close, and publishes a partition's batch version under the lease. Which
 * partitions a node should hold is `partition-balancer.ts`'s business, from
 * `partition-assignment.ts` (rendezvous hashing with bounded loads: every
 * node computes the same owners from the live nodes alone, so no
 * coordinator decides; each node gets ⌊P/N⌋ or ⌈P/N⌉; a join or a leave
 * moves about 1.2 times the minimum); this module keeps the protocol.
 *
 * **The revision is the epoch.** The epoch of a lease is the revision of the
 * write that took it; every later write of the owner carries it along. A
 * bucket's revisions only go up, so each take gets an epoch above every
 * earlier one of the partition and no two takes share one: "at most one owner
 * per epoch" needs no counter of its own, and a number a publish carries
 * tells at once whether the lease moved since. The fence is a compare-and-set
 * on the lease record itself ({@link PartitionLeases.publish}), as the batch
 * control record's publish is: the partition's published version lives in
 * the record, so "still the owner" and "publish" are one atomic write, and a
 * frozen owner that wakes up and publishes with its old epoch finds the
 * record moved and is refused ({@link PartitionFencedError}).
 * {@link PartitionLeases.fence} is the same test as a read, for the steps
 * before a publish: it stops a fenced node early, but only the write fences.
 *
 * **Expiry is watched, not compared.** NATS 2.9 has no per-key TTL, so an
 * owner proves it is alive by writing its record every third of a lease
 * time (default 10 s). Another node takes a lease once it has seen the
 * record's revision unchanged for a lease time on its own clock
 * (`lease-watch.ts`), and takes it by a compare-and-set at that revision, so
 * a renewal that lands first wins. The owner counts its lease from when it
 * *sent* its last successful write, and the others from when they first
 * *read* it, which is later: with clocks that run at the same rate, the owner
 * knows its lease is over ({@link PartitionLeases.held} drops it) before any
 * other node can take it, whatever the clocks read. The only overlap is a
 * handover: the old owner serves until it sees the record moved, which is
 * harmless, since the new owner had caught up before the owner offered it.
 *
 * **A move.** The owner marks the record `moveTo: <node>` once that node has
 * applied the partition as far as it (heartbeats say so); that node takes it
 * by compare-and-set at once, without waiting for an expiry, and carries the
 * published version over. The old owner stops serving at its next renewal
 * (within a third of a lease time). A move costs one partition's catch-up on
 * the new node (done before the lease moves, while the old owner still
 * serves) and two KV writes (the offer and the take).
 *
 * **A death or a freeze** leaves the partition without an owner until one
 * lease time after the owner's last renewal, plus up to two of the others'
 * steps (they read that renewal up to a step after it landed, and act on a
 * step): 10 to 16.7 s after it with the default lease (the tests' schedule
 * takes 4/3 of a lease). The new owner then catches up, unless it was the
 * partition's hot standby, which the assignment makes it whenever a standby
 * is configured and one node is lost at a time.
 *
 * **One replica.** On nats-server 2.9.10 a replicated bucket's
 * compare-and-set let two racing writers both win (docs/cluster.md,
 * `bench/cluster/kv-cas-race.ts`), and a lease that two nodes can win
 * fences nothing, so the bucket has one replica, as the batch control
 * bucket has: while its server is down no lease is taken or renewed, every
 * owner's lease runs out on its own clock ({@link PartitionLeases.held}
 * drops it) and publishes pause, but no other node can take it either, so
 * a node keeps applying and answering for the partitions it last held
 * ({@link PartitionLeases.ownRecord}): the log's streams are replicated and
 * still serve them. The record holds the owner's process (`instance`) beside its
 * name, so a restarted node never mistakes its predecessor's lease for its
 * own.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { InvalidClusterOptionError, InvalidClusterRecordError, PartitionFencedError, PartitionNotOwnedError, PartitionVersionStaleError } from './errors.ts';
import type { KvRecordShape } from './kv-revisioned-store.ts';
import { LeaseWatch } from './lease-watch.ts';
import { epochOf, partitionLeaseKey, sameOwner, type LeaseOwner, type PartitionLease } from './partition-lease-record.ts';
import { partitionLeaseCheck } from './record-schemas.ts';
import type { Revisioned, RevisionedStore } from './revisioned-store.ts';
import { settledFailures, settledWith, type PartitionFailure } from './settled-partitions.ts';

/** How long a lease lasts without a renewal, by default: a dead or frozen owner loses its partitions within about this. */
export const DEFAULT_PARTITION_LEASE_MS = 10_000;

/** How a lease record read from NATS is checked, for `KvRevisionedStore.open`. */
export const PARTITION_LEASE_SHAPE: KvRecordShape<PartitionLease> = {
  check: partitionLeaseCheck,
  what: 'partition lease record',
  advice: 'the partition counts as without an owner once the record has stayed so for a lease time, and then the node it is assigned to writes a new lease over it.',
};

export interface PartitionLeasesOptions {
  /** This node's name, unique among the live nodes. */
  readonly node: string;
  /** This process, so that a restart under the same name is another owner. Default a random UUID. */
  readonly instance?: string;
  /** How long a lease lasts without a renewal. Default {@link DEFAULT_PARTITION_LEASE_MS}. */
  readonly leaseMs?: number;
  /** A clock in ms that only goes forward (the tests drive it). Default `performance.now`. */
  readonly now?: () => number;
}

/** Why this node may take a partition now: no owner, offered to it, its owner silent for a lease time, or its own write whose answer was lost. */
export type TakeReason = 'free' | 'offered' | 'expired' | 'mine';

/** What this node saw of a partition's lease when it looked. */
export interface LeaseView {
  readonly partition: number;
  /** The record read; undefined when the key has none or holds no valid record. */
  readonly entry: Revisioned<PartitionLease> | undefined;
  /** The revision a take writes at: undefined when the key has none. */
  readonly revision: number | undefined;
  /** How long this node has seen the record unchanged. */
  readonly unchangedMs: number;
  /** Why this node may take it now; null when it may not. */
  readonly takeable: TakeReason | null;
}

export interface RenewOutcome {
  /** Partitions another node took, or whose record no longer names this process: stop serving them. */
  readonly lost: readonly number[];
  /** Partitions not renewed this time; still held until their lease runs out on this node's clock. */
  readonly failed: readonly PartitionFailure[];
}

/** A batch version to publish under a partition's lease. */
export interface VersionToPublish {
  readonly version: number;
  readonly cutoff: number;
}

interface Held {
  readonly epoch: number;
  /** The record as this node last wrote it. */
  readonly entry: Revisioned<PartitionLease>;
  /** When the write that confirmed the lease was sent: the lease runs a lease time from there. */
  readonly confirmedAt: number;
}

interface RecordRead {
  readonly entry: Revisioned<PartitionLease> | undefined;
  readonly revision: number | undefined;
  readonly invalid?: InvalidClusterRecordError;
}

/**
 * One node's side of the partition leases.
 *
 * @example
 * ```ts
 * const store = await KvRevisionedStore.open(nc, { bucket: partitionLeaseBucket('shop') }, PARTITION_LEASE_SHAPE);
 * const leases = new PartitionLeases(store, { node: 'n1' });
 * const epoch = await leases.take(3); // undefined when another node holds it
 * if (epoch !== undefined) await leases.publish(3, epoch, { version: 1, cutoff: 1_200 });
 * ```
 */
export class PartitionLeases {
  readonly #owner: LeaseOwner;
  readonly #leaseMs: number;
  readonly #now: () => number;
  readonly #watch = new LeaseWatch();
  readonly #held = new Map<number, Held>();
  /** Per partition, this node's reads-then-writes one at a time, so that a renewal never races this node's own publish or handover. */
  readonly #turns = new Map<number, Promise<unknown>>();

  constructor(private readonly store: RevisionedStore<PartitionLease>, options: PartitionLeasesOptions) {
    this.#leaseMs = options.leaseMs ?? DEFAULT_PARTITION_LEASE_MS;
    if (!Number.isFinite(this.#leaseMs) || this.#leaseMs <= 0) throw new InvalidClusterOptionError('leaseMs', `A partition lease must last a positive number of ms, not ${this.#leaseMs}.`);
    this.#owner = { node: options.node, instance: options.instance ?? randomUUID() };
    this.#now = options.now ?? (() => performance.now());
  }

  get node(): string {
    return this.#owner.node;
  }

  get leaseMs(): number {
    return this.#leaseMs;
  }

  /** How often to renew: a third of a lease time, so two renewals may fail before the lease runs out. */
  get renewEveryMs(): number {
    return this.#leaseMs / 3;
  }

  /**
   * The partitions this node holds, with their epochs, as of now on its own
   * clock: a lease not renewed for a lease time is left out (another node
   * may take it any moment), though a renewal may still win it back.
   *
   * @example
   * ```ts
   * for (const [partition, epoch] of leases.held()) await leases.publish(partition, epoch, next(partition));
   * ```
   */
  held(): ReadonlyMap<number, number> {
    const now = this.#now();
    return new Map([...this.#held].filter(([, held]) => now - held.confirmedAt < this.#leaseMs).map(([p, held]) => [p, held.epoch]));
  }

  /** The epoch this node holds `partition` under now, or undefined (see {@link held}). */
  epochOf(partition: number): number | undefined {
    return this.held().get(partition);
  }

  /** The record as this node last wrote it, for a partition in its table: held, or run out on its clock but not yet found lost (a renewal may still win it back). */
  ownRecord(partition: number): PartitionLease | undefined {
    return this.#held.get(partition)?.entry.value;
  }

  /**
   * Reads `partition`'s record and notes its revision in the watch: whether
   * this node may take it, and why.
   *
   * @example
   * ```ts
   * const view = await leases.inspect(3);
   * if (view.takeable === 'offered') await leases.take(3, view);
   * ```
   */
  async inspect(partition: number): Promise<LeaseView> {
    const read = await this.#read(partition);
    const unchangedMs = this.#watch.observe(partition, read.revision ?? 0, this.#now());
    return { partition, entry: read.entry, revision: read.revision, unchangedMs, takeable: this.#takeable(read, unchangedMs) };
  }

  #takeable(read: RecordRead, unchangedMs: number): TakeReason | null {
    const lease = read.entry?.value;
    if (read.revision === undefined || lease?.owner === null) return 'free';
    if (lease !== undefined && sameOwner(lease.owner, this.#owner)) return 'mine';
    if (lease?.moveTo === this.#owner.node) return 'offered';
    return unchangedMs >= this.#leaseMs ? 'expired' : null;
  }

  /**
   * Takes `partition` if this node may (see {@link TakeReason}), by a
   * compare-and-set at the revision it saw (`view`, from {@link inspect}; read
   * now when not given). Resolves with the epoch it holds the partition
   * under, or undefined when it may not take it or another node was first.
   */
  take(partition: number, view?: LeaseView): Promise<number | undefined> {
    return this.#inTurn(partition, async () => {
      const held = this.epochOf(partition);
      if (held !== undefined) return held;
      const seen = view?.partition === partition ? view : await this.inspect(partition);
      if (seen.takeable === null) return undefined;
      const sentAt = this.#now();
      const next = seen.takeable === 'mine' && seen.entry !== undefined
        ? { ...seen.entry.value, epoch: epochOf(seen.entry) }
        : { owner: this.#owner, epoch: null, moveTo: null, published: seen.entry?.value.published ?? null };
      const key = partitionLeaseKey(partition);
      const revision = seen.revision === undefined ? await this.store.create(key, next) : await this.store.update(key, next, seen.revision);
      if (revision === undefined) return undefined;
      return this.#confirm(partition, { value: next, revision }, sentAt).epoch;
    });
  }

  /**
   * Renews every lease this node holds, each by a compare-and-set at the
   * revision it last wrote.
   *
   * @example
   * ```ts
   * const { lost } = await leases.renew();
   * for (const partition of lost) stopServing(partition);
   * ```
   */
  async renew(): Promise<RenewOutcome> {
    const partitions = [...this.#held.keys()];
    const results = await Promise.allSettled(partitions.map((p) => this.#inTurn(p, () => this.#ownerWrite(p, (lease) => lease))));
    return {
      lost: settledWith(partitions, results, false),
      failed: settledFailures(partitions, results),
    };
  }

  /**
   * Marks `partition` as moving to `to` (null: moving nowhere, which takes
   * back an offer): `to` may then take it at once. Call it once `to` has
   * caught up; this node serves the partition until its next renewal finds
   * the lease gone. Resolves with false when the lease was lost meanwhile;
   * throws {@link PartitionNotOwnedError} when this node does not hold it.
   *
   * @example
   * ```ts
   * if (heartbeatOf('n2').applied[3]! >= myApplied[3]!) await leases.handOver(3, 'n2');
   * ```
   */
  handOver(partition: number, to: string | null): Promise<boolean> {
    return this.#inTurn(partition, async () => {
      if (!this.#held.has(partition)) throw new PartitionNotOwnedError(this.#owner.node, partition);
      const moveTo = to === this.#owner.node ? null : to;
      return this.#ownerWrite(partition, (lease) => ({ ...lease, moveTo }));
    });
  }

  /**
   * Lets every lease go (on close), so that their partitions are free at
   * once instead of after a lease time. A release that fails leaves the lease
   * to run out; resolves with the partitions released.
   *
   * @example
   * ```ts
   * await leases.release(); // on close, after the node stopped publishing
   * ```
   */
  async release(): Promise<{ readonly released: readonly number[]; readonly failed: readonly PartitionFailure[] }> {
    const partitions = [...this.#held.keys()];
    const results = await Promise.allSettled(partitions.map((p) => this.#inTurn(p, () => this.#releaseOne(p))));
    return { released: settledWith(partitions, results, true), failed: settledFailures(partitions, results) };
  }

  async #releaseOne(partition: number): Promise<boolean> {
    const held = this.#held.get(partition);
    this.#held.delete(partition);
    if (held === undefined) return false;
    const free: PartitionLease = { owner: null, epoch: null, moveTo: null, published: held.entry.value.published };
    return (await this.store.update(partitionLeaseKey(partition), free, held.entry.revision)) !== undefined;
  }

  /**
   * Throws {@link PartitionFencedError} unless the record shows this process
   * holding `partition` under `epoch` now. A check between the steps of work
   * that ends in a publish, so that a fenced node stops early; the publish
   * itself is fenced by {@link publish}'s compare-and-set, not by this.
   *
   * @example
   * ```ts
   * await leases.fence(3, epoch); // before computing partition 3's batch delta
   * ```
   */
  async fence(partition: number, epoch: number): Promise<void> {
    this.#ensureEpoch(partition, epoch, await this.#read(partition));
  }

  /**
   * Publishes `partition`'s batch version under the lease of `epoch`: a
   * compare-and-set on the lease record, refused with
   * {@link PartitionFencedError} unless it still shows this process holding
   * the partition under `epoch` when the write lands, and with
   * {@link PartitionVersionStaleError} unless the version is newer than the
   * record's.
   *
   * @example
   * ```ts
   * await leases.publish(3, epoch, { version: 8, cutoff: 1_200 });
   * ```
   */
  publish(partition: number, epoch: number, version: VersionToPublish): Promise<void> {
    return this.#inTurn(partition, async () => {
      const read = await this.#read(partition);
      const entry = this.#ensureEpoch(partition, epoch, read);
      const published = entry.value.published?.version ?? 0;
      if (version.version <= published) throw new PartitionVersionStaleError(partition, version.version, published);
      const sentAt = this.#now();
      const next: PartitionLease = { ...entry.value, epoch, published: { version: version.version, cutoff: version.cutoff, epoch } };
      const revision = await this.store.update(partitionLeaseKey(partition), next, entry.revision);
      if (revision === undefined) {
        this.#held.delete(partition);
        throw new PartitionFencedError(partition, epoch, 'another node wrote its lease record while the publish was on its way');
      }
      this.#confirm(partition, { value: next, revision }, sentAt);
    });
  }

  /** The record when it shows this process holding `partition` under `epoch`; else throws {@link PartitionFencedError}, and forgets the lease. */
  #ensureEpoch(partition: number, epoch: number, read: RecordRead): Revisioned<PartitionLease> {
    const entry = read.entry;
    if (entry !== undefined && sameOwner(entry.value.owner, this.#owner) && epochOf(entry) === epoch) return entry;
    if (this.#held.get(partition)?.epoch === epoch) this.#held.delete(partition);
    throw new PartitionFencedError(partition, epoch, fenceReason(read), { cause: read.invalid });
  }

  /**
   * A write of the owner (a renewal, a handover): a compare-and-set at the
   * revision this node last wrote, keeping the epoch. When the record moved,
   * it is read again: still this process's lease under the same epoch means
   * an earlier write landed though its answer was lost, and the write is made
   * again on top of it; anything else is a lost lease. Resolves with whether
   * the lease is still held.
   */
  async #ownerWrite(partition: number, change: (lease: PartitionLease) => PartitionLease): Promise<boolean> {
    const held = this.#held.get(partition);
    if (held === undefined) return false;
    const key = partitionLeaseKey(partition);
    const sentAt = this.#now();
    const next: PartitionLease = { ...change(held.entry.value), epoch: held.epoch };
    let revision = await this.store.update(key, next, held.entry.revision);
    if (revision === undefined) {
      const again = await this.#read(partition);
      const mine = again.entry !== undefined && sameOwner(again.entry.value.owner, this.#owner) && epochOf(again.entry) === held.epoch;
      revision = mine ? await this.store.update(key, next, again.revision!) : undefined;
    }
    if (revision === undefined) {
      this.#held.delete(partition);
      return false;
    }
    this.#confirm(partition, { value: next, revision }, sentAt);
    return true;
  }

  #confirm(partition: number, entry: Revisioned<PartitionLease>, sentAt: number): Held {
    const held = { epoch: epochOf(entry), entry, confirmedAt: sentAt };
    this.#held.set(partition, held);
    return held;
  }

  /** The record of `partition`; one that is not valid is read as none, at the revision it has, so it can be written over. */
  async #read(partition: number): Promise<RecordRead> {
    const key = partitionLeaseKey(partition);
    try {
      const entry = await this.store.get(key);
      return { entry, revision: entry?.revision };
    } catch (error) {
      if (!(error instanceof InvalidClusterRecordError)) throw error;
      return { entry: undefined, revision: await this.store.revision(key), invalid: error };
    }
  }

  #inTurn<T>(partition: number, task: () => Promise<T>): Promise<T> {
    const run = (this.#turns.get(partition) ?? Promise.resolve()).then(task, task);
    this.#turns.set(partition, run.catch(() => undefined));
    return run;
  }
}

/** What a fenced publish found instead of its lease, in words. */
function fenceReason(read: RecordRead): string {
  const entry = read.entry;
  if (read.invalid !== undefined) return 'its lease record is not valid';
  if (entry === undefined) return 'its lease has no record';
  if (entry.value.owner === null) return 'its lease was released';
  return `node ${entry.value.owner.node} holds it under epoch ${epochOf(entry)}`;
}
