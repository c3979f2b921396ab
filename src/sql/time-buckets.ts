/**
 * Time buckets as SQL writes them, mapped onto Tandem's granularities: the
 * `time` column itself (the view's own buckets), `date_trunc('day', time)`,
 * `time_bucket('1 hour', time)`, and what Grafana's PostgreSQL macros expand
 * to: `floor(extract(epoch from time)/3600)*3600` (epoch seconds, which
 * `$__timeGroupAlias` answers with), `to_timestamp(…)` of it, and
 * `extract(epoch from time)` (`$__timeEpoch`). A bucket finer than the
 * view's, or of a width no granularity has, is refused in one sentence.
 *
 * @module
 */
import { rollsUpInto, type Granularity, type ViewSchema } from '../definitions/index.ts';
import { TimeBucketError, UnsupportedSqlError } from './errors.ts';
import { parseInterval } from './sql-interval.ts';
import { evaluate, shown, type ValueContext } from './sql-values.ts';
import { functionName, isCast, isColumnRef, isConstant, isFunction, sameName, type FunctionNode, type SqlNode } from './sql-tree.ts';

/** A granularity a bucket can have: not `none`. */
export type BucketGranularity = Exclude<Granularity, 'none'>;

/**
 * A time bucket: its granularity and how it is answered, as a timestamp
 * (`timestamptz`), as epoch seconds (a number, as Grafana's macros give) or
 * as a date (`CAST(time AS date)`, as Metabase groups by day).
 *
 * @example
 * ```ts
 * const grafana: TimeBucket = { granularity: 'hour', form: 'epoch' };
 * ```
 */
export interface TimeBucket {
  readonly granularity: BucketGranularity;
  readonly form: 'timestamp' | 'epoch' | 'date';
}

const MINUTE_S = 60;
const HOUR_S = 3600;
const DAY_S = 86_400;

/** Fixed widths, in milliseconds, that are a granularity. Weeks are ISO weeks (from Monday), as `date_trunc` and `time_bucket` cut them. */
const WIDTHS: ReadonlyMap<number, BucketGranularity> = new Map([
  [MINUTE_S * 1000, 'minute'], [HOUR_S * 1000, 'hour'], [DAY_S * 1000, 'day'], [7 * DAY_S * 1000, 'week'],
]);

/** Widths in months that are a granularity: buckets that start on the first of a month, as `time_bucket` cuts them from 2000-01-01. */
const CALENDAR_MONTHS: ReadonlyMap<number, BucketGranularity> = new Map([[1, 'month'], [3, 'quarter'], [12, 'year']]);

const TRUNC_UNITS: Readonly<Record<string, BucketGranularity>> = {
  minute: 'minute', minutes: 'minute', hour: 'hour', hours: 'hour', day: 'day', days: 'day', week: 'week', weeks: 'week', month: 'month', months: 'month',
  quarter: 'quarter', quarters: 'quarter', year: 'year', years: 'year',
};

/** Whether `node` is the `time` column. */
function isTimeColumn(node: SqlNode): boolean {
  return isColumnRef(node) && sameName(node.column_names.at(-1)!, 'time');
}

/** Whether `node` is `extract(epoch from time)`, which DuckDB reads as `date_part('epoch', time)`. */
function isEpochOfTime(node: SqlNode): boolean {
  if (!isFunction(node) || functionName(node) !== 'date_part' || node.children.length !== 2) return false;
  const [part, of] = node.children;
  return isConstant(part!) && String(part.value.value).toLowerCase() === 'epoch' && isTimeColumn(unwrapCast(of!));
}

const TIMESTAMP_TYPES = new Set(['TIMESTAMP', 'TIMESTAMP WITH TIME ZONE']);

/** A cast of a time to a timestamp changes nothing: it is one. */
function unwrapCast(node: SqlNode): SqlNode {
  return isCast(node) && TIMESTAMP_TYPES.has(node.cast_type.id) ? unwrapCast(node.child) : node;
}

/** Whether an expression mentions the time column anywhere: such an expression must be a bucket Tandem knows. */
export function mentionsTime(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (isColumnRef(node as SqlNode)) return isTimeColumn(node as SqlNode);
  return Object.values(node).some(mentionsTime);
}

/**
 * The bucket an expression over `time` names, or undefined when it does not
 * mention the time column. Throws when it does but is no bucket a query can
 * answer: a width no granularity has, or finer than the view's buckets.
 *
 * @example
 * ```ts
 * timeBucketOf(dateTruncDay, view, 'select[0]', context);   // { granularity: 'day', form: 'timestamp' }
 * ```
 */
export function timeBucketOf(node: SqlNode, view: ViewSchema, field: string, context: ValueContext): TimeBucket | undefined {
  if (!mentionsTime(node)) return undefined;
  if (view.granularity === 'none') throw new UnsupportedSqlError(field, `${field} reads the time, but view '${view.name}' has no time buckets (granularity none), so it has no time column.`);
  const bucket = recognize(unwrapCast(node), view, field, context);
  if (bucket === undefined) {
    throw new UnsupportedSqlError(field, `${field} computes something from time that is not a time bucket; write time, date_trunc('hour', time), time_bucket('1 hour', time) or floor(extract(epoch from time)/3600)*3600.`);
  }
  if (!rollsUpInto(view.granularity, bucket.granularity)) {
    const why = rank(bucket.granularity) < rank(view.granularity) ? 'finer than' : 'which do not roll up from';
    throw new TimeBucketError(field, `${field} asks for ${bucket.granularity} buckets, ${why} the ${view.granularity} buckets of view '${view.name}'; use ${coarser(view.granularity)}.`);
  }
  return bucket;
}

