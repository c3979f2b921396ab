/**
 * Erasure of a view's frozen aggregates (issue #31). A view with
 * `keepAggregates` keeps rows of events retention took out of the master
 * dataset: an erasure cannot recompute them, but it can drop rows. When
 * every field of the predicate is a dimension of the view, the frozen rows
 * whose dimensions equal the erased values aggregate exactly the erased
 * events the view counted (and no other event): the cycle that erases
 * writes each frozen part holding such rows again without them, under a new
 * name, and the answers over the frozen range leave them out. Otherwise a
 * row mixes erased events with others and stays: it holds aggregates, not
 * the predicate's values, unless a measure keeps a predicate field's value
 * itself (`min`, `max`, or the buckets of `quantiles`), in which case the
 * erasure is refused before it is recorded ({@link frozenValueMeasure}).
 *
 * Shared by the embedded engine (`batch-runner.ts`) and the cluster's batch
 * node (`cluster-retention.ts`).
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { copyWithout, filterSql, sqlIdentifier, sqlStringLiteral, type ErasurePredicate, type MeasureType, type ViewSchema } from '../definitions/index.ts';
import { fileSha256 } from '../util/checksums.ts';
import type { BatchPart } from './batch-manifest.ts';
import { stateColumns } from './batch-sql.ts';

/** An erasure a cycle applies, as its frozen parts see it. */
export interface FrozenErasing {
  readonly id: string;
  readonly predicate: ErasurePredicate;
}

/**
 * What an erasure did to one view's frozen aggregates, as its audit record
 * lists it: `dropped` rows (and the events they counted, when the view has
 * a count without a filter of its own), or `counted` when its fields do not
 * split the view's rows, which may then still count erased events.
 *
 * @example
 * ```ts
 * for (const f of audit.frozen ?? []) if (f.outcome === 'counted') console.warn(`${f.view} still counts them`);
 * ```
 */
export type FrozenErasure =
  | { readonly view: string; readonly outcome: 'dropped'; readonly rows: number; readonly events?: number }
  | { readonly view: string; readonly outcome: 'counted' };

/** The measure types whose state keeps a value of its field (an extreme, a quantile's bucket), not only an aggregate of values. */
const VALUE_KEEPING: readonly MeasureType[] = ['min', 'max', 'quantiles'];

/** Whether the view's frozen rows split along `predicate`: every field it names is a dimension of the view. */
export function splitsFrozen(view: ViewSchema, predicate: ErasurePredicate): boolean {
  const dimensions = new Set(view.dimensions.map((d) => d.name));
  return predicate.where.every((f) => dimensions.has(f.field.name));
}

/**
 * The measure of `view`, keeping aggregates, whose frozen state may hold a
 * value of one of `predicate`'s fields that the erasure cannot take out:
 * one of {@link VALUE_KEEPING} over a predicate's field, when the rows do not
 * split along it. Undefined when there is none.
 */
export function frozenValueMeasure(view: ViewSchema, predicate: ErasurePredicate): { readonly measure: string; readonly field: string } | undefined {
  if (!view.keepAggregates || view.eventType.name !== predicate.eventType.name || splitsFrozen(view, predicate)) return undefined;
  const fields = new Set(predicate.where.map((f) => f.field.name));
  const kept = view.measures.find((m) => m.field !== undefined && fields.has(m.field.name) && VALUE_KEEPING.includes(m.type));
  return kept === undefined ? undefined : { measure: kept.name, field: kept.field!.name };
}

/** The erasures of `erasing` that reach `view`'s frozen parts: those of its event type. */
export function erasuresOf(view: ViewSchema, erasing: readonly FrozenErasing[]): FrozenErasing[] {
  return view.keepAggregates ? erasing.filter((e) => e.predicate.eventType.name === view.eventType.name) : [];
}

/** Where a view's frozen parts are read from and written to while erasures drop rows of them. */
export interface FrozenFiles {
  /** A local path holding the part's file as the served version has it. */
  source(part: BatchPart): Promise<string>;
  /** Where the part written again goes (a new name in the new version's directory; see {@link frozenErasedFile}). */
  target(part: BatchPart): string;
}

/** A view's frozen parts once erasures went through them, and what each erasure (by id) did to them. */
export interface FrozenPartsErased {
  readonly parts: readonly BatchPart[];
  /** The files of {@link parts} written again: the others carry over as they were. */
  readonly rewritten: ReadonlySet<string>;
  readonly outcomes: ReadonlyMap<string, FrozenErasure>;
}

/**
 * Applies `erasing` to the frozen parts `parts` of `view` (a version's,
 * carried into the next): each part holding rows an erasure splits off is
 * written again without them; every other part is kept. An erasure of the
 * view's type that does not split it leaves the rows and is told `counted`,
 * when there are rows.
 *
 * @example
 * ```ts
 * const { parts: carried, outcomes } = await eraseFrozenParts(connection, view, entry.frozen ?? [], erasing, files);
 * ```
 */
