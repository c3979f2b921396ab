/**
 * Erasure in cluster mode (issue #31). Any node records the erasure in the
 * control bucket's `erasures` record (values included) and asks for batch
 * cycles until it is done. The batch node's next cycle applies every pending
 * one:
 *
 * 1. it reads the pending erasures before it seals, so every event stored
 *    before each was asked for is below the cycle's cutoffs;
 * 2. it archives every partition up to the cutoffs, then writes again, under
 *    new names, every archive object of the type holding matching events,
 *    the retired ones not deleted yet included, and every key-only object
 *    holding their keys (`archive-erasure.ts`), records what it found, and
 *    recomputes every view from the chain naming the new objects (monoids do
 *    not subtract);
 * 3. once the version is published and served here: the older versions are
 *    pruned (their view files may hold the values), the replaced objects are
 *    deleted with this node's copies of them, each partition's stream is
 *    purged below the cutoffs once every node reading it applied that far,
 *    and the erasures move from the pending list to the audit, which never
 *    holds the values.
 *
 * Every other node forgets its local copies of the replaced objects and its
 * older version folders when it adopts the version (`nats-backend.ts`). A
 * batch node killed in the middle leaves the erasure pending: the next cycle,
 * on whichever node holds the lease, applies it again (finding only what the
 * first left; the counts the first found stay in the record).
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FrozenErasing } from '../../batch/index.ts';
import { compileErasure, type Catalog } from '../../definitions/index.ts';
import type { ErasureEntry } from '../../engine/engine-backend.ts';
import type { EngineLogger, ErasureAudit } from '../../engine/engine-types.ts';
import { eraseFromArchive } from './archive-erasure.ts';
import {
  EMPTY_ERASURES_RECORD, erasureValuesKey, ERASURES_KEY, withErasureAsked, withErasureFound, withErasuresDone,
  type ClusterErasureAudit, type ClusterErasureFound, type ClusterErasuresRecord, type ErasureValues, type PendingClusterErasure,
} from './cluster-erasures-record.ts';
import { ErasureNotServedError, ErasurePendingError } from './errors.ts';
import type { ForgottenKeys } from './log-message.ts';
import type { PartitionArchive } from './partition-archive.ts';
import type { Revisioned, RevisionedStore } from './revisioned-store.ts';
import type { ArchivedRange, RetiredArchiveFile } from './shared-manifest.ts';
import type { ClusterLog } from './cluster-log.ts';
import type { NodeRegistry } from './node-registry.ts';

/** Cycles asked for before an erasure not done yet is given up on (the batch node changing hands, say): its record stays pending. */
const ROUNDS = 6;
const RETRY_MS = 500;
/** How long the batch node waits, after publishing an erasure, for every node to apply the log up to its cutoffs before purging the streams. */
const PURGE_WAIT_MS = 10_000;
/** How long an erase waits, once its erasure is done, for every live node to serve the version that published it. */
const SERVED_WAIT_MS = 60_000;
const SERVED_POLL_MS = 250;
/** Compare-and-set tries before a write to the record is given up on: other nodes writing it that often is a fault. */
const WRITE_TRIES = 20;

/** What a cycle applied: the chain and retired list naming the new objects, each erasure's audit (completed once published) and the objects replaced. */
export interface AppliedErasures {
  readonly chain: readonly ArchivedRange[];
  /** The served version's retired list with the objects written again renamed: what retention builds this cycle's list on. */
  readonly retired: readonly RetiredArchiveFile[];
  /** Per event type, the hashes of the erased events' idempotency keys: the seal that follows makes every rule forget them. */
  readonly forget: ForgottenKeys;
  readonly audits: readonly Omit<ErasureAudit, 'completedAt'>[];
  /** Chain, retired and key-only objects written again: erased and deleted, with every node's copies, once the version is published. */
  readonly replaced: readonly string[];
  /** The erasures with their values, as the frozen parts of views keeping aggregates are erased with them (`cluster-retention.ts`). */
  readonly frozen: readonly FrozenErasing[];
}

/** Where each erasure's values are kept until it is done: written once, then erased from the servers' files. */
export interface ErasureValuesStore {
  get(key: string): Promise<Revisioned<ErasureValues> | undefined>;
  create(key: string, value: ErasureValues): Promise<number | undefined>;
  erase(key: string): Promise<void>;
}

export class ClusterErasures {
  constructor(private readonly store: RevisionedStore<ClusterErasuresRecord>, private readonly values: ErasureValuesStore, private readonly logger: EngineLogger) {}

