/**
 * One node's share of an answer, as states rather than results: the slots a
 * query reads from the tables this node holds (the partitions it owns),
 * merged by (series, bucket) into one table, and that table as JSON. The
 * node answering the query decodes every share it gathers and runs the same
 * plan over them as over tables of its own: the measures' monoids merge the
 * shares, so the answer is the one a node holding every partition gives.
 * This is the exchange scatter-gather queries stand on (issue #28).
 *
 * A share keeps the view's own buckets and every dimension, not the query's
 * groups: ordering, limits and roll-ups to coarser buckets need the whole
 * groups, which only the gathering node has. Slots outside the query's range
 * and series its filters exclude are left out, so a share is no bigger than
 * what the query reads.
 *
 * @module
 */
import type { EncodedState, Value, ViewSchema } from '../definitions/index.ts';
import { AggregateTable } from '../aggregates/index.ts';
import type { QueryBudget } from './query-budget.ts';
import type { QueryPlan } from './query-plan.ts';
import type { TableSpan } from './execute-query.ts';
import { InvalidPartialStatesError } from './errors.ts';

/**
 * A share as it travels: the series' dimension values, and per slot its
 * series (an index into `series`), its bucket start (epoch ms) and each
 * measure's state as the measure encodes it.
 *
 * @example
 * ```ts
 * const share: PartialStates = { view: 'sales', series: [['DE'], ['FR']], slots: [[0, 1732867200000, [3], ['1250']]] };
 * ```
 */
export interface PartialStates {
  readonly view: string;
  readonly series: readonly (readonly Value[])[];
  readonly slots: readonly (readonly [series: number, bucket: number, states: readonly EncodedState[]])[];
}

/** The slots of `entries` that `plan` reads, merged into one table of the view's shape. */
export function partialTable(plan: QueryPlan, entries: readonly (AggregateTable | TableSpan)[], budget: QueryBudget): AggregateTable {
  const share = new AggregateTable(plan.view);
  for (const entry of entries) {
    const { table, from, to } = entry instanceof AggregateTable ? { table: entry, from: plan.from, to: plan.to } : entry;
    const targets = new Int32Array(table.seriesCount).fill(-1);
    for (let series = 0; series < table.seriesCount; series++) {
      budget.spend();
      const dims = table.dims(series);
      if (plan.where.every((w) => w.values.has(dims[w.index]!))) targets[series] = share.internSeries(dims);
    }
    // A span over every bucket is an all-time roll-up (a wide query's read aid), whose slots carry no bucket of the
    // view's: the asker reads a share over the query's range again, so they go to one it keeps, the range's start.
    const rolledUp = from === Number.NEGATIVE_INFINITY && to === Number.POSITIVE_INFINITY && entry !== table;
    const kept = Number.isFinite(plan.from) ? plan.from : Number.isFinite(plan.to) ? plan.to - 1 : undefined;
    for (let slot = 0; slot < table.size; slot++) {
      const target = targets[table.seriesAt(slot)]!;
      const bucket = table.bucketAt(slot);
      if (target === -1 || bucket < from || bucket >= to) continue;
      budget.spend();
      const into = share.internSlot(target, rolledUp && kept !== undefined ? kept : bucket);
      table.columns.forEach((column, m) => share.columns[m]!.merge(into, column.get(slot)));
    }
  }
  return share;
}

/** A share's table as JSON. */
export function encodePartial(table: AggregateTable): PartialStates {
  const { view } = table;
  const series = Array.from({ length: table.seriesCount }, (_, s) => table.dims(s));
  const slots = Array.from({ length: table.size }, (_, slot) => [
    table.seriesAt(slot), table.bucketAt(slot), table.columns.map((column, m) => view.measures[m]!.monoid.encode(column.get(slot))),
  ] as const);
  return { view: view.name, series, slots };
}

/** A share read back into a table of `view`; anything not of its shape is {@link InvalidPartialStatesError}, naming where. */
export function decodePartial(view: ViewSchema, partial: PartialStates): AggregateTable {
  const fail = (where: string, why: string): never => {
    throw new InvalidPartialStatesError(view.name, where, why);
  };
  if (partial.view !== view.name) fail('view', `it is for view '${String(partial.view)}'`);
  if (!Array.isArray(partial.series) || !Array.isArray(partial.slots)) fail('series', 'series and slots must be arrays');
  const table = new AggregateTable(view);
  const ids = partial.series.map((dims, s) => {
    if (!Array.isArray(dims) || dims.length !== view.dimensions.length) fail(`series[${s}]`, `it must hold ${view.dimensions.length} dimension values`);
    return table.internSeries(dims);
  });
  partial.slots.forEach((slot, i) => {
    const [series, bucket, states] = Array.isArray(slot) ? slot : fail(`slots[${i}]`, 'it is not an array');
    const id = ids[series];
    if (id === undefined) fail(`slots[${i}]`, `series ${String(series)} is not listed`);
    if (typeof bucket !== 'number' || !Number.isFinite(bucket)) fail(`slots[${i}]`, 'its bucket is not a number');
    if (!Array.isArray(states) || states.length !== view.measures.length) fail(`slots[${i}]`, `it must hold ${view.measures.length} states`);
    const at = table.internSlot(id!, bucket);
    view.measures.forEach((m, k) => {
      let state: unknown;
      try {
        state = m.monoid.decode(states[k]!);
      } catch (error) {
        fail(`slots[${i}]`, `the state of '${m.name}' does not decode (${(error as Error).message})`);
      }
      table.columns[k]!.merge(at, state);
    });
  });
  return table;
}
