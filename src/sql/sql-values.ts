/**
 * The values a statement compares columns with, computed from the tree:
 * literals, `$n` parameters, casts, `now()` (one instant per statement),
 * `now() - interval '7 days'`, `to_timestamp(seconds)` and arithmetic on
 * numbers, times and intervals. Anything else is refused, naming where it is.
 *
 * @module
 */
import { parseIsoTime } from '../definitions/index.ts';
import { InvalidSqlValueError, SqlParameterError, UnsupportedSqlError } from './errors.ts';
import { parseInterval, shiftTime, type SqlInterval } from './sql-interval.ts';
import { functionName, isCast, isColumnRef, isConstant, isFunction, type ParameterNode, type SqlNode } from './sql-tree.ts';

/**
 * A computed value: SQL's null, a number, text, a boolean, an instant (epoch ms) or an interval.
 *
 * @example
 * ```ts
 * const day: SqlValue = { kind: 'interval', interval: { months: 0, ms: 86_400_000 } };
 * ```
 */
export type SqlValue =
  | { readonly kind: 'null' }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'time'; readonly ms: number }
  | { readonly kind: 'interval'; readonly interval: SqlInterval };

/**
 * What values are computed from: the request's parameters (which ones are
 * used is recorded, so that an unused one can be refused) and the instant
 * `now()` names.
 */
export interface ValueContext {
  readonly params: readonly unknown[];
  readonly now: number;
  readonly usedParams: Set<number>;
}

const NULL: SqlValue = { kind: 'null' };
const TIME_TYPES = new Set(['TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS', 'DATE']);
const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT']);
const NUMBER_TYPES = new Set([...INTEGER_TYPES, 'FLOAT', 'DOUBLE', 'DECIMAL']);
const TEXT_TYPES = new Set(['VARCHAR']);
const NOW_FUNCTIONS = new Set(['now', 'current_timestamp', 'get_current_timestamp', 'transaction_timestamp', 'localtimestamp']);
/** DuckDB's spelling of `INTERVAL 7 DAY`: `to_days(7)`. */
const INTERVAL_FUNCTIONS: Readonly<Record<string, SqlInterval>> = {
  to_milliseconds: { months: 0, ms: 1 }, to_seconds: { months: 0, ms: 1000 }, to_minutes: { months: 0, ms: 60_000 },
  to_hours: { months: 0, ms: 3_600_000 }, to_days: { months: 0, ms: 86_400_000 }, to_weeks: { months: 0, ms: 604_800_000 },
  to_months: { months: 1, ms: 0 }, to_years: { months: 12, ms: 0 },
};

const VALUE_HINT = "write a literal, a $n parameter, now() - interval '7 days' or to_timestamp(seconds)";

/**
 * The value `node` computes to, or a typed error naming `field`.
 *
 * @example
 * ```ts
 * evaluate(tree, 'where', { params: [], now: Date.now(), usedParams: new Set() });   // { kind: 'time', ms: … }
 * ```
 */
export function evaluate(node: SqlNode, field: string, context: ValueContext): SqlValue {
  if (isConstant(node)) return constant(node.value, field);
  if (node.class === 'PARAMETER') return parameter(node as ParameterNode, context);
  if (isCast(node)) return cast(evaluate(node.child, field, context), node.cast_type.id, field);
  // DuckDB reads CURRENT_TIMESTAMP without parentheses as a column of that name.
  if (isColumnRef(node) && node.column_names.length === 1 && NOW_FUNCTIONS.has(node.column_names[0]!.toLowerCase())) return { kind: 'time', ms: context.now };
  if (isFunction(node)) return call(functionName(node), node.children.map((child) => evaluate(child, field, context)), field, context);
  if (isColumnRef(node)) throw new UnsupportedSqlError(field, `${field} uses column '${node.column_names.join('.').slice(0, 64)}' where a value is needed; ${VALUE_HINT}.`);
  throw new UnsupportedSqlError(field, `${field} holds an expression Tandem cannot compute; ${VALUE_HINT}.`);
}

