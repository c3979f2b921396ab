/**
 * Answers a planned query from a set of tables (the batch view and the speed
 * generations) by merging their states with the measures' monoids. Because
 * the tables hold disjoint offset ranges, the merge is exact.
 *
 * @module
 */
import { bucketStart, compareDecimals, fromScaled, localPeriodStart, nextBucket, SHORTEST_BUCKET_MS, type MeasureSchema, type MeasureValue, type StateColumn, type Value, type ViewSchema } from '../definitions/index.ts';
import { AggregateTable, seriesKey, type States } from '../aggregates/index.ts';
import { LargeMap } from '../util/large-map.ts';
import { PeriodRollUp } from './period-roll-up.ts';
import type { QueryBudget } from './query-budget.ts';
import type { OrderKey, QueryPlan } from './query-plan.ts';
import { formedNumber } from './number-form.ts';
import type { DimensionInput, QueryRow } from './query.ts';

interface Group {
  readonly dims: readonly Value[];
  readonly time: number;
  readonly states: States;
}

function matchingSeries(plan: QueryPlan, table: AggregateTable, budget: QueryBudget): number[] {
  if (plan.pinned !== undefined) {
    const one = table.findSeries(plan.pinned);
    return one === -1 ? [] : [one];
  }
  const ids: number[] = [];
  for (let id = 0; id < table.seriesCount; id++) {
    budget.spend();
    const dims = table.dims(id);
    if (plan.where.every((w) => w.values.has(dims[w.index]!))) ids.push(id);
  }
  return ids;
}


/**
 * Visits the slots of a series whose bucket falls in [from, to): by direct
 * lookup when the range is short, else by a walk. Every step of either is
 * charged to the budget, whether it finds a slot or not; the plan's range is
 * bounded to the years events can hold, where each bucket step moves on.
 */
function forSlotsInRange(plan: QueryPlan, table: AggregateTable, series: number, budget: QueryBudget, visit: (slot: number) => void): void {
  const granularity = plan.view.granularity;
  const span = granularity === 'none' ? Infinity : (plan.to - plan.from) / SHORTEST_BUCKET_MS[granularity];
  if (granularity !== 'none' && span <= table.bucketCount(series)) {
    let t = bucketStart(granularity, plan.from);
    if (t < plan.from) t = nextBucket(granularity, t);
    for (; t < plan.to; t = nextBucket(granularity, t)) {
      budget.spend();
      const slot = table.findSlot(series, t);
      if (slot !== -1) visit(slot);
    }
    return;
  }
  table.forEachSlot(series, (slot) => {
    budget.spend();
    const bucket = table.bucketAt(slot);
    if (bucket >= plan.from && bucket < plan.to) visit(slot);
  });
}

/**
 * Folds the matching slots of every table into one group per (grouped
 * dimensions, time). The group of a series is found once per series and
 * time, not once per slot, so a roll-up over many buckets costs a fold each.
 */
function accumulate(plan: QueryPlan, tables: readonly AggregateTable[], periods: PeriodRollUp, budget: QueryBudget): Group[] {
  const measures = plan.view.measures;
  // Rolled up to `all`, a group is its dimension values alone; else also its time.
  const byKey = new LargeMap<string, Group>();
  const groups: Group[] = [];
  for (const table of tables) {
    const columns = table.columns;
    for (const series of matchingSeries(plan, table, budget)) {
      const all = table.dims(series);
      const dims = plan.groupBy.map((i) => all[i]!);
      const prefix = seriesKey(dims);
      let lastTime = Number.NaN;
      let group: Group | undefined;
      forSlotsInRange(plan, table, series, budget, (slot) => {
        const time = periods.of(table.bucketAt(slot));
        if (time !== lastTime) {
          lastTime = time;
          const key = plan.granularity === 'all' ? prefix : `${prefix}@${time}`;
          group = byKey.get(key);
          if (group === undefined) {
            group = { dims, time, states: measures.map((m) => m.monoid.empty()) };
            byKey.insert(key, group);
            groups.push(group);
          }
        }
        const states = group!.states;
        for (let i = 0; i < columns.length; i++) states[i] = columns[i]!.foldInto(states[i], slot);
      });
    }
  }
  return groups;
}

/**
 * Rolled up to `all` over many series (a leaderboard), a group is a set of
 * series. Each series is mapped to its group once, each slot to its series'
 * group (or to none, outside the time range), and then each measure merges
 * a whole table into the group state columns in one pass over typed arrays:
 * no lookup, no call and no allocation per slot for numeric states.
 */
