/**
 * How a cluster places events in partitions, agreed by every node: by each
 * event type's idempotency key, or by the field `cluster.partitionBy` names.
 * Duplicates are dropped per partition, so two nodes placing the copies of
 * one event by different rules would count it twice; the rule is therefore
 * recorded once, under the `routing` key of the control bucket, and a node
 * whose config says otherwise is refused at open. A cluster that holds
 * events from before the record existed placed them by key, and keeps doing
 * so.
 *
 * @module
 */
import type { ClusterSettings } from '../../definitions/index.ts';
import { PartitionRoutingMismatchError } from './errors.ts';
import type { KvRecordShape } from './kv-revisioned-store.ts';
import { routingRecordCheck, type RoutingRecord } from './record-schemas.ts';
import type { RevisionedStore } from './revisioned-store.ts';

export const ROUTING_KEY = 'routing';

export const ROUTING_RECORD_SHAPE: KvRecordShape<RoutingRecord> = {
  check: routingRecordCheck,
  what: 'routing record',
  advice: 'nodes cannot check how the cluster places events, so they refuse to start; restore it (nats kv put) with the partitionBy the cluster was created with.',
};

/** One rule as text, the same whatever the order of its entries. */
const ruleText = (partitionBy: Readonly<Record<string, string>>): string =>
  JSON.stringify(Object.entries(partitionBy).sort(([a], [b]) => a.localeCompare(b)));

/**
 * Records the config's rule if the cluster has none yet (the rule of events
 * already in the log, placed by key, if `logHoldsEvents`), and refuses a
 * config whose rule differs from the recorded one.
 *
 * @example
 * ```ts
 * await agreeOnRouting(store, catalog.cluster, () => log.ends().then((ends) => ends.some((seq) => seq > 0)));
 * ```
 * @throws {PartitionRoutingMismatchError} naming both rules.
 */
export async function agreeOnRouting(store: RevisionedStore<RoutingRecord>, cluster: ClusterSettings, logHoldsEvents: () => Promise<boolean>): Promise<void> {
  let recorded = (await store.get(ROUTING_KEY))?.value;
  if (recorded === undefined) {
    const rule: RoutingRecord = { partitionBy: (await logHoldsEvents()) ? {} : cluster.partitionBy };
    // Another node may record first: its record is the one to agree with.
    recorded = (await store.create(ROUTING_KEY, rule)) === undefined ? (await store.get(ROUTING_KEY))?.value ?? rule : rule;
  }
  if (ruleText(recorded.partitionBy) !== ruleText(cluster.partitionBy)) throw new PartitionRoutingMismatchError(cluster.name, recorded.partitionBy, cluster.partitionBy);
}
