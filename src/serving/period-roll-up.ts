/**
 * The answer's time buckets, found from the view's stored ones. Stored
 * buckets are UTC; a query's granularity regroups each whole bucket into the
 * period that holds its start: a UTC one, or a local one of the query's time
 * zone. The batch and the speed tables go through the same regrouping, so
 * the merged answer is the one a recomputation over every event gives, as
 * long as each stored bucket lies inside one local period. That is checked
 * over the buckets the answer reads, and refused with
 * {@link TimeZoneRollUpError} where it fails.
 *
 * @module
 */
import { bucketStart, fitsLocalPeriods, localPeriodStart, nextBucket, viewThatFits } from '../definitions/index.ts';
import { TimeZoneRollUpError } from './errors.ts';
import type { QueryPlan } from './query-plan.ts';

/**
 * One query's regrouping of stored buckets into answer buckets. In a time
 * zone other than UTC, each stored bucket's period is computed once and
 * kept, since every series shares the view's bucket starts.
 *
 * @example
 * ```ts
 * const periods = new PeriodRollUp(plan);
 * const time = periods.of(table.bucketAt(slot));
 * periods.assertExact();
 * ```
 */
export class PeriodRollUp {
  readonly #periods = new Map<number, number>();
  #first = Number.POSITIVE_INFINITY;
  #last = Number.NEGATIVE_INFINITY;

  constructor(private readonly plan: QueryPlan) {}

  /** The start (epoch ms) of the answer bucket that the stored bucket starting at `bucket` goes to; 0 for `all`. */
  of(bucket: number): number {
    const { granularity, timeZone } = this.plan;
    if (granularity === 'all') return 0;
    if (timeZone.isUtc) return bucketStart(granularity, bucket);
    let period = this.#periods.get(bucket);
    if (period === undefined) {
      period = localPeriodStart(timeZone, granularity, bucket);
      this.#periods.set(bucket, period);
      if (bucket < this.#first) this.#first = bucket;
      if (bucket > this.#last) this.#last = bucket;
    }
    return period;
  }

  /**
   * Refuses the answer unless every stored bucket regrouped so far lies
   * inside one local period: checked over the zone's offsets from the first
   * bucket read to the end of the last, where the answer has its data.
   */
  assertExact(): void {
    const { view, timeZone } = this.plan;
    if (this.#periods.size === 0 || view.granularity === 'none') return;
    const end = nextBucket(view.granularity, this.#last);
    if (fitsLocalPeriods(timeZone, view.granularity, this.#first, end)) return;
    throw new TimeZoneRollUpError(view.name, view.granularity, timeZone.name, viewThatFits(timeZone, this.#first, end));
  }
}
