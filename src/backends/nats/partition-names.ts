/**
 * The names a cluster gives its partitions' streams and subjects. The cluster
 * name prefixes every one of them, so two clusters can share a NATS system;
 * it may hold only letters, digits, `_` and `-` (a stream name may not hold
 * `.`, and in a subject `.`, `*` and `>` mean something).
 *
 * @module
 */
import { InvalidClusterOptionError } from './errors.ts';

const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Throws {@link InvalidClusterOptionError} unless `name` can prefix stream names and subjects. */
export function checkClusterName(name: string): void {
  if (!CLUSTER_NAME.test(name)) {
    throw new InvalidClusterOptionError('clusterName', `The cluster name '${name}' must be 1 to 64 letters, digits, '_' or '-', starting with a letter or digit, since it prefixes stream names and subjects.`);
  }
}

/**
 * The subject node `node` of cluster `cluster` answers `channel`'s requests
 * on: the node's name in hex, as the node registry's keys, since a subject
 * token may hold neither `.`, `*`, `>` nor white space, which a node name may.
 *
 * @example
 * ```ts
 * nodeSubject('shop', 'share', 'n1');   // 'shop.share.6e31'
 * ```
 */
export function nodeSubject(cluster: string, channel: string, node: string): string {
  checkClusterName(cluster);
  if (node === '') throw new InvalidClusterOptionError('node', 'A node name must not be empty, since other nodes address their requests to it.');
  return `${cluster}.${channel}.${Buffer.from(node, 'utf8').toString('hex')}`;
}

/** The stream holding partition `partition` of cluster `clusterName`'s log. */
export function partitionStream(clusterName: string, partition: number): string {
  return `${clusterName}_log_${partition}`;
}

/** The one subject that stream takes. */
export function partitionSubject(clusterName: string, partition: number): string {
  return `${clusterName}.log.${partition}`;
}

/**
 * The stream's description, which records the partition count: routing is
 * `hash mod P`, so a log opened with another count would send keys to the
 * wrong partitions, and opening it is refused instead.
 */
export function partitionDescription(clusterName: string, partition: number, partitions: number): string {
  return `Tandem event log of cluster ${clusterName}: partition ${partition} of ${partitions}`;
}

/** The partition whose stream `stream` is in cluster `clusterName`'s log, or undefined when it is no such stream. */
export function partitionOfStream(clusterName: string, stream: string): number | undefined {
  const prefix = `${clusterName}_log_`;
  if (!stream.startsWith(prefix) || !/^(0|[1-9]\d*)$/.test(stream.slice(prefix.length))) return undefined;
  return Number(stream.slice(prefix.length));
}

/** The partition count a stream's description records, or undefined when it records none. */
export function partitionCountOf(description: string | undefined): number | undefined {
  const match = /: partition \d+ of (\d+)$/.exec(description ?? '');
  return match === null ? undefined : Number(match[1]);
}