/**
 * A table read over its own part of the query's range: a wide query over a
 * range cut mid-day reads the whole days inside it from a daily roll-up and
 * the two partial days from the finer table.
 */
export interface TableSpan {
  readonly table: AggregateTable;
  readonly from: number;
  readonly to: number;
}

/** The listed slots if they are a small part of the table; past half, a sequential pass over all is cheaper than gathering them. */
function selective(listed: Int32Array, size: number): Int32Array | undefined {
  return listed.length * 2 <= size ? listed : undefined;
}

/** A wide query's groups, column-wise: their dimension values, their merged states, and which of them any slot reached. */
interface WideGroups {
  readonly dims: readonly (readonly Value[])[];
  readonly columns: readonly StateColumn[];
  /** 1 for a group some slot in range reached: a group whose series have no bucket in the range is no row, as in SQL's GROUP BY. */
  readonly filled: Uint8Array;
}

/**
 * Numbers a wide query's groups. When the query groups by every dimension
 * of the view, each series is its own group: the groups of the first table
 * read are its series ids, found without hashing (hashing 10,000 customer
 * keys in and out of a map was half a leaderboard's time), and a later
 * table finds its series among them through the first table's own series
 * index. Other groups, and series the first table lacks, go through a map.
 */
class GroupNumbering {
  /** Per group, its values of the grouped dimensions; holes for ids no series took. */
  readonly dims: (readonly Value[])[] = [];
  filled = new Uint8Array(0);
  #capacity = 0;
  // By the value itself for one dimension (a Map tells 1, '1' and null apart), else by seriesKey; a LargeMap, as groups can pass 2^24.
  readonly #byKey = new LargeMap<Value, number>();
  readonly #everyDimension: boolean;
  /** groupBy is the view's dimensions in their own order: a series' dimension values serve as its group's, uncopied. */
  readonly #inViewOrder: boolean;
  #primary: AggregateTable | undefined;
  #next = 0;

  constructor(private readonly plan: QueryPlan, private readonly targets: readonly StateColumn[]) {
    this.#everyDimension = plan.groupBy.length === plan.view.dimensions.length;
    this.#inViewOrder = this.#everyDimension && plan.groupBy.every((d, i) => d === i);
  }

  /** Per series of `table`, its group, or -1 for a series the query's `where` leaves out. */
  groupsOf(table: AggregateTable, budget: QueryBudget): Int32Array {
    if (this.#everyDimension && this.#primary === undefined) {
      this.#primary = table;
      this.#next = table.seriesCount;
      this.#ensure(this.#next);
    }
    const groupOf = new Int32Array(table.seriesCount).fill(-1);
    for (const series of matchingSeries(this.plan, table, budget)) groupOf[series] = this.#groupOf(table, series);
    return groupOf;
  }

