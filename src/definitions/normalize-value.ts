/**
 * Turns one user-supplied value into the normalized form both layers compute
 * with. The log stores normalized values, so the batch layer reads exactly what
 * the speed layer saw.
 *
 * @module
 */
import { InvalidEventError } from './errors.ts';
import { MAX_STRING_LENGTH, type Field } from './field.ts';
import { decimalString, maxMagnitude, toScaled } from './scaled-number.ts';
import type { Value } from './value.ts';

/**
 * Epoch milliseconds of a UTC calendar date and time, computed from the day
 * count (proleptic Gregorian calendar), so that every year is taken as
 * written: `Date.UTC` and `new Date(y, …)` read the years 0–99 as 1900–1999.
 * The parts must already be in range (month 1–12, day 1–31, …).
 */
export function utcMillis(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millis = 0): number {
  // Days since 1970-01-01, counted in 400-year eras from a year that starts in March (leap days fall at its end).
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  const days = era * 146_097 + dayOfEra - 719_468;
  return days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis;
}

/**
 * Earliest and latest event times accepted: 1900-01-01 to the end of 9999, in UTC.
 *
 * @example
 * ```ts
 * if (Date.parse(at) < MIN_TIME) console.warn('Tandem refuses events before 1900');
 * ```
 */
export const MIN_TIME = utcMillis(1900, 1, 1);
/**
 * The latest event time accepted: the end of the year 9999, in UTC.
 *
 * @example
 * ```ts
 * if (Date.parse(at) > MAX_TIME) console.warn('Tandem refuses events after 9999');
 * ```
 */
export const MAX_TIME = utcMillis(9999, 12, 31, 23, 59, 59, 999);


/**
 * A date, or a date-time with `T` or a space, optional seconds and fraction,
 * and an optional offset: `Z`, or `±hh:mm` / `±hhmm` (RFC 3339 ranges: hours
 * 00–23, minutes 00–59, checked after the match).
 */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))?)?$/i;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Why a string is not a timestamp. */
type IsoProblem = 'shape' | 'no such time' | 'offset';

function fail(field: Field, message: string): never {
  throw new InvalidEventError(field.name, `Field '${field.name}' ${message}.`);
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** Epoch ms of an ISO-8601 string, or why it is not one. */
function parseIso(text: string): number | IsoProblem {
  const m = ISO_8601.exec(text);
  if (m === null) return 'shape';
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return 'no such time';
  if (day > (month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!)) return 'no such time';
  // Digits past the millisecond are dropped (toward the earlier instant), never rounded into the next second.
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  let offset = 0;
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10]);
    const offsetMinutes = Number(m[11]);
    if (offsetHours > 23 || offsetMinutes > 59) return 'offset';
    offset = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  }
  return utcMillis(year, month, day, hour, minute, second, millis) - offset;
}

/**
 * Parses an ISO-8601 date or date-time; a date-time without an offset is
 * taken as UTC. Every year 0000–9999 is read as written (0099 is the year
 * 99, not 1999); the caller checks the range it allows. Offsets are `Z` or
 * `±hh:mm` / `±hhmm` with hours 00–23 and minutes 00–59. Returns NaN when
 * invalid.
 */
export function parseIsoTime(text: string): number {
  const t = parseIso(text);
  return typeof t === 'number' ? t : NaN;
}

/**
 * Epoch milliseconds written as text, as CSV exports and some JSON writers
 * send them: 12 or 13 digits, the years 1973 to 2286. Shorter digit strings
 * stay refused, as they are ambiguous: a year, a compact date, or epoch
 * seconds would all be read as some instant in 1970.
 */
const EPOCH_MILLIS_TEXT = /^\d{12,13}$/;

function normalizeTimestamp(field: Field, raw: unknown): number {
  let t: number;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) fail(field, 'must be epoch milliseconds (an integer) or an ISO-8601 string');
    t = raw;
  } else if (typeof raw === 'string' && EPOCH_MILLIS_TEXT.test(raw)) {
    t = Number(raw);
  } else if (typeof raw === 'string') {
    const parsed = parseIso(raw);
    if (typeof parsed !== 'number') {
      const shown = JSON.stringify(raw.slice(0, 40));
      if (parsed === 'shape' && /^\d+$/.test(raw)) {
        fail(field, `must be an ISO-8601 date-time or epoch milliseconds (12 or 13 digits); ${shown} is ambiguous (a year, a compact date or epoch seconds?)`);
      }
      if (parsed === 'shape') fail(field, `must be an ISO-8601 date-time such as 2024-05-01T12:00:00Z; got ${shown}`);
      if (parsed === 'no such time') fail(field, `must be a real ISO-8601 date-time; ${shown} names a date or time that does not exist`);
      return fail(field, `must be an ISO-8601 date-time with a UTC offset from -23:59 to +23:59; got ${shown}`);
    }
    t = parsed;
  } else {
    return fail(field, `must be a timestamp (ISO-8601 string or epoch milliseconds), not ${describe(raw)}`);
  }
  if (t < MIN_TIME || t > MAX_TIME) fail(field, 'must fall between the years 1900 and 9999');
  return t;
}

