/**
 * Calendar periods of local time: the day, week, month, quarter or year of a
 * time zone that holds an instant, and whether a view's UTC buckets fit
 * inside such periods, so that regrouping whole buckets is exact.
 *
 * @module
 */
import { bucketStart, type Granularity, type QueryGranularity } from './granularity.ts';
import type { TimeZone } from './time-zone.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The first instant of the local period of `granularity` in `zone` that
 * holds `t`: local midnight (or, where a change of offset skips midnight,
 * the change itself) of the period's first day, as epoch ms. Local days may
 * be 23 or 25 hours long; weeks start on Monday.
 *
 * @example
 * ```ts
 * localPeriodStart(TimeZone.named('Europe/Berlin')!, 'day', Date.parse('2026-03-29T12:00:00Z'));
 * // Date.parse('2026-03-28T23:00:00Z'): midnight in Berlin, before clocks went forward
 * ```
 */
export function localPeriodStart(zone: TimeZone, granularity: Exclude<QueryGranularity, 'all'>, t: number): number {
  if (zone.isUtc) return bucketStart(granularity, t);
  return zone.firstInstantAt(bucketStart(granularity, t + zone.offsetAt(t)));
}

/** The width whose multiples a view's buckets start and end on; none for days and coarser, whose ends are calendar dates. */
const WIDTH: Partial<Record<Granularity, number>> = { minute: MINUTE, hour: HOUR };

/**
 * Whether every bucket of a `view`-granularity view that starts in
 * `[from, to)` lies inside one local period of `zone`: then regrouping
 * whole buckets by the period of their start is exact. It does when each
 * offset the zone has there, and each instant it changes, is a whole
 * number of the view's buckets: hour views fit zones of whole-hour offsets,
 * minute views those of whole-minute offsets (India's +5:30, Eucla's
 * +8:45), and a day or coarser view fits only a zone that is UTC there.
 *
 * @example
 * ```ts
 * fitsLocalPeriods(TimeZone.named('Asia/Kolkata')!, 'hour', from, to);     // false: +5:30
 * fitsLocalPeriods(TimeZone.named('Asia/Kolkata')!, 'minute', from, to);   // true
 * ```
 */
export function fitsLocalPeriods(zone: TimeZone, view: Granularity, from: number, to: number): boolean {
  if (zone.isUtc || !(from < to)) return true;
  if (view === 'none') return false;
  const { first, changes } = zone.offsetsBetween(from, to);
  const width = WIDTH[view];
  if (width === undefined) return first === 0 && changes.length === 0;
  return first % width === 0 && changes.every((c) => c.at % width === 0 && c.offset % width === 0);
}

/**
 * The coarsest view granularity that fits `zone`'s local periods over
 * `[from, to)` ({@link fitsLocalPeriods}): `hour`, `minute`, or undefined
 * where the zone's offset there is not a whole number of minutes.
 *
 * @example
 * ```ts
 * viewThatFits(TimeZone.named('Australia/Lord_Howe')!, from, to);   // 'minute' (+10:30 and +11)
 * ```
 */
export function viewThatFits(zone: TimeZone, from: number, to: number): 'hour' | 'minute' | undefined {
  if (fitsLocalPeriods(zone, 'hour', from, to)) return 'hour';
  return fitsLocalPeriods(zone, 'minute', from, to) ? 'minute' : undefined;
}
