/**
 * Validates a {@link Query} against its view and turns it into a plan. Every
 * value from the request is normalized here and compared in memory; no part of
 * a query ever becomes SQL.
 *
 * @module
 */
import {
  GRANULARITIES, InvalidEventError, MAX_TIME, MIN_TIME, normalizeValue, parseIsoTime, rollsUpInto, sameNamedQuantiles, sameNamedQuantilesMessage, TimeZone,
  type Catalog, type QueryGranularity, type Value, type ViewSchema,
} from '../definitions/index.ts';
import { InvalidQueryError, UnknownDimensionError, UnknownMeasureError, UnknownTimeZoneError, UnknownViewError } from './errors.ts';
import { NUMBER_FORMS, type NumberForm } from './number-form.ts';
import { QueryBudget } from './query-budget.ts';
import { LAYERS, type DimensionInput, type Layer, type Query } from './query.ts';

/**
 * One key of the answer's order: a measure's result (or one of its
 * quantiles), a grouped dimension (`index` is its place in `groupBy`), or
 * the time bucket. Nulls sort last either way.
 */
export type OrderKey =
  | { readonly kind: 'measure'; readonly index: number; readonly desc: boolean; readonly quantile: number | undefined }
  | { readonly kind: 'dimension'; readonly index: number; readonly desc: boolean }
  | { readonly kind: 'time'; readonly desc: boolean };

export interface QueryPlan {
  readonly view: ViewSchema;
  readonly from: number;
  readonly to: number;
  readonly where: readonly { readonly index: number; readonly values: ReadonlySet<Value> }[];
  /** Set when `where` pins every dimension to one value: the dimension values of the one series to read. */
  readonly pinned: readonly Value[] | undefined;
  readonly groupBy: readonly number[];
  readonly granularity: QueryGranularity;
  /** The zone whose local periods a granularity of a day or coarser means; UTC unless the query names one. */
  readonly timeZone: TimeZone;
  readonly orderBy: readonly OrderKey[];
  /** Per `quantiles` measure (by index), the quantiles the query asks for instead of the defined ones. */
  readonly quantiles: ReadonlyMap<number, readonly number[]>;
  /** At most {@link NO_LIMIT}, which a query without a limit gets. */
  readonly limit: number;
  readonly layer: Layer;
  /** The position to wait for (cluster mode), per partition. */
  readonly after: readonly number[] | undefined;
  /** Cluster mode: answer without the partitions no node can give, naming them, rather than refuse. */
  readonly allowPartial: boolean;
  /** Answer each sketch measure with its state (base64, with its type and parameters) instead of its estimate. */
  readonly states: boolean;
  /** The view's version the query asks for, checked by the engine against the one served. */
  readonly version: number | undefined;
  /** The form of `count` and `sum` answers. */
  readonly numbers: NumberForm;
}

const QUERY_KEYS = ['view', 'from', 'to', 'where', 'groupBy', 'granularity', 'timeZone', 'orderBy', 'limit', 'layer', 'after', 'allowPartial', 'states', 'quantiles', 'version', 'numbers'];

function fail(field: string, message: string): never {
  throw new InvalidQueryError(field, message);
}

/**
 * The widest range a query may name: the times events can hold, and the end
 * of the last one. Past it, doubles get too coarse for a bucket's width
 * (at 1e21 ms, adding a minute rounds back to the same number), so every
 * walk over buckets would be at risk; nothing is stored out there anyway.
 */
const EARLIEST = MIN_TIME;
const LATEST = MAX_TIME + 1;

function time(field: string, raw: unknown): number {
  const t = typeof raw === 'number' ? raw : typeof raw === 'string' ? parseIsoTime(raw) : Number.NaN;
  if (Number.isNaN(t)) return fail(field, `${field} must be an ISO-8601 date-time or epoch milliseconds.`);
  if (!(t >= EARLIEST && t <= LATEST)) {
    fail(field, `${field} must fall between 1900-01-01T00:00:00Z and 10000-01-01T00:00:00Z (epoch ms ${EARLIEST} to ${LATEST}), the times events can hold.`);
  }
  return t;
}

function dimensionIndex(view: ViewSchema, field: string, name: unknown): number {
  const index = view.dimensions.findIndex((d) => d.name === name);
  if (index === -1) throw new UnknownDimensionError(field, String(name), view.name);
  return index;
}