  #groupOf(table: AggregateTable, series: number): number {
    const all = table.dims(series);
    const primary = this.#primary;
    if (primary !== undefined) {
      const id = primary === table ? series : primary.findSeries(all);
      if (id !== -1) {
        this.dims[id] ??= this.#inViewOrder ? all : this.plan.groupBy.map((i) => all[i]!);
        return id;
      }
    }
    const dims = this.plan.groupBy.map((i) => all[i]!);
    const key = dims.length === 1 ? dims[0]! : seriesKey(dims);
    let group = this.#byKey.get(key);
    if (group === undefined) {
      group = this.#next++;
      this.#byKey.insert(key, group);
      this.#ensure(this.#next);
      this.dims[group] = dims;
    }
    return group;
  }

  #ensure(groups: number): void {
    if (groups <= this.#capacity) return;
    this.#capacity = Math.max(64, groups, this.#capacity * 2);
    for (const target of this.targets) target.grow(this.#capacity);
    const grown = new Uint8Array(this.#capacity);
    grown.set(this.filled);
    this.filled = grown;
  }
}

/*
 * The wide path's loops over slots and groups each sit in a function of
 * their own, with nothing after the loop. Such a path runs once per query,
 * so V8 optimizes its loops on stack (OSR) long before it optimizes the
 * function around them; code that followed a loop in the same function had
 * no type feedback yet, so the optimized loop left for the interpreter
 * right after it, and the loops after ran interpreted, query after query:
 * the first dozen leaderboards of a process took 2 to 30 ms where the
 * twentieth takes 1 (`node --trace-deopt bench/first-queries.ts`).
 */

/** `out[i]`: the group of `listed[i]`'s series. */
function listedTargets(table: AggregateTable, groupOf: Int32Array, listed: Int32Array, out: Int32Array): void {
  for (let i = 0; i < listed.length; i++) out[i] = groupOf[table.seriesAt(listed[i]!)]!;
}

/** Marks every group a slot reached. */
function markFilled(slotGroups: Int32Array, filled: Uint8Array): void {
  for (let i = 0; i < slotGroups.length; i++) {
    const group = slotGroups[i]!;
    if (group !== -1) filled[group] = 1;
  }
}

function accumulateAll(plan: QueryPlan, entries: readonly (AggregateTable | TableSpan)[], budget: QueryBudget): WideGroups {
  const targets = plan.view.measures.map((m) => m.monoid.column());
  const groups = new GroupNumbering(plan, targets);
  for (const entry of entries) {
    const { table, from, to } = entry instanceof AggregateTable ? { table: entry, from: plan.from, to: plan.to } : entry;
    if (from >= to) continue;
    const groupOf = groups.groupsOf(table, budget);
    // A span bounded on both sides (a partial day) reads only its buckets' slots; a whole table is one pass.
    const listed = entry instanceof AggregateTable || !Number.isFinite(from) || !Number.isFinite(to) ? undefined : selective(table.slotsInBuckets(from, to), table.size);
    const count = listed?.length ?? table.size;
    budget.spend(count);
    const slotGroups = new Int32Array(count);
    if (listed === undefined) table.slotTargets(groupOf, from, to, slotGroups);
    else listedTargets(table, groupOf, listed, slotGroups);
    markFilled(slotGroups, groups.filled);
    table.columns.forEach((column, i) => targets[i]!.mergeFrom(column, slotGroups, count, listed));
  }
  return { dims: groups.dims, columns: targets, filled: groups.filled };
}

/** Dimension values: null last, then natural order of numbers, booleans and strings (by UTF-16 code unit). */
export function compareDimensions(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/** What a result sorts by: itself, or for `quantiles` its first quantile (the first the definition lists). */
function sortKey(value: MeasureValue): number | string | null {
  if (value === null || typeof value !== 'object') return value;
  for (const q of Object.values(value)) return q;
  return null;
}

/** Measure results: null last; ISO times as text; decimals (numbers or exact decimal text) by their exact value. */
function compareMeasures(x: MeasureValue, y: MeasureValue): number {
  const a = sortKey(x);
  const b = sortKey(y);
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'string' && typeof b === 'string' && Number.isNaN(Number(a))) return a < b ? -1 : 1;
  return compareDecimals(a, b);
}

interface Finished {
  readonly group: Group;
  readonly results: readonly MeasureValue[];
  /** What each orderBy entry sorts by: the result, or the quantile it names. */
  readonly keys: readonly MeasureValue[];
}

/** How the answer's order reads a row: what each orderBy entry sorts by, its time bucket, and its dimension values. */
interface RowOrder<T> {
  key(row: T, k: number): MeasureValue;
  time(row: T): number;
  dims(row: T): readonly Value[];
}

const FINISHED_ORDER: RowOrder<Finished> = { key: (row, k) => row.keys[k]!, time: (row) => row.group.time, dims: (row) => row.group.dims };

/** One orderBy key's comparison of two rows; nulls last whichever the direction. */
function compareOn<T>(o: OrderKey, k: number, order: RowOrder<T>, a: T, b: T): number {
  let x: MeasureValue | Value;
  let y: MeasureValue | Value;
  let c: number;
  if (o.kind === 'measure') {
    x = order.key(a, k);
    y = order.key(b, k);
    c = compareMeasures(x, y);
  } else if (o.kind === 'dimension') {
    x = order.dims(a)[o.index]!;
    y = order.dims(b)[o.index]!;
    c = compareDimensions(x, y);
  } else {
    x = order.time(a);
    y = order.time(b);
    c = x - y;
  }
  return o.desc && x !== null && y !== null ? -c : c;
}

/**
 * The answer's order: the orderBy keys, then time and the grouped
 * dimensions ascending, so that equal keys come in one stable order. Each
 * comparison is charged to the budget, so a sort of many rows is stopped at
 * the deadline.
 */
function comparator<T>(plan: QueryPlan, budget: QueryBudget, order: RowOrder<T>): (a: T, b: T) => number {
  return (a, b) => {
    budget.spend();
    for (let k = 0; k < plan.orderBy.length; k++) {
      const c = compareOn(plan.orderBy[k]!, k, order, a, b);
      if (c !== 0) return c;
    }
    const t = order.time(a) - order.time(b);
    if (t !== 0) return t;
    const dimsA = order.dims(a);
    const dimsB = order.dims(b);
    for (let i = 0; i < dimsA.length; i++) {
      const c = compareDimensions(dimsA[i]!, dimsB[i]!);
      if (c !== 0) return c;
    }
    return 0;
  };
}

/**
 * The first `limit` rows in order. Fewer than all are chosen with a heap
 * that keeps the `limit` best seen so far, worst on top: n log(limit)
 * comparisons, where inserting into a sorted list costs n × limit. Only the
 * chosen rows are then sorted.
 */
function firstInOrder<T>(plan: QueryPlan, rows: T[], compare: (a: T, b: T) => number): T[] {
  if (plan.limit === 0) return [];
  if (plan.limit >= rows.length) return rows.sort(compare);
  const heap = new WorstFirstHeap(plan.limit, compare);
  heap.offerAll(rows);
  return heap.items.sort(compare);
}

/** A binary heap of at most `capacity` items whose root is the worst by `compare`. */
class WorstFirstHeap<T> {
  readonly items: T[] = [];
  constructor(private readonly capacity: number, private readonly compare: (a: T, b: T) => number) {}

  /** Offers each item in turn: a loop of its own, for the reason {@link listedTargets} gives. */
  offerAll(items: readonly T[]): void {
    for (let i = 0; i < items.length; i++) this.offer(items[i]!);
  }

  offer(item: T): void {
    const items = this.items;
    if (items.length < this.capacity) {
      items.push(item);
      this.#up(items.length - 1);
    } else if (this.compare(item, items[0]!) < 0) {
      items[0] = item;
      this.#down(0);
    }
  }

  #up(at: number): void {
    const items = this.items;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (this.compare(items[at]!, items[parent]!) <= 0) return;
      [items[at], items[parent]] = [items[parent]!, items[at]!];
      at = parent;
    }
  }

  #down(at: number): void {
    const items = this.items;
    for (;;) {
      const left = 2 * at + 1;
      let worst = at;
      if (left < items.length && this.compare(items[left]!, items[worst]!) > 0) worst = left;
      if (left + 1 < items.length && this.compare(items[left + 1]!, items[worst]!) > 0) worst = left + 1;
      if (worst === at) return;
      [items[at], items[worst]] = [items[worst]!, items[at]!];
      at = worst;
    }
  }
}

