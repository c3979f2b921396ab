/**
 * The live validator's rules (`definitions/normalize-value.ts`) written as
 * DuckDB SQL, so that a history import checks and normalizes rows where
 * they are read, without passing them through JavaScript. For one field and
 * one kind of input value, {@link valueCheck} gives the SQL of the problem
 * (a sentence naming the field, or NULL when the value is good) and of the
 * normalized value as the master dataset stores it. `test/master/history-checks.test.ts`
 * holds it to the JavaScript validator with fast-check.
 *
 * Field names come from definitions (letters, digits, underscores) and
 * appear only through {@link sqlIdentifier} and {@link sqlStringLiteral};
 * no text from the file is ever spliced into the SQL.
 *
 * @module
 */
import { MAX_TIME, MIN_TIME, sqlStringLiteral, type Field } from '../definitions/index.ts';
import { decimalString } from '../definitions/scaled-number.ts';

/** What an input value is, as DuckDB reads it: a column's type, or a JSON value's. */
export type InputKind = 'string' | 'integer' | 'double' | 'decimal' | 'boolean' | 'timestamp' | 'other';

/** SQL for one value of a field: its problem (NULL when good) and its normalized value. */
export interface ValueCheck {
  readonly problem: string;
  readonly value: string;
}

const MAX_SAFE = '9007199254740991';
const ISO_8601 = String.raw`(?i)^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?(?:Z|([+-][0-9]{2}):?([0-9]{2}))?)?$`;

function say(field: Field, text: string): string {
  return sqlStringLiteral(`Field '${field.name}' ${text}`);
}

/** A sentence ending in the value as JSON text, cut to 40 characters as the live validator shows it. */
function sayShown(field: Field, text: string, v: string): string {
  return `${say(field, text)} || to_json(left(${v}, 40))::VARCHAR || '.'`;
}

/** The live validator's `describe`: what kind of value it got, for "must be X, not Y". */
function described(kind: InputKind, v: string): string {
  switch (kind) {
    case 'string': return `'string ' || to_json(left(${v}, 40))::VARCHAR`;
    case 'integer': case 'double': case 'decimal': return `'number ' || left(CAST(${v} AS VARCHAR), 40)`;
    case 'boolean': return `'boolean ' || CAST(${v} AS VARCHAR)`;
    case 'timestamp': return `'a timestamp'`;
    case 'other': return `'an object or array'`;
  }
}

function wrongKind(field: Field, expected: string, kind: InputKind, v: string): ValueCheck {
  return { problem: `${say(field, `must be ${expected}, not `)} || ${described(kind, v)} || '.'`, value: 'NULL' };
}

/**
 * The problem and the normalized value of `v`, a non-NULL value of kind
 * `kind`, for `field`.
 *
 * @example
 * ```ts
 * const { problem, value } = valueCheck({ name: 'amount', type: 'number', scale: 2, optional: false, maxLength: 256 }, 'double', '"amount"');
 * // problem: CASE WHEN NOT isfinite("amount") THEN 'Field ''amount'' must be a finite number.' … END
 * ```
 */
export function valueCheck(field: Field, kind: InputKind, v: string): ValueCheck {
  switch (field.type) {
    case 'string': return kind === 'string' ? stringCheck(field, v) : wrongKind(field, 'a string', kind, v);
    case 'boolean': return kind === 'boolean' ? { problem: 'NULL', value: v } : wrongKind(field, 'true or false', kind, v);
    case 'number': return numberCheck(field, kind, v);
    case 'timestamp': return timestampCheck(field, kind, v);
  }
}

/** UTF-16 code units, what the live validator's `length` counts: a character past U+FFFF counts twice. */
function utf16Length(v: string): string {
  return `(length(${v}) + length(regexp_replace(${v}, '[^\\x{10000}-\\x{10FFFF}]', '', 'g')))`;
}

function stringCheck(field: Field, v: string): ValueCheck {
  // A UTF-16 length never exceeds the UTF-8 byte length: the regex runs only for the rare long value.
  const tooLong = `strlen(${v}) > ${field.maxLength} AND ${utf16Length(v)} > ${field.maxLength}`;
  return {
    problem: `CASE WHEN ${tooLong} THEN ${say(field, `is longer than ${field.maxLength.toLocaleString('en-US')} characters.`)} WHEN contains(${v}, chr(0)) THEN ${say(field, 'contains a NUL character.')} END`,
    value: v,
  };
}

function outOfRange(field: Field): string {
  return say(field, `must be within ±${MAX_SAFE} at scale ${field.scale}.`);
}

function tooPrecise(field: Field): string {
  return say(field, `has more than ${field.scale} decimal places; declare a larger scale to keep them.`);
}

