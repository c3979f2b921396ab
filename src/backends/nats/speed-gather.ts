/**
 * Gathering a query's speed layer from the nodes that hold it (issue #28).
 * A node holds the speed layer of the partitions it owns (and those it is
 * taking over, or stands by for); for every other partition a query asks the
 * partition's owner for its states from exactly the asking node's batch
 * cutoff (`share-requests.ts`), and merges them with each measure's monoid,
 * so the answer is the one a node holding every partition gives. A query
 * that pins the field its events are placed by (`cluster.partitionBy`) asks
 * only the owners of the partitions that can hold its rows, and waits for
 * no other partition. Where the
 * served version is held per partition (`partition-batch.ts`), each owner
 * gives its partitions' batch states in the same answer.
 *
 * A partition that cannot be read now (its owner does not answer, no longer
 * owns it, or is still reading it; or nobody owns it) is asked again, as
 * ownership moves, until a bounded wait ends: then the query is refused
 * with {@link PartitionsUnavailableError} naming the partitions, or, when it
 * allows a partial answer, answered without them and naming them. An owner
 * whose speed layer starts past the asker's cutoff serves a newer batch
 * version: the asker waits until it serves that version too, and gathers
 * again (the batch tables must be of the version the states start at).
 *
 * @module
 */
import type { AggregateTable } from '../../aggregates/index.ts';
import { decodePartial, type Query, type QueryPlan } from '../../serving/index.ts';
import { PartitionsUnavailableError, ShareVersionSkewError } from './errors.ts';
import type { ShareRequest } from './share-messages.ts';
import type { Share } from './share-requests.ts';

/** How long to wait before asking again for partitions that could not be read: ownership moves in steps of a third of a lease time. */
const RETRY_MS = 200;

/** What gathering reads of the node. */
export interface GatherSource {
  readonly node: string;
  /** Whether this node holds partition `p`'s speed layer whole, from its served cutoff. */
  holds(p: number): boolean;
  /** The node owning `p`, as last seen; null while none does. */
  owner(p: number): string | null;
  /** The served batch version's cutoffs, per partition: the same array until another version is served. */
  cutoffs(): readonly number[];
  /** Whether the served version is held per partition: the owners then give their partitions' batch states too. */
  batchParted(): boolean;
  /** How far this node has read each partition: the owners wait (briefly) to have read as far, so an answer here is never older than that. */
  applied(): readonly number[];
  ask(owner: string, request: Omit<ShareRequest, 'from'>, timeoutMs: number): Promise<Share>;
  /** How long one owner's answer is waited for. */
  readonly askTimeoutMs: number;
  /** How long partitions that cannot be read are tried again before the query gives up on them. */
  readonly waitMs: number;
}

/** What was gathered, for the cutoffs it starts at. */
export interface Gathered {
  readonly cutoffs: readonly number[];
  /** The partitions to read from this node's own speed layer. */
  readonly local: readonly number[];
  /** The other partitions' states, as tables of the view. */
  readonly tables: readonly AggregateTable[];
  /** Per partition gathered from an owner, the last sequence the owner had applied when it gave its states: how far the answer reads it. */
  readonly read: ReadonlyMap<number, number>;
  /** Partitions no node could give (only when the query allows a partial answer). */
  readonly missing: readonly number[];
  /** Whether the served version changed while gathering: the take must fail, and gathering start again. */
  readonly stale: boolean;
  /** Whether the owners gave their partitions' batch states too (the served version is held per partition). */
  readonly batch: boolean;
}

/**
 * Gathers the speed layer of every partition for `query` as `source` sees
 * it now.
 *
 * @example
 * ```ts
 * const gathered = await gatherSpeed(source, query, plan, partitions);
 * const tables = [...gathered.local.flatMap((p) => localTables(p)), ...gathered.tables];
 * ```
 */
