/**
 * Turns one user-supplied value into the normalized form both layers compute
 * with. The log stores normalized values, so the batch layer reads exactly what
 * the speed layer saw.
 *
 * @module
 */
import { InvalidEventError } from './errors.ts';
import type { Field } from './field.ts';
import { maxMagnitude, toScaled } from './scaled-number.ts';
import type { Value } from './schema.ts';

/** Earliest and latest event times accepted: 1900-01-01 to the end of 9999, in UTC. */
export const MIN_TIME = Date.UTC(1900, 0, 1);
export const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Longest string value accepted, in UTF-16 code units. */
export const MAX_STRING_LENGTH = 65_536;

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

function fail(field: Field, message: string): never {
  throw new InvalidEventError(field.name, `Field '${field.name}' ${message}.`);
}

/** Parses an ISO-8601 date or date-time; a date-time without an offset is taken as UTC. Returns NaN when invalid. */
export function parseIsoTime(text: string): number {
  const m = ISO_8601.exec(text);
  if (m === null) return NaN;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number, number, number, number, number, number,
  ];
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const t = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const d = new Date(t);
  // Date.UTC rolls 2024-02-30 over to March; a real date round-trips.
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return NaN;
  if (hour > 23 || minute > 59 || second > 59) return NaN;
  return t - offsetMillis(m[8]);
}

function offsetMillis(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

function normalizeTimestamp(field: Field, raw: unknown): number {
  let t: number;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) fail(field, 'must be epoch milliseconds (an integer) or an ISO-8601 string');
    t = raw;
  } else if (typeof raw === 'string') {
    t = parseIsoTime(raw);
    if (Number.isNaN(t)) fail(field, `must be an ISO-8601 date-time such as 2024-05-01T12:00:00Z; got ${JSON.stringify(raw.slice(0, 40))}`);
  } else {
    return fail(field, `must be a timestamp (ISO-8601 string or epoch milliseconds), not ${describe(raw)}`);
  }
  if (t < MIN_TIME || t > MAX_TIME) fail(field, 'must fall between the years 1900 and 9999');
  return t;
}

function normalizeNumber(field: Field, raw: unknown): number {
  if (typeof raw !== 'number') return fail(field, `must be a number, not ${describe(raw)}`);
  if (!Number.isFinite(raw)) fail(field, 'must be a finite number');
  const scaled = toScaled(raw, field.scale);
  if (scaled === undefined) {
    if (Math.abs(raw) > maxMagnitude(field.scale)) {
      fail(field, `must be within ±${maxMagnitude(field.scale)} at scale ${field.scale}; declare a smaller scale for larger values`);
    }
    fail(field, `has more than ${field.scale} decimal places; declare a larger scale to keep them`);
  }
  return scaled;
}

function normalizeString(field: Field, raw: unknown): string {
  if (typeof raw !== 'string') return fail(field, `must be a string, not ${describe(raw)}`);
  if (raw.length > MAX_STRING_LENGTH) fail(field, `is longer than ${MAX_STRING_LENGTH} characters`);
  if (!raw.isWellFormed()) fail(field, 'contains invalid Unicode (a lone surrogate)');
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