export async function eraseFrozenParts(
  connection: DuckDBConnection, view: ViewSchema, parts: readonly BatchPart[], erasing: readonly FrozenErasing[], files: FrozenFiles,
): Promise<FrozenPartsErased> {
  const reaching = erasuresOf(view, erasing);
  const outcomes = new Map<string, FrozenErasure>();
  if (!parts.some((p) => p.file !== null && p.rows > 0)) return { parts, rewritten: new Set(), outcomes };
  for (const { id, predicate } of reaching) if (!splitsFrozen(view, predicate)) outcomes.set(id, { view: view.name, outcome: 'counted' });
  const splitting = reaching.filter((e) => splitsFrozen(view, e.predicate));
  if (splitting.length === 0) return { parts, rewritten: new Set(), outcomes };
  const dropped = new Map<string, { rows: number; events: number | undefined }>();
  const rewritten = new Set<string>();
  const next: BatchPart[] = [];
  for (const part of parts) {
    const erased: FrozenPartErased = part.file === null || part.rows === 0
      ? { dropped: new Map() }
      : await eraseFrozenPart(connection, view, part, splitting, await files.source(part), files.target(part));
    if (erased.part === undefined) next.push(part);
    // A part left without rows leaves the entry, as a frozen part over nothing is never written.
    else if (erased.part.rows === 0) await rm(files.target(part), { force: true });
    else {
      next.push(erased.part);
      rewritten.add(erased.part.file!);
    }
    for (const [id, d] of erased.dropped) {
      const sum = dropped.get(id) ?? { rows: 0, events: 0 };
      dropped.set(id, { rows: sum.rows + d.rows, events: sum.events === undefined || d.events === undefined ? undefined : sum.events + d.events });
    }
  }
  for (const [id, d] of dropped) outcomes.set(id, { view: view.name, outcome: 'dropped', rows: d.rows, ...(d.events === undefined ? {} : { events: d.events }) });
  return { parts: next, rewritten, outcomes };
}

/** What dropping rows took out of one frozen part: per erasure, its rows and the events they counted. */
export interface FrozenPartErased {
  /** The part written again, or undefined when it held no row to drop (it carries over as it is). */
  readonly part?: BatchPart;
  readonly dropped: ReadonlyMap<string, { readonly rows: number; readonly events?: number }>;
}

/** A frozen part's name once erasure `version` wrote it again: any earlier erasure's mark replaced. */
export function frozenErasedFile(file: string, version: number): string {
  return `${file.replace(/(\.erased-v\d+)?\.parquet$/, '')}.erased-v${String(version).padStart(8, '0')}.parquet`;
}

/**
 * Writes the frozen part `part` of `view` (read from `source`) again as
 * `target` without the rows the erasures of `erasing` that split it match;
 * resolves with the new part (same partition) and what each erasure
 * dropped. Values are bound, never spliced.
 *
 * @example
 * ```ts
 * const { part: next } = await eraseFrozenPart(connection, view, part, erasing, '/v1/by_customer.frozen-v2.parquet', '/v3/by_customer.frozen-v2.erased-v3.parquet');
 * ```
 */
export async function eraseFrozenPart(
  connection: DuckDBConnection, view: ViewSchema, part: BatchPart, erasing: readonly FrozenErasing[], source: string, target: string,
): Promise<FrozenPartErased> {
  const dropped = new Map<string, { rows: number; events?: number }>();
  const splitting = erasing.filter((e) => splitsFrozen(view, e.predicate));
  for (const e of splitting) {
    const found = await droppedRows(connection, view, source, e.predicate);
    if (found.rows > 0) dropped.set(e.id, found);
  }
  if (dropped.size === 0) return { dropped };
  const matching = splitting.filter((e) => dropped.has(e.id)).map((e) => filterSql(e.predicate.where));
  const where = matching.map((m) => `(${m.sql})`).join(' OR ');
  const rows = await copyWithout(connection, source, `${target}.tmp`, where, matching.flatMap((m) => m.params));
  await rename(`${target}.tmp`, target);
  const next: BatchPart = { ...part, file: basename(target), rows, sha256: await fileSha256(target) };
  return { part: next, dropped };
}

/** The rows of a frozen file `predicate` matches, and the events its first count without a filter of its own counted in them. */
async function droppedRows(connection: DuckDBConnection, view: ViewSchema, source: string, predicate: ErasurePredicate): Promise<{ rows: number; events?: number }> {
  const { sql, params } = filterSql(predicate.where);
  // A count's state is its one column, named as `stateColumns` names it.
  const count = view.measures.find((m) => m.type === 'count' && m.filter.length === 0);
  const counted = count === undefined ? undefined : stateColumns(view).find((c) => c === `${count.name}$0`);
  const events = counted === undefined ? 'NULL' : `sum(${sqlIdentifier(counted)})::BIGINT`;
  const prepared = await connection.prepare(`SELECT count(*)::BIGINT, ${events} FROM read_parquet(${sqlStringLiteral(source)}) WHERE ${sql}`);
  try {
    prepared.bind([...params]);
    const [rows, sum] = (await prepared.runAndReadAll()).getRows()[0] ?? [0, null];
    return { rows: Number(rows), ...(counted === undefined || sum === null ? {} : { events: Number(sum) }) };
  } finally {
    prepared.destroySync();
  }
}

/**
 * Each audit record with what its erasure did to frozen parts (`frozen`),
 * when it did anything.
 *
 * @example
 * ```ts
 * const done = withFrozenOutcomes(audits, result.frozenErased);
 * ```
 */
export function withFrozenOutcomes<A extends { readonly id: string }>(
  audits: readonly A[], outcomes: ReadonlyMap<string, readonly FrozenErasure[]>,
): (A & { readonly frozen?: readonly FrozenErasure[] })[] {
  return audits.map((a) => {
    const frozen = outcomes.get(a.id);
    return frozen === undefined || frozen.length === 0 ? a : { ...a, frozen };
  });
}