function dimensionOutput(view: ViewSchema, index: number, value: Value): DimensionInput {
  const field = view.dimensions[index]!;
  return field.type === 'number' && typeof value === 'number' ? (fromScaled(value, field.scale) as number) : value;
}

function toRow(plan: QueryPlan, { group, results }: Finished): QueryRow {
  const row: Record<string, DimensionInput | MeasureValue | bigint> = {};
  plan.groupBy.forEach((dimIndex, i) => {
    row[plan.view.dimensions[dimIndex]!.name] = dimensionOutput(plan.view, dimIndex, group.dims[i]!);
  });
  // ISO-8601: in UTC with Z as ever, in another zone as local time with its offset.
  if (plan.granularity !== 'all') row.time = plan.timeZone.iso(group.time);
  // The query's number form applies here, after ordering, which compares the measures' own results.
  plan.view.measures.forEach((m, i) => (row[m.name] = formedNumber(m, group.states[i], plan.numbers) ?? results[i]!));
  return row;
}

/**
 * Whether a plan rolls any number of series up to `all` (a leaderboard). Such
 * a plan reads each slot's series and bucket start and nothing else of a
 * table, so it may be given tables of any granularity that its time range
 * cuts at bucket boundaries.
 */
export function isWide(plan: QueryPlan): boolean {
  return plan.granularity === 'all' && plan.pinned === undefined;
}

/**
 * Whether a plan can read a minute or hour view's daily roll-up in place of
 * its finer buckets: it is {@link isWide}, and its range starts and ends on
 * UTC day boundaries (or is open), so a finer bucket is in range exactly
 * when its day is.
 */
export function readsWholeDays(plan: QueryPlan): boolean {
  const onDay = (t: number) => !Number.isFinite(t) || bucketStart('day', t) === t;
  return isWide(plan) && (plan.view.granularity === 'minute' || plan.view.granularity === 'hour') && onDay(plan.from) && onDay(plan.to);
}

/** A measure's answer: its state when the query asks for states, the quantiles the query asks for, or its result. */
function resultOf(plan: QueryPlan, measure: MeasureSchema, index: number, state: unknown): MeasureValue {
  const { monoid } = measure;
  if (plan.states && monoid.stateResult !== undefined) return monoid.stateResult(state);
  const asked = plan.quantiles.get(index);
  return asked !== undefined && monoid.resultFor !== undefined ? monoid.resultFor(state, asked) : monoid.result(state);
}