function whereValue(view: ViewSchema, index: number, field: string, raw: DimensionInput): Value {
  if (raw === null) return null;
  try {
    return normalizeValue({ ...view.dimensions[index]!, optional: false }, raw);
  } catch (error) {
    if (error instanceof InvalidEventError) fail(field, `${field}: ${error.message}`);
    throw error;
  }
}

function planWhere(view: ViewSchema, where: unknown, budget: QueryBudget): QueryPlan['where'] {
  if (where === undefined) return [];
  if (typeof where !== 'object' || where === null || Array.isArray(where)) fail('where', 'where must be an object of dimension values.');
  return Object.entries(where).map(([name, raw]) => {
    const index = dimensionIndex(view, `where.${name.slice(0, 64)}`, name);
    const list: DimensionInput[] = Array.isArray(raw) ? raw : [raw as DimensionInput];
    if (list.length === 0) fail(`where.${name}`, `where.${name} must list at least one value.`);
    const values = new Set<Value>();
    list.forEach((v, i) => {
      budget.spend();
      values.add(whereValue(view, index, `where.${name}[${i}]`, v));
    });
    return { index, values };
  });
}

/**
 * Resolves a list of names that may name each of `known` at most once. The
 * length is checked before any name is looked up, so a list of a million
 * copies costs nothing; a repeat is refused, since it could only multiply
 * work (a grouping by the same dimension twice is the grouping by it once).
 */
function uniqueList<T>(
  field: string, raw: readonly unknown[], known: readonly { readonly name: string }[], what: string,
  resolve: (entry: unknown, i: number) => { readonly index: number; readonly value: T },
): T[] {
  if (raw.length > known.length) {
    fail(field, `${field} lists ${raw.length.toLocaleString('en-US')} ${what}s, but the view has only ${known.length}; name each at most once.`);
  }
  const seen = new Set<number>();
  return raw.map((entry, i) => {
    const { index, value } = resolve(entry, i);
    if (seen.has(index)) fail(`${field}[${i}]`, `${field}[${i}] names ${what} '${known[index]!.name}' a second time; name each at most once.`);
    seen.add(index);
    return value;
  });
}

function planGroupBy(view: ViewSchema, raw: unknown): readonly number[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) fail('groupBy', 'groupBy must be an array of dimension names.');
  return uniqueList('groupBy', raw, view.dimensions, 'dimension', (name, i) => {
    const index = dimensionIndex(view, `groupBy[${i}]`, name);
    return { index, value: index };
  });
}

function planGranularity(view: ViewSchema, raw: unknown): QueryGranularity {
  const fallback: QueryGranularity = view.granularity === 'none' ? 'all' : view.granularity;
  if (raw === undefined) return fallback;
  const allowed = [...GRANULARITIES.filter((g) => g !== 'none'), 'all'];
  if (typeof raw !== 'string' || !allowed.includes(raw)) fail('granularity', `granularity must be one of ${allowed.join(', ')}.`);
  if (!rollsUpInto(view.granularity, raw as QueryGranularity)) {
    fail('granularity', `View '${view.name}' has ${view.granularity} buckets, which do not roll up into ${raw}.`);
  }
  return raw as QueryGranularity;
}

function planTimeZone(raw: unknown): TimeZone {
  if (raw === undefined) return TimeZone.UTC;
  if (typeof raw !== 'string') fail('timeZone', "timeZone must be an IANA time zone name such as 'Europe/Berlin'.");
  const zone = TimeZone.named(raw);
  if (zone === undefined) throw new UnknownTimeZoneError(raw);
  return zone;
}

const ORDER_SHAPE = "an object naming a measure, a grouped dimension or the time: { measure: 'revenue', desc: true }, { dimension: 'country' } or { time: true }";

/**
 * The answer's order: measures, grouped dimensions and the time bucket, each
 * at most once, ascending unless `desc`. A dimension must be grouped by and
 * the time must be a bucket (not `all`), or the rows would not hold them.
 */
