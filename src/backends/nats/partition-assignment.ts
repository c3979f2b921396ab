/**
 * Which node should own each partition, and which should apply it as a hot
 * standby, given the live nodes: a pure function of the node names and the
 * partition count, so every node that sees the same nodes computes the same
 * answer and no node has to tell another what to take.
 *
 * Rendezvous hashing gives each (partition, node) pair a pseudo-random
 * weight, and a partition goes to the node of highest weight: a node that
 * joins wins only the partitions it now outweighs everyone on, a node that
 * leaves loses only its own, and nothing else moves. Alone it spreads the
 * partitions only about evenly (6 over 3 nodes can come out 4, 1, 1), and a
 * node's share is its memory and its batch work, so each node gets a
 * capacity of ⌊P/N⌋, the first P mod N nodes to reach it one more, and the
 * pairs are taken in descending weight, each partition going to the heaviest
 * node with room (rendezvous hashing with bounded loads). Every node ends
 * with ⌊P/N⌋ or ⌈P/N⌉ partitions; the price is that a join or a leave can
 * push a few partitions on along a chain of full nodes: a leave moved 1.17
 * times the partitions the leaver owned, over 300 random clusters of 2 to 9
 * nodes and 1 to 64 partitions (`partition-assignment.test.ts`), and at worst,
 * with as many partitions as nodes, 5 of 9 for 1. Variants tried (fixed
 * capacities by node, a rendezvous repaired by the cheapest moves) moved more.
 *
 * A partition's standby is the node that would own it if its owner left: its
 * owner in the assignment without that owner (a second standby: without both,
 * and so on). So when one node dies or freezes, every partition it owned goes
 * to the node that was already applying it, and the failover needs no
 * catch-up.
 *
 * @module
 */
import { InvalidClusterOptionError } from './errors.ts';
import { fnv1a32Of } from './fnv1a.ts';

/** Who should own and who should stand by for each partition. */
export interface PartitionAssignment {
  /** The nodes assigned over, sorted. */
  readonly nodes: readonly string[];
  /** Per partition, its owner. */
  readonly owners: readonly string[];
  /** Per partition, its standbys in the order they would take over. */
  readonly standbys: readonly (readonly string[])[];
}

/** What one node should hold of an assignment. */
export interface NodeTargets {
  readonly owned: readonly number[];
  readonly standby: readonly number[];
}

interface Pair {
  readonly partition: number;
  readonly node: string;
  readonly weight: number;
}

/** murmur3's 32-bit finalizer: FNV-1a alone barely stirs its high bits for names that differ in the last character. */
function mix32(hash: number): number {
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** The rendezvous weight of `node` for `partition`: stable across processes and versions, as routing is. */
export function rendezvousWeight(node: string, partition: number): number {
  return mix32(fnv1a32Of(node, String(partition)));
}

/** Every pair, heaviest first; ties (one in four billion) by name, so every node orders them alike. */
function rankedPairs(nodes: readonly string[], partitions: number): Pair[] {
  const pairs: Pair[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    for (const node of nodes) pairs.push({ partition, node, weight: rendezvousWeight(node, partition) });
  }
  return pairs.sort((a, b) => b.weight - a.weight || (a.node < b.node ? -1 : a.node > b.node ? 1 : a.partition - b.partition));
}

/** Owners under bounded loads: each partition to the heaviest node of `nodes` with room. */
function balancedOwners(pairs: readonly Pair[], nodes: ReadonlySet<string>, partitions: number): string[] {
  const floor = Math.floor(partitions / nodes.size);
  let roomForOneMore = partitions % nodes.size;
  const owners: string[] = new Array<string>(partitions);
  const counts = new Map<string, number>();
  for (const { partition, node } of pairs) {
    if (owners[partition] !== undefined || !nodes.has(node)) continue;
    const count = counts.get(node) ?? 0;
    if (count > floor || (count === floor && roomForOneMore === 0)) continue;
    if (count === floor) roomForOneMore--;
    counts.set(node, count + 1);
    owners[partition] = node;
  }
  return owners;
}

/** Per partition, the next `count` owners it would have as its owners leave one by one. */
function standbyChains(pairs: readonly Pair[], nodes: readonly string[], owners: readonly string[], count: number): string[][] {
  const memo = new Map<string, string[]>();
  const ownersWithout = (gone: readonly string[]): string[] => {
    const key = [...gone].sort().join('\0');
    let found = memo.get(key);
    if (found === undefined) {
      found = balancedOwners(pairs, new Set(nodes.filter((node) => !gone.includes(node))), owners.length);
      memo.set(key, found);
    }
    return found;
  };
  return owners.map((owner, partition) => {
    const chain = [owner];
    while (chain.length <= count) chain.push(ownersWithout(chain)[partition]!);
    return chain.slice(1);
  });
}

/**
 * The assignment of `partitions` partitions over `nodes` (at least one; order
 * and repeats do not matter), with up to `standbys` standbys per partition
 * (fewer when there are not that many other nodes).
 *
 * @example
 * ```ts
 * const { owners, standbys } = assignPartitions(['n1', 'n2', 'n3'], 6, 1);
 * owners.filter((node) => node === 'n1').length; // 2
 * standbys[0]![0] !== owners[0]; // true: the node that takes partition 0 if its owner goes
 * ```
 */
export function assignPartitions(nodes: readonly string[], partitions: number, standbys = 0): PartitionAssignment {
  const sorted = [...new Set(nodes)].sort();
  if (sorted.length === 0) throw new InvalidClusterOptionError('nodes', 'Partitions are assigned over at least one node, and none was given.');
  const pairs = rankedPairs(sorted, partitions);
  const owners = balancedOwners(pairs, new Set(sorted), partitions);
  const chains = standbyChains(pairs, sorted, owners, Math.min(standbys, sorted.length - 1));
  return { nodes: sorted, owners, standbys: chains };
}

/**
 * The partitions `node` should own, and those it should apply as a standby.
 *
 * @example
 * ```ts
 * targetsOf(assignPartitions(['n1', 'n2'], 4, 1), 'n1'); // { owned: [two partitions], standby: [the other two] }
 * ```
 */
export function targetsOf(assignment: PartitionAssignment, node: string): NodeTargets {
  const owned: number[] = [];
  const standby: number[] = [];
  assignment.owners.forEach((owner, partition) => {
    if (owner === node) owned.push(partition);
    else if (assignment.standbys[partition]!.includes(node)) standby.push(partition);
  });
  return { owned, standby };
}