function constant(value: { type: { id: string; type_info?: { scale?: number } | null }; is_null: boolean; value?: unknown }, field: string): SqlValue {
  if (value.is_null) return NULL;
  const id = value.type.id;
  if (id === 'VARCHAR') return { kind: 'text', value: String(value.value) };
  if (id === 'BOOLEAN') return { kind: 'boolean', value: value.value === true };
  if (id === 'DECIMAL') {
    const scale = value.type.type_info?.scale ?? 0;
    return { kind: 'number', value: Number(`${String(value.value)}e-${scale}`) };
  }
  if (NUMBER_TYPES.has(id) && typeof value.value === 'number') return { kind: 'number', value: value.value };
  throw new InvalidSqlValueError(field, `${field} holds a constant of type ${id.toLowerCase()} that Tandem does not read (numbers must fit in 64 bits); ${VALUE_HINT}.`);
}

function parameter(node: ParameterNode, context: ValueContext): SqlValue {
  if (!/^\d{1,6}$/.test(node.identifier)) throw new SqlParameterError('sql', `Parameter $${node.identifier.slice(0, 64)} has a name; number parameters $1, $2, … in the order of params.`);
  const index = Number(node.identifier) - 1;
  if (index < 0 || index >= context.params.length) {
    throw new SqlParameterError(`params[${index}]`, `The SQL uses $${index + 1}, but params has ${context.params.length} value${context.params.length === 1 ? '' : 's'}; send one for each $n.`);
  }
  context.usedParams.add(index);
  const raw = context.params[index];
  if (raw === null) return NULL;
  if (typeof raw === 'string') return { kind: 'text', value: raw };
  if (typeof raw === 'boolean') return { kind: 'boolean', value: raw };
  if (typeof raw === 'number' && Number.isFinite(raw)) return { kind: 'number', value: raw };
  throw new SqlParameterError(`params[${index}]`, `params[${index}] must be a string, a number, a boolean or null.`);
}

const TRUE_TEXT = new Set(['t', 'true', 'y', 'yes', 'on', '1']);
const FALSE_TEXT = new Set(['f', 'false', 'n', 'no', 'off', '0']);

function cast(value: SqlValue, to: string, field: string): SqlValue {
  if (value.kind === 'null') return value;
  if (TIME_TYPES.has(to)) return { kind: 'time', ms: toTime(value, field) };
  if (to === 'INTERVAL') {
    const interval = value.kind === 'text' ? parseInterval(value.value) : value.kind === 'interval' ? value.interval : undefined;
    if (interval === undefined) throw new InvalidSqlValueError(field, `${field} casts ${shown(value)} to an interval; write it as interval '7 days' or '1 hour 30 minutes'.`);
    return { kind: 'interval', interval };
  }
  if (TEXT_TYPES.has(to)) return { kind: 'text', value: value.kind === 'time' ? new Date(value.ms).toISOString() : value.kind === 'interval' ? shown(value) : String(value.value) };
  if (to === 'BOOLEAN') {
    if (value.kind === 'boolean') return value;
    const text = value.kind === 'text' || value.kind === 'number' ? String(value.value).trim().toLowerCase() : '';
    if (TRUE_TEXT.has(text)) return { kind: 'boolean', value: true };
    if (FALSE_TEXT.has(text)) return { kind: 'boolean', value: false };
    throw new InvalidSqlValueError(field, `${field} casts ${shown(value)} to a boolean; write true or false.`);
  }
  if (NUMBER_TYPES.has(to)) {
    const n = value.kind === 'number' ? value.value : value.kind === 'text' && value.value.trim() !== '' ? Number(value.value) : Number.NaN;
    if (!Number.isFinite(n)) throw new InvalidSqlValueError(field, `${field} casts ${shown(value)} to a number; write a number.`);
    return { kind: 'number', value: INTEGER_TYPES.has(to) ? Math.round(n) : n };
  }
  throw new UnsupportedSqlError(field, `${field} casts to ${to.toLowerCase()}, which Tandem does not compute; cast to timestamptz, interval, text, boolean or a number type.`);
}

/**
 * An instant from a value: a time as is, text as ISO-8601 (a date, or a
 * date-time with an optional offset, UTC without), a number as epoch
 * milliseconds (as in the JSON query's `from` and `to`).
 */
export function toTime(value: SqlValue, field: string): number {
  if (value.kind === 'time') return value.ms;
  if (value.kind === 'number') return value.value;
  // PostgreSQL prints offsets of whole hours as `+00`; ISO-8601 wants `+00:00`.
  const ms = value.kind === 'text' ? parseIsoTime(value.value.trim().replace(/(\d\d:\d\d(?::\d\d(?:\.\d+)?)?[+-]\d\d)$/, '$1:00')) : Number.NaN;
  if (Number.isNaN(ms)) throw new InvalidSqlValueError(field, `${field} compares the time with ${shown(value)}, which is not a timestamp; write an ISO-8601 date-time such as '2024-05-01T00:00:00Z', epoch milliseconds, or now() - interval '1 day'.`);
  return ms;
}

