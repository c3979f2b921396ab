/**
 * Intervals as SQL values: a count of months (calendar, as PostgreSQL keeps
 * them apart) and of milliseconds, from the text of `interval '7 days'`.
 * That text is a value the parser hands over as a string, not SQL; its
 * grammar is PostgreSQL's plain form, a list of `<number> <unit>` pairs,
 * read here with one regular expression. Times are within 1900–9999 (the
 * range a query may name), where `Date.UTC` reads every year as written.
 *
 * @module
 */
/**
 * A span of time: `months` moves along the calendar, `ms` by the clock.
 *
 * @example
 * ```ts
 * const week: SqlInterval = { months: 0, ms: 7 * 86_400_000 };
 * ```
 */
export interface SqlInterval {
  readonly months: number;
  readonly ms: number;
}

const SECOND = 1000;
const DAY = 86_400_000;

/** Each unit's span, by the names PostgreSQL and DuckDB take (singular and plural, and their abbreviations). */
const UNITS: Readonly<Record<string, SqlInterval>> = Object.fromEntries([
  [['millisecond', 'milliseconds', 'ms', 'msec', 'msecs'], { months: 0, ms: 1 }],
  [['second', 'seconds', 's', 'sec', 'secs'], { months: 0, ms: SECOND }],
  [['minute', 'minutes', 'm', 'min', 'mins'], { months: 0, ms: 60 * SECOND }],
  [['hour', 'hours', 'h', 'hr', 'hrs'], { months: 0, ms: 3600 * SECOND }],
  [['day', 'days', 'd'], { months: 0, ms: DAY }],
  [['week', 'weeks', 'w'], { months: 0, ms: 7 * DAY }],
  [['month', 'months', 'mon', 'mons'], { months: 1, ms: 0 }],
  [['year', 'years', 'y', 'yr', 'yrs'], { months: 12, ms: 0 }],
].flatMap(([names, span]) => (names as string[]).map((name) => [name, span as SqlInterval])));

const PAIR = /\s*([+-]?\d+(?:\.\d+)?)\s*([a-z]+)\s*/gy;

/**
 * The interval that text such as `'7 days'` or `'1 hour 30 minutes'` names,
 * or undefined when it is not a list of number-and-unit pairs.
 *
 * @example
 * ```ts
 * parseInterval('2 hours');   // { months: 0, ms: 7_200_000 }
 * ```
 */
export function parseInterval(text: string): SqlInterval | undefined {
  const lower = text.toLowerCase().trim();
  if (lower === '' || lower.length > 200) return undefined;
  let months = 0;
  let ms = 0;
  PAIR.lastIndex = 0;
  let at = 0;
  for (let match = PAIR.exec(lower); match !== null; match = PAIR.exec(lower)) {
    const unit = UNITS[match[2]!];
    if (unit === undefined) return undefined;
    const count = Number(match[1]);
    if (unit.months !== 0 && !Number.isInteger(count)) return undefined;
    months += count * unit.months;
    ms += count * unit.ms;
    at = PAIR.lastIndex;
  }
  return at === lower.length ? { months, ms } : undefined;
}

/**
 * `t` moved by `interval` times `sign`: months first along the UTC calendar
 * (a month from Jan 31 is the last day of February, as in PostgreSQL), then
 * milliseconds.
 *
 * @example
 * ```ts
 * shiftTime(Date.UTC(2024, 0, 31), { months: 1, ms: 0 }, 1);   // 2024-02-29
 * ```
 */
export function shiftTime(t: number, interval: SqlInterval, sign: 1 | -1): number {
  let shifted = t;
  if (interval.months !== 0) {
    const date = new Date(t);
    const month = date.getUTCFullYear() * 12 + date.getUTCMonth() + sign * interval.months;
    const year = Math.floor(month / 12);
    const monthOfYear = (month % 12 + 12) % 12;
    const lastDay = new Date(Date.UTC(year, monthOfYear + 1, 0)).getUTCDate();
    shifted = Date.UTC(year, monthOfYear, Math.min(date.getUTCDate(), lastDay)) + (t - Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  }
  return shifted + sign * interval.ms;
}
