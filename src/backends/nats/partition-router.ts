/**
 * Which partition an event goes to. An event with an idempotency key goes to
 * `fnv1a32(eventType, key) mod P`, so every copy of a key lands in the same
 * partition whichever node received it, and one partition's consumers alone
 * decide which copy counts. Events without a key are spread: each append
 * goes whole to the next partition in turn (per router, so per node), which
 * keeps one message per append and the partitions about even. An event type
 * named in `cluster.partitionBy` is placed by that field's value instead, so
 * that a view grouped by it has each series in one partition.
 *
 * @module
 */
import { valueAt, type EventColumns, type EventTypeSchema } from '../../definitions/index.ts';
import type { QueryPlan } from '../../serving/index.ts';
import { fnv1a32Of } from './fnv1a.ts';

/**
 * The partition of a keyed event.
 *
 * @example
 * ```ts
 * keyPartition('order', 'o-17', 3); // the same on every node, in every version
 * ```
 */
export function keyPartition(eventType: string, key: string, partitions: number): number {
  return fnv1a32Of(eventType, key) % partitions;
}

export class PartitionRouter {
  #next: number;

  constructor(readonly partitions: number, start = 0) {
    this.#next = start % partitions;
  }

  /** Per event, its partition: by key when there are keys, else all to the next partition in turn. */
  route(eventType: string, count: number, keys: readonly (string | null)[] | undefined): Uint32Array {
    const partitions = new Uint32Array(count);
    if (keys === undefined) {
      partitions.fill(this.#next);
      this.#next = (this.#next + 1) % this.partitions;
      return partitions;
    }
    for (let i = 0; i < count; i++) partitions[i] = keyPartition(eventType, keys[i] ?? '', this.partitions);
    return partitions;
  }
}

/**
 * What places each event in a partition: the value of the event type's
 * partition field (`cluster.partitionBy`), else its idempotency key; none
 * for neither (the events go to the next partition in turn).
 *
 * @example
 * ```ts
 * router.route('usage', events.count, routingKeys(schema, events, 'customer'));
 * ```
 */
export function routingKeys(schema: EventTypeSchema, events: EventColumns, partitionField: string | undefined): (string | null)[] | undefined {
  const field = partitionField === undefined ? schema.idempotencyKey : schema.fields.find((f) => f.name === partitionField);
  if (field === undefined) return undefined;
  const column = events.columns[schema.fields.indexOf(field)]!;
  if (partitionField === undefined) return column as (string | null)[];
  return Array.from({ length: events.count }, (_, i) => {
    const value = valueAt(column, i);
    return value === null ? null : String(value);
  });
}

/**
 * The partitions that can hold a query's rows, where its event type is
 * placed by a field (`cluster.partitionBy`) and `where` pins that field to
 * some values: every event of a value is in that value's partition, so the
 * others hold none of the rows. Undefined when every partition may.
 *
 * @example
 * ```ts
 * partitionsOfQuery(plan, { usage: 'customer' }, 8); // [5] for where: { customer: 'c7' }
 * ```
 */
export function partitionsOfQuery(plan: Pick<QueryPlan, 'view' | 'where'>, partitionBy: Readonly<Record<string, string>>, partitions: number): ReadonlySet<number> | undefined {
  const eventType = plan.view.eventType.name;
  const field = partitionBy[eventType];
  const pinned = plan.where.find((w) => plan.view.dimensions[w.index]!.name === field);
  if (field === undefined || pinned === undefined) return undefined;
  // As routingKeys reads the field: the normalized value as text.
  return new Set([...pinned.values].map((v) => keyPartition(eventType, v === null ? '' : String(v), partitions)));
}