/** Merges the tables' contributions and shapes the answer rows, within the query's budget. */
export function executeQuery(plan: QueryPlan, tables: readonly (AggregateTable | TableSpan)[], budget: QueryBudget): QueryRow[] {
  const measures = plan.view.measures;
  // Spans narrow a wide query's range per table; a query by time bucket reads every table over the query's range.
  if (isWide(plan)) return wideRows(plan, accumulateAll(plan, tables, budget), budget);
  const periods = new PeriodRollUp(plan);
  const groups = accumulate(plan, tables.map((t) => (t instanceof AggregateTable ? t : t.table)), periods, budget);
  periods.assertExact();
  budget.checkRows(Math.min(groups.length, plan.limit));
  const finished = groups.map((group) => {
    budget.spend();
    const results = measures.map((m, i) => resultOf(plan, m, i, group.states[i]));
    const keys = plan.orderBy.map((o) => (o.kind !== 'measure' ? null : o.quantile === undefined ? results[o.index]! : orderKey(plan, o, group.states[o.index])));
    return { group, results, keys };
  });
  return firstInOrder(plan, finished, comparator(plan, budget, FINISHED_ORDER)).map((f) => toRow(plan, f));
}

/** What an orderBy entry sorts a group by, from the state of the measure it names. */
function orderKey(plan: QueryPlan, order: Extract<OrderKey, { kind: 'measure' }>, state: unknown): MeasureValue {
  const measure = plan.view.measures[order.index]!;
  return order.quantile === undefined ? resultOf(plan, measure, order.index, state) : measure.monoid.resultFor!(state, [order.quantile]);
}

/** The groups some slot in range reached, in id order. */
function filledGroups(wide: WideGroups): number[] {
  const ids: number[] = [];
  for (let g = 0; g < wide.dims.length; g++) if (wide.filled[g] === 1) ids.push(g);
  return ids;
}

/** What an orderBy entry sorts each group of `ids` by, indexed by group. */
function orderKeys(plan: QueryPlan, order: Extract<OrderKey, { kind: 'measure' }>, wide: WideGroups, ids: readonly number[]): MeasureValue[] {
  const out = new Array<MeasureValue>(wide.dims.length);
  const column = wide.columns[order.index]!;
  for (let i = 0; i < ids.length; i++) out[ids[i]!] = orderKey(plan, order, column.get(ids[i]!));
  return out;
}

/**
 * A leaderboard's rows. Only what the order reads is computed for every
 * group, into one array per orderBy entry; states and results are made for
 * the chosen rows alone. Making them for every group (objects and arrays
 * per group for 10,000 customers) cost most of a top 10's time.
 */
function wideRows(plan: QueryPlan, wide: WideGroups, budget: QueryBudget): QueryRow[] {
  const ids = filledGroups(wide);
  budget.checkRows(Math.min(ids.length, plan.limit));
  budget.spend(ids.length);
  const keys = plan.orderBy.map((o) => (o.kind === 'measure' ? orderKeys(plan, o, wide, ids) : []));
  const order: RowOrder<number> = { key: (g, k) => keys[k]![g]!, time: () => 0, dims: (g) => wide.dims[g]! };
  return firstInOrder(plan, ids, comparator(plan, budget, order)).map((g) => {
    const states = wide.columns.map((column) => column.get(g));
    const results = plan.view.measures.map((m, i) => resultOf(plan, m, i, states[i]));
    return toRow(plan, { group: { dims: wide.dims[g]!, time: 0, states }, results, keys: [] });
  });
}

/**
 * The time buckets of an answer that its range cuts: rolled up to a coarser
 * granularity than the view's, a range that starts or ends inside a bucket
 * (a day from 10:00) fills that bucket only with the view's buckets in the
 * range. ISO starts (with the offset of the query's time zone), at most the
 * first and the last; empty when the range falls on the answer's bucket
 * boundaries.
 */
export function partialBuckets(plan: QueryPlan): string[] {
  const { granularity, timeZone } = plan;
  if (granularity === 'all' || granularity === plan.view.granularity) return [];
  const cut = new Set<number>();
  for (const bound of [plan.from, plan.to]) {
    const start = Number.isFinite(bound) ? localPeriodStart(timeZone, granularity, bound) : bound;
    if (start !== bound) cut.add(start);
  }
  return [...cut].map((t) => timeZone.iso(t));
}