function planOrderBy(view: ViewSchema, raw: unknown, groupBy: readonly number[], granularity: QueryGranularity): QueryPlan['orderBy'] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) fail('orderBy', `orderBy must be an array, each entry ${ORDER_SHAPE}.`);
  const seen = new Set<string>();
  return raw.map((entry: unknown, i): OrderKey => {
    const at = `orderBy[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail(at, `${at} must be ${ORDER_SHAPE}.`);
    const o = entry as { measure?: unknown; dimension?: unknown; time?: unknown; desc?: unknown; quantile?: unknown };
    const named = (['measure', 'dimension', 'time'] as const).filter((k) => o[k] !== undefined);
    if (named.length !== 1) fail(at, `${at} must be ${ORDER_SHAPE}, naming exactly one of them.`);
    const desc = o.desc ?? false;
    if (typeof desc !== 'boolean') fail(`${at}.desc`, `${at}.desc must be true or false.`);
    if (o.quantile !== undefined && named[0] !== 'measure') fail(`${at}.quantile`, `${at}.quantile must be a number from 0 to 1, on a quantiles measure.`);
    const key = orderKeyOf(view, at, named[0]!, o, desc, groupBy, granularity);
    const id = key.kind === 'time' ? 'time' : `${key.kind}:${key.index}`;
    if (seen.has(id)) fail(at, `${at} orders by ${key.kind === 'time' ? 'the time' : `${key.kind} '${key.kind === 'measure' ? view.measures[key.index]!.name : view.dimensions[groupBy[key.index]!]!.name}'`} a second time; name each at most once.`);
    seen.add(id);
    return key;
  });
}

function orderKeyOf(
  view: ViewSchema, at: string, kind: 'measure' | 'dimension' | 'time',
  o: { measure?: unknown; dimension?: unknown; time?: unknown; quantile?: unknown }, desc: boolean,
  groupBy: readonly number[], granularity: QueryGranularity,
): OrderKey {
  if (kind === 'time') {
    if (o.time !== true) fail(`${at}.time`, `${at}.time must be true, as in { time: true, desc: true }.`);
    if (granularity === 'all') fail(`${at}.time`, `${at} orders by the time, but granularity 'all' leaves no time bucket in the rows; pick a granularity.`);
    return { kind, desc };
  }
  if (kind === 'dimension') {
    const dimension = dimensionIndex(view, `${at}.dimension`, o.dimension);
    const index = groupBy.indexOf(dimension);
    if (index === -1) fail(`${at}.dimension`, `${at} orders by dimension '${view.dimensions[dimension]!.name}', which is not in groupBy; group by it too.`);
    return { kind, index, desc };
  }
  const index = view.measures.findIndex((m) => m.name === o.measure);
  if (index === -1) throw new UnknownMeasureError(`${at}.measure`, String(o.measure), view.name);
  if (o.quantile !== undefined && (view.measures[index]!.type !== 'quantiles' || !isQuantile(o.quantile))) {
    fail(`${at}.quantile`, `${at}.quantile must be a number from 0 to 1, on a quantiles measure.`);
  }
  return { kind, index, desc, quantile: o.quantile as number | undefined };
}

/**
 * A plan's limit when the query sets none, and the most it keeps: more rows
 * than any answer can hold. A small integer, never Infinity, so that the
 * limit of every plan is stored alike: V8 stores a field that has held only
 * small integers in a form a larger number or Infinity does not fit, and
 * the first plan with one changes the shape of all plans made after it,
 * which sends every function optimized for the old shape back to the
 * interpreter (the leaderboards after a run of point queries did).
 */
export const NO_LIMIT = 2 ** 30 - 1;

function planLimit(raw: unknown): number {
  if (raw === undefined) return NO_LIMIT;
  if (!Number.isInteger(raw) || (raw as number) < 0) fail('limit', 'limit must be a non-negative integer.');
  return Math.min(raw as number, NO_LIMIT);
}

function exactSeries(view: ViewSchema, where: QueryPlan['where']): readonly Value[] | undefined {
  if (where.length !== view.dimensions.length || where.some((w) => w.values.size !== 1)) return undefined;
  const values: Value[] = [];
  for (const w of where) values[w.index] = [...w.values][0]!;
  return values;
}

function isQuantile(q: unknown): q is number {
  return typeof q === 'number' && q >= 0 && q <= 1;
}

const MAX_ASKED_QUANTILES = 32;

function planQuantiles(view: ViewSchema, raw: unknown): ReadonlyMap<number, readonly number[]> {
  if (raw === undefined) return new Map();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('quantiles', 'quantiles must be an object such as {"latency": [0.5, 0.999]}.');
  const asked = new Map<number, readonly number[]>();
  for (const [name, list] of Object.entries(raw)) {
    const index = view.measures.findIndex((m) => m.name === name);
    if (index === -1 || view.measures[index]!.type !== 'quantiles') fail(`quantiles.${name.slice(0, 64)}`, `quantiles names '${name.slice(0, 64)}', which is not a quantiles measure of view '${view.name}'.`);
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_ASKED_QUANTILES || !list.every(isQuantile)) {
      fail(`quantiles.${name}`, `quantiles.${name} must list 1 to ${MAX_ASKED_QUANTILES} numbers from 0 to 1.`);
    }
    const clash = sameNamedQuantiles(list as number[]);
    if (clash !== undefined) fail(`quantiles.${name}`, sameNamedQuantilesMessage(`quantiles.${name}`, clash));
    asked.set(index, list as number[]);
  }
  return asked;
}

/** A key that is true, false or absent (false). */
function planFlag(key: 'states' | 'allowPartial', raw: unknown): boolean {
  if (raw === undefined) return false;
  if (typeof raw !== 'boolean') fail(key, `${key} must be true or false.`);
  return raw;
}

/** A position has one sequence per partition, and a config allows at most 256 partitions. */
const MAX_POSITION_LENGTH = 256;

function planNumbers(raw: unknown): NumberForm {
  if (raw === undefined) return 'auto';
  if (!NUMBER_FORMS.includes(raw as NumberForm)) fail('numbers', `numbers must be one of ${NUMBER_FORMS.join(', ')}.`);
  return raw as NumberForm;
}

function planVersion(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  if (!Number.isSafeInteger(raw) || (raw as number) < 1) fail('version', 'version must be a whole number from 1, a view version as meta.viewVersion names it.');
  return raw as number;
}

function planAfter(raw: unknown): readonly number[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length > MAX_POSITION_LENGTH || !raw.every((s) => Number.isSafeInteger(s) && (s as number) >= 0)) {
    fail('after', `after must be the position an ingest answered with: an array of at most ${MAX_POSITION_LENGTH} whole numbers, one per partition.`);
  }
  return raw as number[];
}

/** Validates a query; throws a typed error naming the first thing wrong with it. Long `where` lists are charged to `budget`. */
export function planQuery(catalog: Catalog, query: Query, budget = new QueryBudget()): QueryPlan {
  if (typeof query !== 'object' || query === null) fail('query', 'A query must be a JSON object.');
  const unknownKey = Object.keys(query).find((k) => !QUERY_KEYS.includes(k));
  if (unknownKey !== undefined) fail(unknownKey, `Unknown query key '${unknownKey.slice(0, 64)}'; allowed keys are ${QUERY_KEYS.join(', ')}.`);
  if (typeof query.view !== 'string') fail('view', 'view must name a view.');
  const view = catalog.views.get(query.view);
  if (view === undefined) throw new UnknownViewError(query.view);
  if (view.granularity === 'none' && (query.from !== undefined || query.to !== undefined)) {
    fail('from', `View '${view.name}' has no time granularity, so it takes no from or to.`);
  }
  const from = query.from === undefined ? Number.NEGATIVE_INFINITY : time('from', query.from);
  const to = query.to === undefined ? Number.POSITIVE_INFINITY : time('to', query.to);
  const where = planWhere(view, query.where, budget);
  const groupBy = planGroupBy(view, query.groupBy);
  const granularity = planGranularity(view, query.granularity);
  const layer = query.layer ?? 'merged';
  if (!LAYERS.includes(layer)) fail('layer', `layer must be one of ${LAYERS.join(', ')}.`);
  return {
    view, from, to, where, pinned: exactSeries(view, where), groupBy, granularity, timeZone: planTimeZone(query.timeZone),
    orderBy: planOrderBy(view, query.orderBy, groupBy, granularity), limit: planLimit(query.limit), layer, after: planAfter(query.after),
    states: planFlag('states', query.states), allowPartial: planFlag('allowPartial', query.allowPartial), quantiles: planQuantiles(view, query.quantiles),
    version: planVersion(query.version), numbers: planNumbers(query.numbers),
  };
}