export async function gatherSpeed(
  source: GatherSource, query: Query, plan: QueryPlan, partitions: number,
  /** The partitions that can hold the query's rows (`partitionsOfQuery`); undefined for all. */
  relevant?: ReadonlySet<number>,
): Promise<Gathered> {
  const cutoffs = source.cutoffs();
  const batch = source.batchParted();
  const local = new Set<number>();
  const pending = new Set<number>();
  // Only the owners of partitions that can hold rows are asked, each for all it owns, as without the pinning: an
  // owner holds its partitions merged, and reading them together costs no load apart. The rest add no rows.
  const owners = relevant === undefined ? undefined : new Set([...relevant].map((p) => source.owner(p)));
  const needed = (p: number) => relevant === undefined || relevant.has(p);
  for (let p = 0; p < partitions; p++) {
    if (source.holds(p)) local.add(p);
    else if (owners === undefined || needed(p) || owners.has(source.owner(p))) pending.add(p);
  }
  const tables: AggregateTable[] = [];
  const read = new Map<number, number>();
  const reasons = new Map<number, string>();
  const started = Date.now();
  const deadline = started + source.waitMs;
  while (pending.size > 0) {
    for (const p of pending) if (source.holds(p)) move(p, pending, local);
    try {
      tables.push(...await askOwners(source, { query, plan, cutoffs, batch }, pending, reasons, read));
    } catch {
      // The owner serves a newer batch version than this node: once this node serves it too, the take fails and the core gathers again.
      // Waited for at most half of waitMs: a node that cannot adopt that version (its manifest damaged) held each query for
      // every attempt's whole waitMs (a minute), where a typed refusal after half of it tells the client to retry.
      await servedAfter(source, cutoffs, Math.min(deadline, Date.now() + source.waitMs / 2));
      return { cutoffs, local: [...local], tables, read, missing: [], stale: true, batch };
    }
    if (![...pending].some(needed) || Date.now() >= deadline) break;
    for (const p of pending) noteWhy(source, p, reasons);
    await sleep(Math.min(RETRY_MS, Math.max(0, deadline - Date.now())));
  }
  // A partition that holds none of the query's rows is not missing from the answer.
  for (const p of pending) if (!needed(p)) pending.delete(p);
  if (pending.size > 0 && !plan.allowPartial) {
    const missing = [...pending].sort((a, b) => a - b);
    throw new PartitionsUnavailableError(missing, [...new Set(missing.map((p) => reasons.get(p)).filter((r): r is string => r !== undefined))], Date.now() - started);
  }
  return { cutoffs, local: [...local], tables, read, missing: [...pending].sort((a, b) => a - b), stale: false, batch };
}

/**
 * One round: asks each other owner for its partitions of `pending` (which
 * lose those it gave, `read` noting how far the owner had applied each),
 * and notes why each of the others could not be read; throws the skew of an
 * owner that serves a newer version.
 */
async function askOwners(
  source: GatherSource, asking: { query: Query; plan: QueryPlan; cutoffs: readonly number[]; batch: boolean }, pending: Set<number>, reasons: Map<number, string>,
  read: Map<number, number>,
): Promise<AggregateTable[]> {
  const { query, plan, cutoffs, batch } = asking;
  const tables: AggregateTable[] = [];
  await Promise.all([...byOwner(source, pending)].map(async ([owner, ps]) => {
    try {
      const request = {
        query, partitions: ps, cutoffs: ps.map((p) => cutoffs[p]!), atLeast: source.applied(), ...(plan.after === undefined ? {} : { after: plan.after }), ...(batch ? { batch } : {}),
      };
      const { applied, share } = await source.ask(owner, request, source.askTimeoutMs);
      tables.push(decodePartial(plan.view, share));
      for (const p of ps) {
        pending.delete(p);
        read.set(p, applied[p] ?? 0);
      }
    } catch (error) {
      if (error instanceof ShareVersionSkewError && error.starts > error.asked) throw error;
      for (const p of ps) reasons.set(p, `${owner}: ${(error as Error)?.message ?? String(error)}`);
    }
  }));
  return tables;
}

/** Why partition `p`, still pending after a round, could not be asked of anyone. */
function noteWhy(source: GatherSource, p: number, reasons: Map<number, string>): void {
  const owner = source.owner(p);
  if (owner === null) reasons.set(p, 'no node owns it yet');
  else if (owner === source.node) reasons.set(p, `${owner}: this node owns it and is still reading it, or cannot follow it now (its status says why)`);
}

/** The partitions of `pending` another node owns, by owner: this node's own ones wait for its speed layer, unowned ones for an owner. */
function byOwner(source: GatherSource, pending: ReadonlySet<number>): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const p of pending) {
    const owner = source.owner(p);
    if (owner === null || owner === source.node) continue;
    groups.set(owner, [...(groups.get(owner) ?? []), p]);
  }
  return groups;
}

function move(p: number, from: Set<number>, to: Set<number>): void {
  from.delete(p);
  to.add(p);
}

/** Resolves once the source serves another version than the one of `cutoffs`, or at `deadline`. */
async function servedAfter(source: GatherSource, cutoffs: readonly number[], deadline: number): Promise<void> {
  while (source.cutoffs() === cutoffs && Date.now() < deadline) await sleep(25);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
