/**
 * Answers a planned query from a set of tables (the batch view and the speed
 * generations) by merging their states with the measures' monoids. Because
 * the tables hold disjoint offset ranges, the merge is exact.
 *
 * @module
 */
import {
  bucketStart, fromScaled, nextBucket, seriesKey,
  type AggregateTable, type MeasureValue, type Series, type States, type Value, type ViewSchema,
} from '../definitions/index.ts';
import type { QueryPlan } from './query-plan.ts';
import type { DimensionInput, QueryRow } from './query.ts';

interface Group {
  readonly dims: readonly Value[];
  readonly time: number;
  readonly states: States;
}

function matchingSeries(plan: QueryPlan, table: AggregateTable): Iterable<Series> {
  if (plan.seriesKey !== undefined) {
    const one = table.series.get(plan.seriesKey);
    return one === undefined ? [] : [one];
  }
  if (plan.where.length === 0) return table.series.values();
  return [...table.series.values()].filter((s) => plan.where.every((w) => w.values.has(s.dims[w.index]!)));
}

/** Smallest width of a bucket, to bound how many buckets a time range spans. */
const MIN_WIDTH = { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000, month: 2_419_200_000 } as const;

/** The (bucket, states) pairs of a series in [from, to): by direct lookup when the range is short, else by scan. */
function* bucketsInRange(plan: QueryPlan, series: Series): Iterable<[number, States]> {
  const granularity = plan.view.granularity;
  const span = granularity === 'none' ? Infinity : (plan.to - plan.from) / MIN_WIDTH[granularity];
  if (granularity !== 'none' && span <= series.buckets.size) {
    let t = bucketStart(granularity, plan.from);
    if (t < plan.from) t = nextBucket(granularity, t);
    for (; t < plan.to; t = nextBucket(granularity, t)) {
      const states = series.buckets.get(t);
      if (states !== undefined) yield [t, states];
    }
    return;
  }
  for (const entry of series.buckets) if (entry[0] >= plan.from && entry[0] < plan.to) yield entry;
}

function accumulate(plan: QueryPlan, tables: readonly AggregateTable[]): Map<string, Group> {
  const measures = plan.view.measures;
  const groups = new Map<string, Group>();
  for (const table of tables) {
    for (const series of matchingSeries(plan, table)) {
      const dims = plan.groupBy.map((i) => series.dims[i]!);
      const prefix = seriesKey(dims);
      for (const [bucket, states] of bucketsInRange(plan, series)) {
        const time = bucketStart(plan.granularity, bucket);
        const key = `${prefix}@${time}`;
        let group = groups.get(key);
        if (group === undefined) {
          group = { dims, time, states: measures.map((m) => m.monoid.empty()) };
          groups.set(key, group);
        }
        for (let i = 0; i < measures.length; i++) group.states[i] = measures[i]!.monoid.merge(group.states[i], states[i]);
      }
    }
  }
  return groups;
}

/** Dimension values: null last, then natural order of numbers, booleans and strings (by UTF-16 code unit). */
export function compareDimensions(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/** Measure results: null last; a sum too large for a double is exact decimal text and compares by value. */
function compareMeasures(a: MeasureValue, b: MeasureValue): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'string' && typeof b === 'string' && Number.isNaN(Number(a))) return a < b ? -1 : 1;
  return Number(a) - Number(b);
}

interface Finished {
  readonly group: Group;
  readonly results: readonly MeasureValue[];
}

function order(plan: QueryPlan, rows: Finished[]): Finished[] {
  return rows.sort((a, b) => {
    for (const o of plan.orderBy) {
      const c = compareMeasures(a.results[o.index]!, b.results[o.index]!);
      if (c !== 0) return o.desc && a.results[o.index] !== null && b.results[o.index] !== null ? -c : c;
    }
    if (a.group.time !== b.group.time) return a.group.time - b.group.time;
    for (let i = 0; i < a.group.dims.length; i++) {
      const c = compareDimensions(a.group.dims[i]!, b.group.dims[i]!);
      if (c !== 0) return c;
    }
    return 0;
  });
}

function dimensionOutput(view: ViewSchema, index: number, value: Value): DimensionInput {
  const field = view.dimensions[index]!;
  return field.type === 'number' && typeof value === 'number' ? (fromScaled(value, field.scale) as number) : value;
}

function toRow(plan: QueryPlan, { group, results }: Finished): QueryRow {
  const row: Record<string, DimensionInput | MeasureValue> = {};
  plan.groupBy.forEach((dimIndex, i) => {
    row[plan.view.dimensions[dimIndex]!.name] = dimensionOutput(plan.view, dimIndex, group.dims[i]!);
  });
  if (plan.granularity !== 'all') row.time = new Date(group.time).toISOString();
  plan.view.measures.forEach((m, i) => (row[m.name] = results[i]!));
  return row;
}

/** Merges the tables' contributions and shapes the answer rows. */
export function executeQuery(plan: QueryPlan, tables: readonly AggregateTable[]): QueryRow[] {
  const measures = plan.view.measures;
  const finished = [...accumulate(plan, tables).values()].map((group) => ({
    group,
    results: measures.map((m, i) => m.monoid.result(group.states[i])),
  }));
  return order(plan, finished).slice(0, plan.limit).map((f) => toRow(plan, f));
}