/** The scaled integer as the master dataset's DECIMAL(18, scale), as the export writes it; NULL (never an error) for a value the checks refuse. */
function decimalOf(scaled: string, scale: number): string {
  return scale === 0
    ? `TRY_CAST(${scaled} AS DECIMAL(18, 0))`
    : `CAST(TRY_CAST(${scaled} AS DECIMAL(18, 0)) * CAST('${(10 ** -scale).toFixed(scale)}' AS DECIMAL(18, ${scale})) AS DECIMAL(18, ${scale}))`;
}

function numberCheck(field: Field, kind: InputKind, v: string): ValueCheck {
  const p = 10 ** field.scale;
  switch (kind) {
    case 'integer':
      return { problem: `CASE WHEN abs(CAST(${v} AS HUGEINT)) * ${p} > ${MAX_SAFE} THEN ${outOfRange(field)} END`, value: decimalOf(`CAST(${v} AS HUGEINT) * ${p}`, field.scale) };
    case 'double': {
      // The same double arithmetic as `toScaled`: exact when the value is the double nearest a decimal of `scale` digits.
      const scaled = `round(CAST(${v} AS DOUBLE) * ${p})`;
      const problem = `CASE WHEN NOT isfinite(${v}) THEN ${say(field, 'must be a finite number.')}
        WHEN abs(${scaled}) > ${MAX_SAFE} OR ${scaled} / ${p} <> ${v} THEN CASE WHEN abs(${v}) > ${MAX_SAFE} / ${p} THEN ${outOfRange(field)} ELSE ${tooPrecise(field)} END END`;
      return { problem, value: `CASE WHEN isfinite(${v}) AND abs(${scaled}) <= ${MAX_SAFE} THEN ${decimalOf(`CAST(${scaled} AS BIGINT)`, field.scale)} END` };
    }
    case 'decimal':
      return decimalCheck(field, v);
    case 'string':
      return decimalTextCheck(field, v);
    default:
      return wrongKind(field, 'a number', kind, v);
  }
}

/**
 * A DECIMAL holds its value exactly, so the text rule's verdicts come from
 * decimal arithmetic (its text through the regexes cost ten times more):
 * digits past the scale must be zeros, and the scaled value must be safe.
 * DECIMAL(18, scale) holds every safe scaled value, so a failed cast to it
 * means out of range.
 */
function decimalCheck(field: Field, v: string): ValueCheck {
  const s = field.scale;
  const d = `TRY_CAST(${v} AS DECIMAL(18, ${s}))`;
  const bound = `CAST('${decimalString(BigInt(MAX_SAFE), s)}' AS DECIMAL(18, ${s}))`;
  return {
    problem: `CASE WHEN round(${v}, ${s}) <> ${v} THEN ${tooPrecise(field)} WHEN ${d} IS NULL OR abs(${d}) > ${bound} THEN ${outOfRange(field)} END`,
    value: d,
  };
}

/** `scaledFromText`: digits past the scale must be zeros, and the scaled integer must be safe. */
function decimalTextCheck(field: Field, v: string): ValueCheck {
  const s = field.scale;
  const fraction = `regexp_extract(${v}, '\\.([0-9]+)$', 1)`;
  const digits = `ltrim(regexp_extract(${v}, '^-?([0-9]+)', 1) || rpad(left(${fraction}, ${s}), ${s}, '0'), '0')`;
  const problem = `CASE WHEN NOT regexp_full_match(${v}, '-?[0-9]+(\\.[0-9]+)?') THEN ${sayShown(field, 'must be a number, or a decimal string such as "12.50"; got ', v)}
    WHEN regexp_matches(substr(${fraction}, ${s + 1}), '[^0]') THEN ${tooPrecise(field)}
    WHEN length(${digits}) > 16 OR (length(${digits}) = 16 AND ${digits} > '${MAX_SAFE}') THEN ${outOfRange(field)} END`;
  const scaled = `(CASE WHEN starts_with(${v}, '-') THEN -1 ELSE 1 END) * CAST(CASE WHEN ${digits} = '' THEN '0' ELSE ${digits} END AS BIGINT)`;
  return { problem, value: `CASE WHEN regexp_full_match(${v}, '-?[0-9]+(\\.[0-9]+)?') AND length(${digits}) <= 16 THEN ${decimalOf(`TRY_CAST(${scaled} AS BIGINT)`, s)} END` };
}

function outOfYears(field: Field, ms: string): string {
  return `CASE WHEN ${ms} < ${MIN_TIME} OR ${ms} > ${MAX_TIME} THEN ${say(field, 'must fall between the years 1900 and 9999.')} END`;
}