  async #read(): Promise<{ record: ClusterErasuresRecord; revision: number | undefined }> {
    const entry = await this.store.get(ERASURES_KEY);
    return entry === undefined ? { record: EMPTY_ERASURES_RECORD, revision: undefined } : { record: entry.value, revision: entry.revision };
  }

  /** Writes `change` of the record as it is now, with compare-and-set, trying again while other nodes write it. */
  async #update(change: (record: ClusterErasuresRecord) => ClusterErasuresRecord): Promise<void> {
    for (let i = 0; i < WRITE_TRIES; i++) {
      const { record, revision } = await this.#read();
      const next = change(record);
      const written = revision === undefined ? await this.store.create(ERASURES_KEY, next) : await this.store.update(ERASURES_KEY, next, revision);
      if (written !== undefined) return;
    }
    throw new Error(`The erasures record (key ${ERASURES_KEY}) kept changing under ${WRITE_TRIES} writes in a row.`);
  }

  /** Records an erasure asked of this node, before any cycle applies it: its values first, under a key of their own. */
  async ask(entry: ErasureEntry): Promise<void> {
    const { id, by, requestedAt, request } = entry;
    if ((await this.values.create(erasureValuesKey(id), { where: request.where })) === undefined) throw new Error(`An erasure with id ${id} was asked for already.`);
    await this.#update((record) => withErasureAsked(record, { id, by, requestedAt, eventType: request.eventType }));
  }

  /** The erasures asked for and not done yet. */
  async pending(): Promise<readonly PendingClusterErasure[]> {
    return (await this.#read()).record.pending;
  }

  /** The erasures done, oldest first: the audit only, without the version each was published in. */
  async audit(): Promise<ErasureAudit[]> {
    return (await this.#read()).record.audit.map(({ version: _version, ...audit }) => audit);
  }

  /** Whether erasure `id` is done. */
  async isDone(id: string): Promise<boolean> {
    return (await this.#read()).record.audit.some((a) => a.id === id);
  }

  /**
   * Asks for cycles (`runBatch` sends them to the batch node) until erasure
   * `id` is done, for at least {@link ROUNDS} cycles and `patienceMs`: a
   * cycle running when it was recorded may have read the pending list
   * before it, and a batch node just restarted refuses cycles until its old
   * lease term runs out.
   */
  async complete(id: string, runBatch: () => Promise<unknown>, patienceMs = 0): Promise<void> {
    const giveUpAt = Date.now() + patienceMs;
    let failure: unknown;
    for (let round = 1; ; round++) {
      try {
        await runBatch();
        failure = undefined;
      } catch (error) {
        failure = error;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
      }
      if (await this.isDone(id)) return;
      if (round >= ROUNDS && Date.now() >= giveUpAt) break;
    }
    throw failure ?? new ErasurePendingError(id, ROUNDS);
  }

  /**
   * Waits until erasure `id`, done, is served everywhere: until `behind`
   * (the live nodes serving a version below the one given, as the
   * heartbeats last read say: a lookup, hence synchronous) names none. Until
   * then those nodes answer from views that count the erased events, and an
   * erase must not resolve while any answer does.
   *
   * @throws {ErasureNotServedError} naming the nodes still behind after `waitMs` (default {@link SERVED_WAIT_MS}).
   */
  async served(id: string, behind: (version: number) => readonly string[], waitMs = SERVED_WAIT_MS): Promise<void> {
    const version = (await this.#read()).record.audit.find((a) => a.id === id)?.version;
    if (version === undefined) return;
    const giveUpAt = Date.now() + waitMs;
    for (;;) {
      const lagging = behind(version);
      if (lagging.length === 0) return;
      if (Date.now() >= giveUpAt) throw new ErasureNotServedError(id, version, lagging);
      await new Promise((resolve) => setTimeout(resolve, SERVED_POLL_MS));
    }
  }

  /**
   * Applies `erasing` to `chain` (archived up to the cycle's cutoffs) and to
   * `retired` (the served version's retired list; by default the one the
   * archive holds, which is the served version's): resolves with the chain
   * and retired list naming the new objects. What each found is recorded
   * before the cycle publishes, so a later try (after a crash) reports the
   * first count.
   */
  async apply(
    at: { readonly archive: PartitionArchive; readonly connection: DuckDBConnection; readonly catalog: Catalog },
    chain: readonly ArchivedRange[], erasing: readonly PendingClusterErasure[], retired: readonly RetiredArchiveFile[] = at.archive.servedRetired(),
  ): Promise<AppliedErasures> {
    let current = chain;
    let retiredNow = retired;
    const audits: Omit<ErasureAudit, 'completedAt'>[] = [];
    const replaced: string[] = [];
    const forget: Record<string, string[]> = {};
    const frozen: FrozenErasing[] = [];
    for (const entry of erasing) {
      const values = await this.values.get(erasureValuesKey(entry.id));
      if (values === undefined) {
        // Erased once done: a crash between the two leaves an entry whose work is over.
        this.logger.warn({ id: entry.id }, 'an erasure pending without its values was done already; it is recorded done');
        audits.push({ id: entry.id, by: entry.by, requestedAt: entry.requestedAt, eventType: entry.eventType, fields: [], events: entry.found?.events ?? 0, files: entry.found?.files ?? 0 });
        continue;
      }
      const predicate = compileErasure(at.catalog.eventTypes, { eventType: entry.eventType, where: values.value.where });
      frozen.push({ id: entry.id, predicate });
      const done = await eraseFromArchive(at.archive, at.connection, current, retiredNow, predicate, entry.id);
      current = done.chain;
      retiredNow = done.retired;
      replaced.push(...done.replaced);
      if (done.keyHashes.length > 0) forget[predicate.eventType.name] = [...(forget[predicate.eventType.name] ?? []), ...done.keyHashes];
      const found: ClusterErasureFound = entry.found ?? { events: done.events, files: done.files };
      if (entry.found === undefined && done.events > 0) await this.#update((record) => withErasureFound(record, entry.id, found));
      const { id, by, requestedAt } = entry;
      audits.push({ id, by, requestedAt, eventType: predicate.eventType.name, fields: predicate.where.map((f) => f.field.name), events: found.events, files: found.files });
      this.logger.info({ id, eventType: predicate.eventType.name, events: done.events, files: done.files }, 'erased events from the archive');
    }
    return { chain: current, retired: retiredNow, forget, audits, replaced, frozen };
  }

  /**
   * Records `audits` done: their values erased first, then into the audit and
   * out of the pending list. A crash between leaves an entry without values,
   * which the next cycle records done ({@link apply}); the other order could
   * leave values no pending entry names, never erased.
   */
  async done(audits: readonly Omit<ErasureAudit, 'completedAt'>[], version: number): Promise<void> {
    for (const { id } of audits) await this.values.erase(erasureValuesKey(id));
    const completedAt = new Date().toISOString();
    await this.#update((record) => withErasuresDone(record, audits.map((a): ClusterErasureAudit => ({ ...a, completedAt, version }))));
  }
}

/**
 * Purges each partition's stream below `below` (an erasure's cutoffs, where
 * the archive was just found whole) once every node that reads it applied
 * that far, waiting a while for them; a partition a node lags on keeps its
 * messages until the purge of a later cycle.
 */
export async function purgeErased(
  at: { readonly registry: NodeRegistry; readonly log: ClusterLog; readonly logger: EngineLogger; readonly forgetBelow: (purged: ReadonlyMap<number, number>) => Promise<void> },
  below: readonly number[],
): Promise<void> {
  const due = new Set(below.flatMap((seq, p) => (seq > 1 ? [p] : [])));
  const waitUntil = Date.now() + PURGE_WAIT_MS;
  // What was purged is forgotten once, for every partition together (it lists the object store), even if a later purge fails.
  const purgedBelow = new Map<number, number>();
  try {
    while (due.size > 0) {
      const { nodes, invalid } = await at.registry.census();
      for (const p of due) {
        const seq = below[p]!;
        // A node without `reads` in its heartbeat reads every partition.
        if (invalid.length > 0 || !nodes.every((n) => (n.reads !== undefined && !n.reads.includes(p)) || (n.applied[p] ?? 0) >= seq)) continue;
        const purged = await at.log.purgeBelow(p, seq);
        purgedBelow.set(p, seq);
        at.logger.info({ partition: p, below: seq, messages: purged }, 'purged the stream below an erasure\'s cutoff');
        due.delete(p);
      }
      if (due.size === 0 || Date.now() > waitUntil) break;
      await new Promise((resolve) => setTimeout(resolve, 200).unref());
    }
  } finally {
    if (purgedBelow.size > 0) await at.forgetBelow(purgedBelow);
  }
  if (due.size > 0) at.logger.warn({ partitions: [...due] }, 'a node has not applied the log up to an erasure\'s cutoff; those streams are purged with a later cycle');
}
