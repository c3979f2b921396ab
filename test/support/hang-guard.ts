/**
 * A bound on one step of a cluster test (an open, an ingest, a query, a
 * cycle, a close): a step that hangs fails the test after {@link HANG_MS}
 * with what each node was doing, instead of eating the whole test's time
 * limit and saying nothing.
 */
import type { ClusterNode } from '../../src/backends/nats/index.ts';

/** How long one step may take before it counts as hung. */
export const HANG_MS = 120_000;

/** One line per node: its batch version, whether a cycle runs, each partition's end, applied position and cutoff, its owners and damage. */
export function nodeStates(nodes: readonly (ClusterNode | undefined)[]): string {
  return nodes.map((node) => {
    if (node === undefined) return 'closed';
    const s = node.status();
    const partitions = s.cluster?.partitions.map((p) => [p.end, p.applied, p.batchCutoff, p.owner]);
    return `${node.name}: v${s.batch?.version ?? '-'}, running ${s.batchRunning}, partitions ${JSON.stringify(partitions)}, damage ${s.cluster?.archiveDamaged?.message ?? 'none'}`;
  }).join('; ');
}

/** `promise`, or a failure naming `what` and each node's state once `ms` pass without it settling. */
export async function bounded<T>(promise: Promise<T>, what: string, nodes: readonly (ClusterNode | undefined)[], ms = HANG_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle in ${ms / 1000} s; the nodes: ${nodeStates(nodes)}`)), ms);
  });
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}