function call(name: string, args: readonly SqlValue[], field: string, context: ValueContext): SqlValue {
  if (NOW_FUNCTIONS.has(name) && args.length === 0) return { kind: 'time', ms: context.now };
  if (args.some((a) => a.kind === 'null')) return NULL;
  const unit = INTERVAL_FUNCTIONS[name];
  if (unit !== undefined && args.length === 1) {
    const n = number(args[0]!, field, name);
    return { kind: 'interval', interval: { months: n * unit.months, ms: n * unit.ms } };
  }
  if (name === 'to_timestamp' && args.length === 1) return { kind: 'time', ms: Math.round(number(args[0]!, field, name) * 1000) };
  if ((name === 'trunc' || name === 'floor') && args.length === 1) return { kind: 'number', value: Math[name === 'trunc' ? 'trunc' : 'floor'](number(args[0]!, field, name)) };
  if ((name === '+' || name === '-') && args.length <= 2) return addOrSubtract(name, args, field);
  if ((name === '*' || name === '/') && args.length === 2) return multiplyOrDivide(name, args[0]!, args[1]!, field);
  throw new UnsupportedSqlError(field, `${field} calls ${name.slice(0, 64)}(), which Tandem does not compute; ${VALUE_HINT}.`);
}

function addOrSubtract(name: '+' | '-', args: readonly SqlValue[], field: string): SqlValue {
  const sign = name === '+' ? 1 : -1;
  const [a, b] = args;
  if (b === undefined) {
    if (a!.kind === 'number') return { kind: 'number', value: sign * a!.value };
    if (a!.kind === 'interval') return { kind: 'interval', interval: { months: sign * a!.interval.months, ms: sign * a!.interval.ms } };
  } else if (a!.kind === 'number' && b.kind === 'number') {
    return { kind: 'number', value: a!.value + sign * b.value };
  } else if (a!.kind === 'time' && b.kind === 'interval') {
    return { kind: 'time', ms: shiftTime(a!.ms, b.interval, sign) };
  } else if (a!.kind === 'interval' && b.kind === 'time' && sign === 1) {
    return { kind: 'time', ms: shiftTime(b.ms, a!.interval, 1) };
  } else if (a!.kind === 'interval' && b.kind === 'interval') {
    return { kind: 'interval', interval: { months: a!.interval.months + sign * b.interval.months, ms: a!.interval.ms + sign * b.interval.ms } };
  }
  throw new UnsupportedSqlError(field, `${field} applies ${name} to ${args.map(shown).join(' and ')}; add or subtract an interval to a time, or numbers.`);
}

function multiplyOrDivide(name: '*' | '/', a: SqlValue, b: SqlValue, field: string): SqlValue {
  if (a.kind === 'number' && b.kind === 'number') return { kind: 'number', value: name === '*' ? a.value * b.value : a.value / b.value };
  if (a.kind === 'interval' && b.kind === 'number') {
    const f = name === '*' ? b.value : 1 / b.value;
    return { kind: 'interval', interval: { months: a.interval.months * f, ms: a.interval.ms * f } };
  }
  throw new UnsupportedSqlError(field, `${field} applies ${name} to ${shown(a)} and ${shown(b)}; multiply or divide numbers, or an interval by a number.`);
}

function number(value: SqlValue, field: string, what: string): number {
  if (value.kind === 'number') return value.value;
  throw new InvalidSqlValueError(field, `${field} gives ${what}() ${shown(value)}; give it a number.`);
}

/**
 * A value as a message shows it: text quoted and cut to 64 characters.
 *
 * @example
 * ```ts
 * shown({ kind: 'text', value: 'DE' });   // "'DE'"
 * ```
 */
export function shown(value: SqlValue): string {
  switch (value.kind) {
    case 'null': return 'null';
    case 'text': return `'${value.value.slice(0, 64)}'`;
    case 'time': return Number.isFinite(value.ms) && Math.abs(value.ms) < 8.64e15 ? `timestamp '${new Date(value.ms).toISOString()}'` : 'a timestamp out of range';
    case 'interval': return `interval '${value.interval.months} months ${value.interval.ms} ms'`;
    default: return String(value.value);
  }
}