/** Why a value is too large for its field, with the bound as exact decimal text (a double would round it). */
function outOfRange(field: Field): string {
  return `must be within ±${decimalString(BigInt(Number.MAX_SAFE_INTEGER), field.scale)} at scale ${field.scale}; declare a smaller scale for larger values`;
}

/** A decimal written as text, exactly: an optional minus, digits, and optional digits after a point. No exponent, no spaces, no plus. */
const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * The scaled integer of a decimal string, computed from its digits (never
 * through a double, so `"0.1"` at scale 2 is exactly 10). Digits past the
 * scale must be zeros; a value beyond the safe range is refused as a number
 * would be.
 */
function scaledFromText(field: Field, text: string): number {
  const m = DECIMAL_TEXT.exec(text);
  if (m === null) return fail(field, `must be a number, or a decimal string such as "12.50"; got ${JSON.stringify(text.slice(0, 40))}`);
  const fraction = m[3] ?? '';
  if (/[^0]/.test(fraction.slice(field.scale))) fail(field, `has more than ${field.scale} decimal places; declare a larger scale to keep them`);
  const digits = (m[2]! + fraction.slice(0, field.scale).padEnd(field.scale, '0')).replace(/^0+(?=\d)/, '');
  const scaled = Number(digits);
  if (!Number.isSafeInteger(scaled) || digits.length > 16) {
    fail(field, outOfRange(field));
  }
  // -0 is 0: a scaled integer has one zero.
  return m[1] === '-' && scaled !== 0 ? -scaled : scaled;
}

function normalizeNumber(field: Field, raw: unknown): number {
  if (typeof raw === 'string') return scaledFromText(field, raw);
  if (typeof raw !== 'number') return fail(field, `must be a number, not ${describe(raw)}`);
  if (!Number.isFinite(raw)) fail(field, 'must be a finite number');
  const scaled = toScaled(raw, field.scale);
  if (scaled === undefined) {
    if (Math.abs(raw) > maxMagnitude(field.scale)) {
      fail(field, outOfRange(field));
    }
    fail(field, `has more than ${field.scale} decimal places; declare a larger scale to keep them`);
  }
  return scaled;
}

/**
 * Whether a string holds no lone surrogate: Node 20's native
 * `String.prototype.isWellFormed`, called through its own type so that
 * Tandem's sources compile with the `ES2022` lib (Node 20's baseline) as
 * well as with later ones; the method is ES2024's.
 */
export function isWellFormedUnicode(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

function tooLong(field: Field): string {
  const most = `is longer than ${field.maxLength.toLocaleString('en-US')} characters`;
  return field.maxLength < MAX_STRING_LENGTH ? `${most}, the most it may hold; declare a larger maxLength on the field (up to ${MAX_STRING_LENGTH.toLocaleString('en-US')}) to keep longer values` : most;
}

function normalizeString(field: Field, raw: unknown): string {
  if (typeof raw !== 'string') return fail(field, `must be a string, not ${describe(raw)}`);
  if (raw.length > field.maxLength) fail(field, tooLong(field));
  if (!isWellFormedUnicode(raw)) fail(field, 'contains invalid Unicode (a lone surrogate)');
  if (raw.includes('\u0000')) fail(field, 'contains a NUL character');
  return raw;
}

export function describe(raw: unknown): string {
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'an array';
  return typeof raw === 'object' ? 'an object' : `${typeof raw} ${JSON.stringify(raw)?.slice(0, 40)}`;
}

/** Validates and normalizes one value of `field`; throws {@link InvalidEventError} naming the field. */
export function normalizeValue(field: Field, raw: unknown): Value {
  if (raw === undefined || raw === null) return missing(field, raw);
  switch (field.type) {
    case 'string':
      return normalizeString(field, raw);
    case 'number':
      return normalizeNumber(field, raw);
    case 'boolean':
      return normalizeBoolean(field, raw);
    case 'timestamp':
      return normalizeTimestamp(field, raw);
  }
}

/**
 * {@link normalizeValue} for one field, with the field's type decided once:
 * what a compiled validator calls, so each call site sees one small function.
 */
export function valueNormalizer(field: Field): (raw: unknown) => Value {
  const normalize = { string: normalizeString, number: normalizeNumber, boolean: normalizeBoolean, timestamp: normalizeTimestamp }[field.type];
  return (raw) => (raw === undefined || raw === null ? missing(field, raw) : normalize(field, raw));
}

function missing(field: Field, raw: null | undefined): null {
  if (field.optional) return null;
  return fail(field, raw === null ? 'must not be null' : 'is required');
}

function normalizeBoolean(field: Field, raw: unknown): boolean {
  return typeof raw === 'boolean' ? raw : fail(field, `must be true or false, not ${describe(raw)}`);
}