function timestampCheck(field: Field, kind: InputKind, v: string): ValueCheck {
  switch (kind) {
    case 'integer':
      return { problem: outOfYears(field, v), value: `epoch_ms(CAST(${v} AS BIGINT))` };
    case 'double':
      return {
        problem: `CASE WHEN NOT isfinite(${v}) OR ${v} <> floor(${v}) THEN ${say(field, 'must be epoch milliseconds (an integer) or an ISO-8601 string.')} ELSE ${outOfYears(field, v)} END`,
        value: `CASE WHEN isfinite(${v}) AND abs(${v}) < 1e15 THEN epoch_ms(CAST(${v} AS BIGINT)) END`,
      };
    case 'timestamp':
      return { problem: outOfYears(field, `epoch_ms(${v})`), value: `epoch_ms(epoch_ms(${v}))` };
    case 'string':
      return timestampTextCheck(field, v);
    default:
      return wrongKind(field, 'a timestamp (ISO-8601 string or epoch milliseconds)', kind, v);
  }
}

/** `normalizeTimestamp` for text: 12 or 13 digits are epoch milliseconds, anything else must be ISO-8601. */
function timestampTextCheck(field: Field, v: string): ValueCheck {
  const epoch = `regexp_full_match(${v}, '[0-9]{12,13}')`;
  const ms = isoMillis(v);
  const problem = `CASE WHEN ${epoch} THEN ${outOfYears(field, `CAST(${v} AS BIGINT)`)}
    WHEN NOT regexp_matches(${v}, ${sqlStringLiteral(ISO_8601)}) THEN CASE WHEN regexp_full_match(${v}, '[0-9]+')
      THEN ${sayShown(field, 'must be an ISO-8601 date-time or epoch milliseconds (12 or 13 digits); ambiguous: ', v)}
      ELSE ${sayShown(field, 'must be an ISO-8601 date-time such as 2024-05-01T12:00:00Z; got ', v)} END
    WHEN ${isoImpossible(v)} THEN ${sayShown(field, 'must be a real ISO-8601 date-time; no such date or time: ', v)}
    WHEN ${isoBadOffset(v)} THEN ${sayShown(field, 'must be an ISO-8601 date-time with a UTC offset from -23:59 to +23:59; got ', v)}
    ELSE ${outOfYears(field, ms)} END`;
  return { problem, value: `CASE WHEN ${epoch} THEN epoch_ms(CAST(${v} AS BIGINT)) ELSE epoch_ms(TRY_CAST(${ms} AS BIGINT)) END` };
}

/** Group `n` of the ISO-8601 match, as an integer (0 when the group took no part). */
function part(v: string, n: number): string {
  return `coalesce(TRY_CAST(regexp_extract(${v}, ${sqlStringLiteral(ISO_8601)}, ${n}) AS BIGINT), 0)`;
}

function isoImpossible(v: string): string {
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((n) => part(v, n)) as [string, string, string, string, string, string];
  const leap = `(${y} % 4 = 0 AND (${y} % 100 <> 0 OR ${y} % 400 = 0))`;
  const days = `CASE WHEN ${mo} = 2 THEN CASE WHEN ${leap} THEN 29 ELSE 28 END WHEN ${mo} IN (4, 6, 9, 11) THEN 30 ELSE 31 END`;
  return `(${mo} < 1 OR ${mo} > 12 OR ${d} < 1 OR ${h} > 23 OR ${mi} > 59 OR ${s} > 59 OR ${d} > ${days})`;
}

/** The offset's hours with their sign (group 8) and minutes (group 9): RE2 numbers at most nine groups. */
function isoBadOffset(v: string): string {
  return `(abs(${part(v, 8)}) > 23 OR ${part(v, 9)} > 59)`;
}

/** `utcMillis` of the match minus its offset: the day count in 400-year eras, in integer arithmetic. */
function isoMillis(v: string): string {
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((n) => part(v, n)) as [string, string, string, string, string, string];
  const millis = `CAST(left(rpad(regexp_extract(${v}, ${sqlStringLiteral(ISO_8601)}, 7), 3, '0'), 3) AS BIGINT)`;
  const y = `(${year} - CASE WHEN ${month} <= 2 THEN 1 ELSE 0 END)`;
  const era = `CAST(floor(${y} / 400.0) AS BIGINT)`;
  const yoe = `(${y} - ${era} * 400)`;
  const doy = `((153 * (CASE WHEN ${month} > 2 THEN ${month} - 3 ELSE ${month} + 9 END) + 2) // 5 + ${day} - 1)`;
  const doe = `(${yoe} * 365 + ${yoe} // 4 - ${yoe} // 100 + ${doy})`;
  const days = `(${era} * 146097 + ${doe} - 719468)`;
  const sign = `CASE WHEN starts_with(regexp_extract(${v}, ${sqlStringLiteral(ISO_8601)}, 8), '-') THEN -1 ELSE 1 END`;
  const offset = `(${sign} * (abs(${part(v, 8)}) * 60 + ${part(v, 9)}) * 60000)`;
  return `(${days} * 86400000 + ${hour} * 3600000 + ${minute} * 60000 + ${second} * 1000 + ${millis} - ${offset})`;
}