const ORDER: readonly BucketGranularity[] = ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'];
const rank = (g: Granularity) => ORDER.indexOf(g as BucketGranularity);

function coarser(g: Granularity): string {
  const list = ORDER.filter((c) => g !== 'none' && rollsUpInto(g, c));
  return list.length === 1 ? list[0]! : `${list.slice(0, -1).join(', ')} or ${list.at(-1)}`;
}

function recognize(node: SqlNode, view: ViewSchema, field: string, context: ValueContext): TimeBucket | undefined {
  if (isCast(node) && node.cast_type.id === 'DATE') {
    // A date is the day a bucket starts in: a day of finer buckets, the bucket itself from a day up.
    const inner = recognize(unwrapCast(node.child), view, field, context);
    if (inner === undefined || inner.form === 'epoch') return undefined;
    return { granularity: inner.granularity === 'minute' || inner.granularity === 'hour' ? 'day' : inner.granularity, form: 'date' };
  }
  if (isTimeColumn(node)) return view.granularity === 'none' ? undefined : { granularity: view.granularity, form: 'timestamp' };
  if (isEpochOfTime(node)) return view.granularity === 'none' ? undefined : { granularity: view.granularity, form: 'epoch' };
  if (!isFunction(node)) return undefined;
  const name = functionName(node);
  if (name === 'date_trunc' && node.children.length === 2 && isTimeColumn(unwrapCast(node.children[1]!))) {
    return { granularity: truncUnit(node, field, context), form: 'timestamp' };
  }
  if (name === 'time_bucket' && node.children.length === 2 && isTimeColumn(unwrapCast(node.children[1]!))) {
    return { granularity: bucketWidth(node, field, context), form: 'timestamp' };
  }
  if (name === 'to_timestamp' && node.children.length === 1) {
    const epoch = epochBucket(node.children[0]!, field);
    return epoch === undefined ? undefined : { granularity: epoch, form: 'timestamp' };
  }
  const epoch = epochBucket(node, field);
  return epoch === undefined ? undefined : { granularity: epoch, form: 'epoch' };
}

function truncUnit(node: FunctionNode, field: string, context: ValueContext): BucketGranularity {
  const unit = evaluate(node.children[0]!, field, context);
  const granularity = unit.kind === 'text' ? TRUNC_UNITS[unit.value.toLowerCase()] : undefined;
  if (granularity === undefined) {
    throw new TimeBucketError(field, `${field} truncates time to ${shown(unit)}, which no granularity matches; use 'minute', 'hour', 'day', 'week', 'month', 'quarter' or 'year'.`);
  }
  return granularity;
}

function bucketWidth(node: FunctionNode, field: string, context: ValueContext): BucketGranularity {
  const width = evaluate(node.children[0]!, field, context);
  const span = width.kind === 'interval' ? width.interval : width.kind === 'text' ? parseInterval(width.value) : undefined;
  const granularity = span === undefined ? undefined
    : span.months === 0 ? WIDTHS.get(span.ms)
      : span.ms === 0 ? CALENDAR_MONTHS.get(span.months) : undefined;
  if (granularity === undefined) {
    throw new TimeBucketError(field, `${field} buckets time by ${shown(width)}, which no granularity matches; use '1 minute', '1 hour', '1 day', '1 week', '1 month', '3 months' or '1 year'.`);
  }
  return granularity;
}

/**
 * The granularity of `floor(extract(epoch from time)/N)*N` (or with the
 * factors swapped), or undefined when `node` has another shape. Epoch
 * seconds are cut from 1970-01-01, a Thursday, so only minutes, hours and
 * days are granularities; a week or any other width is refused.
 */
function epochBucket(node: SqlNode, field: string): BucketGranularity | undefined {
  if (!isFunction(node) || node.function_name !== '*' || node.children.length !== 2) return undefined;
  const [a, b] = node.children as [SqlNode, SqlNode];
  const [floor, factor] = isFunction(a) && functionName(a) === 'floor' ? [a, b] : [b, a];
  if (!isFunction(floor) || functionName(floor) !== 'floor' || floor.children.length !== 1) return undefined;
  const quotient = floor.children[0]!;
  if (!isFunction(quotient) || quotient.function_name !== '/' || quotient.children.length !== 2 || !isEpochOfTime(quotient.children[0]!)) return undefined;
  const divisor = integerConstant(quotient.children[1]!);
  const multiplier = integerConstant(factor);
  if (divisor === undefined || divisor !== multiplier) {
    throw new TimeBucketError(field, `${field} must divide and multiply the epoch by the same whole number of seconds, as in floor(extract(epoch from time)/3600)*3600.`);
  }
  const granularity = divisor === 604_800 ? undefined : WIDTHS.get(divisor * 1000);
  if (granularity === undefined) {
    throw new TimeBucketError(field, `${field} buckets time by ${divisor} seconds, which no granularity matches; use 60, 3600 or 86400, or date_trunc('week', time) for weeks.`);
  }
  return granularity;
}

function integerConstant(node: SqlNode): number | undefined {
  if (!isConstant(node) || node.value.is_null || typeof node.value.value !== 'number' || node.value.type.id === 'DECIMAL') return undefined;
  return Number.isInteger(node.value.value) ? node.value.value : undefined;
}
