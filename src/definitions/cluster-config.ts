/**
 * The config's optional `cluster` section: how a cluster of nodes on NATS
 * JetStream lays out its log. It lives in the config, not in flags, because
 * every node must agree on it: routing is `hash mod partitions`, and the name
 * prefixes every stream, bucket and subject the cluster owns. The embedded
 * engine ignores it; `tandem serve --nats` needs it.
 *
 * @module
 */
import { invalid, onlyKeys, record } from './config-checks.ts';

/**
 * The `cluster` section of a config.
 *
 * @example
 * ```ts
 * const cluster: ClusterConfigJson = { name: 'shop', partitions: 4, replicas: 3, standbys: 1 };
 * ```
 */
export interface ClusterConfigJson {
  /** Prefixes every stream, bucket and subject: letters, digits, `_` and `-`. */
  readonly name: string;
  /** Log partitions, one JetStream stream each; fixed for the life of the cluster. */
  readonly partitions: number;
  /** Replicas of each partition's stream and of the shared object store. Default 3. */
  readonly replicas?: number;
  /**
   * Nodes that hold each partition's speed layer besides its owner, as hot
   * standbys: the node that takes a partition over when its owner dies
   * already holds it, so queries need not wait for it to be read again.
   * Each costs a speed layer's memory and applying per partition. Default 0.
   */
  readonly standbys?: number;
  /**
   * Per event type, the field whose value places an event in a partition,
   * instead of its idempotency key (or, without one, the next partition in
   * turn): every event of one customer, say, then lands in one partition, so
   * a view grouped by that field has each series in one partition only, and
   * a node holds only its partitions' series. Every copy of an event must
   * carry the same value (the idempotency key's duplicates are dropped per
   * partition). Fixed for the life of the cluster, like `partitions`.
   */
  readonly partitionBy?: Readonly<Record<string, string>>;
}

export type ClusterSettings = Required<ClusterConfigJson>;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** JetStream replicates a stream on at most 5 servers. */
const MAX_REPLICAS = 5;
/** More standbys than this cost more memory than a failover is worth. */
const MAX_STANDBYS = 4;
/** One stream, one consumer and one speed layer per partition on every node: more than this costs more than it spreads. */
const MAX_PARTITIONS = 256;

function integerIn(path: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) invalid(path, `${path} must be a whole number from ${min} to ${max}.`);
  return value;
}

/** Compiles the `cluster` section, or undefined when the config has none. */
export function compileClusterConfig(input: unknown): ClusterSettings | undefined {
  if (input === undefined) return undefined;
  const obj = record('cluster', input);
  onlyKeys('cluster', obj, ['name', 'partitions', 'replicas', 'standbys', 'partitionBy']);
  if (typeof obj.name !== 'string' || !NAME.test(obj.name)) {
    invalid('cluster.name', 'cluster.name must be 1 to 64 letters, digits, _ or -, starting with a letter or digit, since it prefixes stream names and subjects.');
  }
  const partitions = integerIn('cluster.partitions', obj.partitions, 1, MAX_PARTITIONS);
  const replicas = obj.replicas === undefined ? 3 : integerIn('cluster.replicas', obj.replicas, 1, MAX_REPLICAS);
  const standbys = obj.standbys === undefined ? 0 : integerIn('cluster.standbys', obj.standbys, 0, MAX_STANDBYS);
  const partitionBy = obj.partitionBy === undefined ? {} : record('cluster.partitionBy', obj.partitionBy);
  for (const [type, field] of Object.entries(partitionBy)) {
    if (typeof field !== 'string') invalid(`cluster.partitionBy.${type}`, `cluster.partitionBy.${type} must name a field of event type ${type}.`);
  }
  return { name: obj.name, partitions, replicas, standbys, partitionBy: Object.freeze({ ...partitionBy }) as Readonly<Record<string, string>> };
}

/**
 * Checks that `cluster.partitionBy` names, for event types of the config,
 * fields every event of the type carries.
 */
export function checkPartitionBy(
  cluster: ClusterSettings,
  /** The compiled event types (only their fields are read: this module stays below the schema's). */
  eventTypes: ReadonlyMap<string, { readonly fields: readonly { readonly name: string; readonly optional: boolean }[] }>,
): void {
  for (const [type, name] of Object.entries(cluster.partitionBy)) {
    const path = `cluster.partitionBy.${type}`;
    const schema = eventTypes.get(type);
    if (schema === undefined) invalid(path, `${path} names event type ${type}, which the config does not define.`);
    const field = schema.fields.find((f) => f.name === name);
    if (field === undefined) invalid(path, `${path} names field ${name}, which event type ${type} does not have.`);
    if (field.optional) invalid(path, `${path} names field ${name}, which is optional: an event's partition is read from a field every event carries.`);
  }
}
