/**
 * The one rule that tells whether an answer includes an ingest's events,
 * in embedded and cluster mode alike: every ingest answers with a
 * `position` (per log partition, how far its events reach; the embedded log
 * is one partition), and every answer's `meta.applied` says how far it read
 * each partition. It includes the ingest when it read every partition at
 * least as far. Offsets (`firstOffset`, `lastOffset`, `meta.logEnd`) are the
 * embedded log's alone; a cluster's ingest has none.
 *
 * @module
 */

/**
 * What {@link answerIncludes} reads of an answer's `meta`: how far it read each log partition.
 *
 * @example
 * ```ts
 * const meta: AppliedMeta = (await client.query({ view: 'revenue_by_country' })).meta;
 * ```
 */
export interface AppliedMeta {
  readonly applied?: readonly number[];
}

/**
 * Whether an answer (its `meta`) includes the events of an ingest that
 * answered with `position`: for every partition p, `meta.applied[p] >=
 * position[p]`. An ingest that stored nothing new has no events to wait
 * for (no position, or the position it answered with is already read). To
 * wait for them instead of checking, send `position` as the query's
 * `after`. The rule is for answers that read the speed layer (the default
 * `merged` layer, or `speed`).
 *
 * @example
 * ```ts
 * const { position } = await client.ingest('order', orders);
 * const { rows, meta } = await client.query({ view: 'revenue_by_country', granularity: 'all' });
 * if (!answerIncludes(meta, position)) console.log('not there yet: ask again, or send { after: position }');
 * ```
 */
export function answerIncludes(meta: AppliedMeta, position: readonly number[] | undefined): boolean {
  if (position === undefined) return true;
  const applied = meta.applied;
  if (applied === undefined || applied.length !== position.length) return false;
  return position.every((seq, p) => applied[p]! >= seq);
}
