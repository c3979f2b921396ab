/**
 * Time buckets in UTC. The JavaScript functions here and the SQL expressions
 * in {@link bucketSql} must agree to the millisecond: the conformance suite
 * checks them against each other.
 *
 * @module
 */

/** The time granularity of a view. `none` means the view has no time dimension. */
export const GRANULARITIES = ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year', 'none'] as const;
/**
 * The time buckets of a view: `minute` to `year` (weeks start on Monday,
 * quarters in January, April, July and October; all in UTC), or `none` for no time.
 *
 * @example
 * ```ts
 * defineView(order, { name: 'daily', dimensions: [], granularity: 'day' satisfies Granularity, measures: { n: { type: 'count' } } });
 * ```
 */
export type Granularity = (typeof GRANULARITIES)[number];

/**
 * A query may also roll every bucket up into one: `all`.
 *
 * @example
 * ```ts
 * await tandem.query({ view: 'revenue_by_country', granularity: 'all' satisfies QueryGranularity });
 * ```
 */
export type QueryGranularity = Exclude<Granularity, 'none'> | 'all';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** 1970-01-05 was a Monday: ISO weeks start on Mondays. */
const FIRST_MONDAY = 4 * DAY;

const FIXED_WIDTH: Partial<Record<Granularity, number>> = { minute: MINUTE, hour: HOUR, day: DAY };

/** The shortest a bucket of each granularity can be (a month: 28 days), to bound how many buckets a time range spans. */
export const SHORTEST_BUCKET_MS: Readonly<Record<Exclude<Granularity, 'none'>, number>> = {
  minute: MINUTE, hour: HOUR, day: DAY, week: WEEK, month: 28 * DAY, quarter: 90 * DAY, year: 365 * DAY,
};

/** The Gregorian mean year: 365.2425 days. */
const MEAN_YEAR = 365.2425 * DAY;

/** A bucket's usual width (a month: the Gregorian mean of 30.44 days), for laying buckets out on a chart. */
export const TYPICAL_BUCKET_MS: Readonly<Record<Exclude<Granularity, 'none'>, number>> = {
  ...SHORTEST_BUCKET_MS, month: MEAN_YEAR / 12, quarter: MEAN_YEAR / 4, year: MEAN_YEAR,
};

/** How many months a bucket of a calendar granularity spans. */
const MONTHS: Readonly<Record<'month' | 'quarter' | 'year', number>> = { month: 1, quarter: 3, year: 12 };

function floorTo(t: number, width: number, origin = 0): number {
  return Math.floor((t - origin) / width) * width + origin;
}

/** The start (epoch ms, UTC) of the bucket that holds `t`. `none` and `all` map everything to 0. */
export function bucketStart(granularity: Granularity | QueryGranularity, t: number): number {
  switch (granularity) {
    case 'minute':
    case 'hour':
    case 'day':
      return floorTo(t, FIXED_WIDTH[granularity]!);
    case 'week':
      return floorTo(t, WEEK, FIRST_MONDAY);
    case 'month':
    case 'quarter':
    case 'year': {
      // Not Date.UTC(year, ...), which reads years 0–99 as 1900–1999.
      const d = new Date(t);
      const month = d.getUTCMonth();
      d.setUTCMonth(month - (month % MONTHS[granularity]), 1);
      return d.setUTCHours(0, 0, 0, 0);
    }
    case 'none':
    case 'all':
      return 0;
  }
}

/** {@link bucketStart} of the first `count` times, written to `out`: one pass, the granularity decided once. */
export function bucketStarts(granularity: Granularity, times: Float64Array, count: number, out: Float64Array): void {
  const width = FIXED_WIDTH[granularity];
  if (width !== undefined) {
    for (let i = 0; i < count; i++) out[i] = floorTo(times[i]!, width);
  } else {
    for (let i = 0; i < count; i++) out[i] = bucketStart(granularity, times[i]!);
  }
}

/** The start of the bucket after the one starting at `start`. */
export function nextBucket(granularity: Exclude<Granularity, 'none'>, start: number): number {
  switch (granularity) {
    case 'minute':
    case 'hour':
    case 'day':
      return start + FIXED_WIDTH[granularity]!;
    case 'week':
      return start + WEEK;
    case 'month':
    case 'quarter':
    case 'year': {
      const d = new Date(start);
      return d.setUTCMonth(d.getUTCMonth() + MONTHS[granularity], 1);
    }
  }
}

const RANK: Record<Granularity | QueryGranularity, number> = {
  minute: 1, hour: 2, day: 3, week: 4, month: 4, quarter: 5, year: 6, all: 7, none: 8,
};

/**
 * Whether buckets of `fine` roll up exactly into buckets of `coarse`. A week
 * may straddle two months (and so two quarters or years), so weeks roll up
 * into nothing but `all`, and nothing but minutes, hours and days into weeks.
 */
export function rollsUpInto(fine: Granularity, coarse: QueryGranularity): boolean {
  if (coarse === 'all') return true;
  if (fine === 'none') return false;
  if (fine === coarse) return true;
  if (coarse === 'week') return RANK[fine] < RANK.week;
  if (fine === 'week') return false;
  return RANK[fine] < RANK[coarse];
}

/**
 * DuckDB expression (BIGINT epoch ms) for the bucket of a TIMESTAMP column
 * expression. Fixed-width buckets are integer arithmetic on epoch ms, as in
 * {@link floorTo}, which DuckDB computes faster than `date_trunc` (see
 * docs/benchmarks.md). DuckDB's `%` keeps the dividend's sign, hence the
 * second `%`, which floors times before 1970 as well.
 */
export function bucketSql(granularity: Granularity, timestampColumn: string): string {
  if (granularity === 'none') return '0::BIGINT';
  if (granularity === 'month' || granularity === 'quarter' || granularity === 'year') return `epoch_ms(date_trunc('${granularity}', ${timestampColumn}))`;
  const width = granularity === 'week' ? WEEK : FIXED_WIDTH[granularity]!;
  const origin = granularity === 'week' ? FIRST_MONDAY : 0;
  const t = `epoch_ms(${timestampColumn})`;
  return `(${t} - ((${t} - ${origin}) % ${width} + ${width}) % ${width})`;
}
