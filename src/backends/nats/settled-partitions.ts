/**
 * The outcome of work run on many partitions at once (`Promise.allSettled`
 * over renewals, takes or releases), sorted by partition: one partition's
 * failure (NATS unreachable, say) never hides what the others did.
 *
 * @module
 */

/** A partition whose work failed for another reason than a lost compare-and-set. */
export interface PartitionFailure {
  readonly partition: number;
  readonly error: unknown;
}

/**
 * The partitions whose work resolved with `value`; `results` are in the order of `partitions`.
 *
 * @example
 * ```ts
 * const results = await Promise.allSettled(partitions.map((p) => renew(p)));
 * const lost = settledWith(partitions, results, false);
 * ```
 */
export function settledWith(partitions: readonly number[], results: readonly PromiseSettledResult<unknown>[], value: unknown): number[] {
  return partitions.filter((_, i) => {
    const result = results[i]!;
    return result.status === 'fulfilled' && result.value === value;
  });
}

/**
 * The partitions whose work was rejected, with their errors; `results` are in the order of `partitions`.
 *
 * @example
 * ```ts
 * for (const { partition, error } of settledFailures(partitions, results)) logger.warn({ err: error, partition }, 'not renewed');
 * ```
 */
export function settledFailures(partitions: readonly number[], results: readonly PromiseSettledResult<unknown>[]): PartitionFailure[] {
  return results.flatMap((result, i) => (result.status === 'rejected' ? [{ partition: partitions[i]!, error: result.reason as unknown }] : []));
}
