/**
 * A partition's lease record: who owns the partition, under which epoch, to
 * whom its owner is handing it, and the partition's latest published batch
 * version. One record per partition, under {@link partitionLeaseKey}, in the
 * bucket {@link partitionLeaseBucket}. The lease protocol writes it
 * (`partition-leases.ts`) and `record-schemas.ts` checks it as read back, so
 * its shape lives apart from both, as a heartbeat's does.
 *
 * @module
 */
import type { Revisioned } from './revisioned-store.ts';

/** A node, and the process running under its name: a restart under the same name is another owner. */
export interface LeaseOwner {
  readonly node: string;
  readonly instance: string;
}

/** A partition's batch version, as its owner published it under the lease. */
export interface PartitionVersion {
  readonly version: number;
  /** The partition's stream sequence the version covers below. */
  readonly cutoff: number;
  /** The epoch of the lease it was published under. */
  readonly epoch: number;
}

/** What a partition's lease record holds. */
export interface PartitionLease {
  /** Null once released: the partition is free to take at once. */
  readonly owner: LeaseOwner | null;
  /**
   * The revision of the write that took the lease. Null in that write itself
   * (its revision is not known until it lands); every later write of the
   * same owner carries it, so renewals move the revision but not the epoch.
   */
  readonly epoch: number | null;
  /** The node the owner hands the partition to, once that node caught up; null when none. */
  readonly moveTo: string | null;
  /** The latest version published under any lease of the partition; kept through every move. */
  readonly published: PartitionVersion | null;
}

/**
 * The key of partition `partition`'s lease record.
 *
 * @example
 * ```ts
 * partitionLeaseKey(3); // 'partition.3'
 * ```
 */
export function partitionLeaseKey(partition: number): string {
  return `partition.${partition}`;
}

/**
 * The KV bucket of cluster `clusterName`'s partition leases.
 *
 * @example
 * ```ts
 * partitionLeaseBucket('shop'); // 'shop_partitions'
 * ```
 */
export function partitionLeaseBucket(clusterName: string): string {
  return `${clusterName}_partitions`;
}

/**
 * The epoch of the lease a record shows: the revision of the write that took
 * it. Revisions of a bucket only go up, so a later take always has a higher
 * epoch, and no two takes share one.
 *
 * @example
 * ```ts
 * epochOf({ value: { owner, epoch: null, moveTo: null, published: null }, revision: 41 }); // 41: this write took it
 * epochOf({ value: { owner, epoch: 41, moveTo: null, published: null }, revision: 57 }); // 41: a renewal
 * ```
 */
export function epochOf(entry: Revisioned<PartitionLease>): number {
  return entry.value.epoch ?? entry.revision;
}

/**
 * Whether `a` and `b` name the same process: a node restarted under its name is another owner.
 *
 * @example
 * ```ts
 * sameOwner({ node: 'n1', instance: 'a' }, { node: 'n1', instance: 'b' }); // false
 * ```
 */
export function sameOwner(a: LeaseOwner | null, b: LeaseOwner): boolean {
  return a !== null && a.node === b.node && a.instance === b.instance;
}
