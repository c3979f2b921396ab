/**
 * The master dataset in cluster mode: each partition's sealed ranges, turned
 * into Parquet and stored in the shared blob store (a JetStream Object Store
 * bucket), one object per range and event type. Only the batch node writes
 * here.
 *
 * Which ranges make up the archive is recorded in the published batch
 * version's manifest (its `ranges`), not by listing the store: a range
 * counts once a version computed from it is published, and publishing is
 * fenced by the lease. A node that lost its lease mid-cycle may still upload
 * objects, but no published manifest names them, so no cycle reads them
 * (they are garbage, never double counts). Each cycle extends the published
 * chain from its cutoffs.
 *
 * A range `[from, to)` of partition `p` holds the events of the messages with
 * sequences from `from` to `to - 1` that the duplicate rule admits, so the
 * archive holds each accepted event once. The rule's state at `from` comes
 * from reading the partition from its first message (the archive keeps the
 * cursor between cycles, so that happens once per batch node); every node's
 * speed layer applies the same rule to the same messages, so the archive and
 * the speed layers agree on which copy of a key counts.
 *
 * Blob names: `master/<type>/p<p>-<from>-<to>-t<term>.parquet` and
 * `master/filters/p<p>-<from>-<to>-t<term>.json` (the rule's state at `to`),
 * numbers zero-padded so that names sort by position; the lease term keeps
 * two nodes' uploads of one range apart.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { appendFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Catalog, EventColumns } from '../../definitions/index.ts';
import { ndjsonBytes, packColumns } from '../../log/index.ts';
import { BlobCorruptError, BlobMissingError, exportSql, loadIdempotencyKeys, type MasterSource } from '../../master/index.ts';
import { sqlStringLiteral } from '../../definitions/index.ts';
import { fileSha256 } from '../../util/checksums.ts';
import { syncFile } from '../../util/sync-file.ts';
import { ArchiveDamagedError } from './errors.ts';
import type { BatchSource } from '../../batch/index.ts';
import type { ClusterLog } from './cluster-log.ts';
import type { ConsumedTail } from './consumed-tail.ts';
import { FirstOccurrenceFilter } from './first-occurrence.ts';
import type { LogMessage } from './log-message.ts';
import type { NamedBlobStore } from './object-blob-store.ts';
import { filterSnapshotCheck, parseRecord } from './record-schemas.ts';
import type { ArchivedFile, ArchivedRange, RetiredArchiveFile } from './shared-manifest.ts';
import { maxEventTime } from './event-times.ts';
import { outcomeName, writeWithHistory, type HistoryOutcome, type HistoryVerdict } from './history-archive.ts';
import { newlyDeleted, noLongerNamed } from './retired-objects.ts';

// nats-backend.ts (split from cluster-node.ts in #27) still imports the type from here.
export type { ArchivedRange } from './shared-manifest.ts';

/** An event's `_offset` in the archive: its message's sequence times this, plus its index among the message's kept events. */
export const OFFSET_PER_MESSAGE = 2 ** 20;

const pad = (n: number) => String(n).padStart(16, '0');
/** A range's name; `tag` names the node that archived it as its part of a divided cycle (`cycle-parts.ts`), so two nodes never write one name. */
const rangeName = (p: number, from: number, to: number, term: number, tag?: string) => (
  `p${String(p).padStart(3, '0')}-${pad(from)}-${pad(to)}${tag === undefined ? '' : `-${tag}`}-t${String(term).padStart(6, '0')}`
);
const FILTERS = 'master/filters/';
/** Events buffered per event type before they are appended to the range's NDJSON file. */
const FLUSH_BYTES = 8 * 1024 * 1024;

interface Cursor {
  readonly filter: FirstOccurrenceFilter;
  /** The next sequence the filter expects. */
  next: number;
}

export class PartitionArchive {
  readonly #cursors = new Map<number, Cursor>();
  /** Blobs whose local copy this process fetched or checked: archived objects never change, so once is enough. */
  readonly #checked = new Set<string>();
  /**
   * The objects retention took out of the served version's ranges (its
   * manifest's `retired`): their keys belong to the duplicate rule wherever
   * it is resumed from the archive. Set whenever a version is served.
   */
  #retired: readonly RetiredArchiveFile[] = [];
  /** The objects the running cycle retires, not yet in a served version: their keys count too while it archives. */
  #retiring: readonly RetiredArchiveFile[] = [];

  constructor(
    private readonly log: ClusterLog,
    private readonly blobs: NamedBlobStore,
    private readonly connection: DuckDBConnection,
    private readonly catalog: Catalog,
    /** Local scratch and cache directory. */
    private readonly dir: string,
    /** What the node's consumer read and the archive has not archived yet: read from there rather than from the stream. */
    private readonly tail?: ConsumedTail,
  ) {}

  /** Per partition, one past the last sequence `chain` archives (1 when it holds none of it). */
  endsOf(chain: readonly ArchivedRange[]): number[] {
    const ends = new Array<number>(this.log.partitions).fill(1);
    for (const r of chain) ends[r.partition] = Math.max(ends[r.partition]!, r.to);
    return ends;
  }

  /**
   * Archives every partition (or those of `only`) from where `chain` ends up
   * to (not including) its cutoff; resolves with the longer chain. `tag`
   * names an owner archiving its part of a divided cycle.
   */
  async extend(chain: readonly ArchivedRange[], cutoffs: readonly number[], term: number, only?: { readonly partitions: readonly number[]; readonly tag?: string }): Promise<ArchivedRange[]> {
    const ends = this.endsOf(chain);
    const added: ArchivedRange[] = [];
    for (const p of only?.partitions ?? Array.from({ length: this.log.partitions }, (_, i) => i)) {
      if (cutoffs[p]! > ends[p]!) added.push(await this.#archive(p, { from: ends[p]!, to: cutoffs[p]! }, term, chain, only?.tag));
    }
    return [...chain, ...added];
  }

  async #archive(partition: number, { from, to }: { from: number; to: number }, term: number, chain: readonly ArchivedRange[], tag?: string): Promise<ArchivedRange> {
    const cursor = await this.#cursorAt(partition, from, chain);
    const name = rangeName(partition, from, to, term, tag);
    const scratch = join(this.dir, 'scratch', name);
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch, { recursive: true });
    try {
      const lost = await this.#skipLost(partition, cursor, to);
      const { counts, history, outcomes } = await this.#spool(partition, cursor, to, scratch);
      const files: Record<string, ArchivedFile> = {};
      for (const [eventType, rows] of counts) {
        const blob = `master/${eventType}/${name}.parquet`;
        const parquet = join(this.dir, 'cache', blob);
        await mkdir(dirname(parquet), { recursive: true });
        await this.#export(partition, eventType, history.filter((h) => h.eventType === eventType), scratch, parquet);
        const maxTime = await maxEventTime(this.connection, this.catalog, eventType, parquet);
        files[eventType] = { blob, rows, sha256: await this.#store(blob, parquet), ...(maxTime === null ? {} : { maxTime }) };
      }
      await this.#writeOutcomes(outcomes, scratch);
      const filterBlob = `${FILTERS}${name}.json`;
      const snapshotFile = join(this.dir, 'cache', filterBlob);
      await mkdir(dirname(snapshotFile), { recursive: true });
      await writeFile(snapshotFile, JSON.stringify(cursor.filter.snapshot()));
      const filter = { blob: filterBlob, sha256: await this.#store(filterBlob, snapshotFile) };
      return { partition, from, to, files, filter, digest: cursor.filter.digest, ...(lost === undefined ? {} : { lost }) };
    } catch (error) {
      // The cursor advanced past messages whose range was not recorded: read them again next time.
      this.#cursors.delete(partition);
      throw error;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /**
   * One range holding the events of `group` (consecutive ranges of one
   * partition, oldest first), written as one Parquet object per event type
   * with the same rows and offsets, uploaded and read back as a cycle's
   * range is. Where it ends it is the last range of the group: the same
   * sequence, the same snapshot of the duplicate rule and the same digest,
   * so a node resuming or checking there reads what it read before.
   * `connection` is DuckDB's for it: folds run beside cycles.
   */
  async fold(group: readonly ArchivedRange[], term: number, connection: DuckDBConnection): Promise<ArchivedRange> {
    const first = group[0]!;
    const last = group.at(-1)!;
    const name = rangeName(first.partition, first.from, last.to, term);
    const files: Record<string, ArchivedFile> = {};
    for (const [eventType, parts] of this.#filesByType(group)) {
      const inputs: string[] = [];
      for (const f of parts) inputs.push(await this.#localCopy(f));
      const blob = `master/${eventType}/${name}.parquet`;
      const parquet = join(this.dir, 'cache', blob);
      await mkdir(dirname(parquet), { recursive: true });
      // Rows stay in the order read, the offsets' order, as in a range's own file; no reader depends on it.
      await connection.run(`COPY (SELECT * FROM read_parquet([${inputs.map(sqlStringLiteral).join(', ')}])) TO ${sqlStringLiteral(parquet)} (FORMAT parquet, COMPRESSION zstd)`);
      // The parts' latest times give the fold's, when each part recorded its own.
      const maxTime = parts.every((f) => f.maxTime !== undefined) ? Math.max(...parts.map((f) => f.maxTime!)) : undefined;
      files[eventType] = { blob, rows: parts.reduce((n, f) => n + f.rows, 0), sha256: await this.#store(blob, parquet), ...(maxTime === undefined ? {} : { maxTime }) };
    }
    const folds = group.reduce((n, r) => n + (r.folds ?? 1), 0);
    return { partition: first.partition, from: first.from, to: last.to, files, filter: last.filter, ...(last.digest === undefined ? {} : { digest: last.digest }), folds };
  }

  /** The Parquet objects of `group`, by event type, in the group's order. */
  #filesByType(group: readonly ArchivedRange[]): Map<string, ArchivedFile[]> {
    const byType = new Map<string, ArchivedFile[]>();
    for (const range of group) {
      for (const [eventType, f] of Object.entries(range.files)) byType.set(eventType, [...(byType.get(eventType) ?? []), f]);
    }
    return byType;
  }

  /** A checked local copy of an archived object, fetched when this node has none. */
  async #localCopy(f: ArchivedFile): Promise<string> {
    const file = join(this.dir, 'cache', f.blob);
    await this.#fetch(f.blob, file, f.sha256);
    return file;
  }

  /** A checked local copy of an archived object (fetched when this node has none): what retention reads an older object's latest time from, and what an erasure rewrites (`archive-erasure.ts`). */
  copyOf(f: ArchivedFile): Promise<string> {
    return this.#localCopy(f);
  }

  /** Uploads `file` as `blob` and reads it back, as a range's object is (retention's key-only objects, an erasure's rewritten ones); resolves with its SHA-256. */
  store(blob: string, file: string): Promise<string> {
    return this.#store(blob, file);
  }

  /**
   * Takes the retired list of the version served from now on, in the
   * caller's synchronous step, and resolves once this node's copies of the
   * objects it newly marks deleted (retention's phase 2) or no longer names
   * (an erasure wrote them again under new names) are gone.
   */
  serveRetired(retired: readonly RetiredArchiveFile[] | undefined): Promise<void> {
    const gone = [...new Set([...newlyDeleted(this.#retired, retired ?? []), ...noLongerNamed(this.#retired, retired ?? [])])];
    this.#retired = retired ?? [];
    return gone.length === 0 ? Promise.resolve() : this.forgetCopies(gone);
  }

  /** The retired list of the version served: what an erasure searches besides the chain (`archive-erasure.ts`). */
  servedRetired(): readonly RetiredArchiveFile[] {
    return this.#retired;
  }

  /**
   * The objects the running cycle retires (none once it ends): it takes them
   * out of the chain it archives past, so a duplicate rule resumed meanwhile
   * would miss their keys unless it loads them from here.
   */
  retiring(retired: readonly RetiredArchiveFile[]): void {
    this.#retiring = retired;
  }

  /** Deletes `blobs` from the object store and this node's copies of them (retention's phase 2); one already gone is no error. */
  async deleteObjects(blobs: readonly string[]): Promise<void> {
    for (const blob of blobs) await this.blobs.delete(blob);
    await this.forgetCopies(blobs);
  }

  /** Where this node keeps its local copy of `blob`. */
  cachePath(blob: string): string {
    return join(this.dir, 'cache', blob);
  }

  /** Deletes this node's local copies of `blobs`: objects no kept version names any more. */
  async forgetCopies(blobs: readonly string[]): Promise<void> {
    for (const blob of blobs) {
      await rm(join(this.dir, 'cache', blob), { force: true });
      this.#checked.delete(blob);
    }
  }

  /**
   * Makes the local copy durable, uploads it, and reads the object back:
   * resolves with its SHA-256 once the object store has returned exactly
   * these bytes. The local copy stays, as one of the copies the archive can
   * be restored from (`archive-restore.ts`).
   */
  async #store(blob: string, file: string): Promise<string> {
    await syncFile(file);
    const sha256 = await fileSha256(file);
    await this.blobs.put(blob, file);
    const back = `${file}.readback`;
    try {
      const info = await this.blobs.get(blob, back);
      if (info.sha256 !== sha256) throw new ArchiveDamagedError(this.blobs.name, [{ blob, problem: 'it read back with other bytes than were put' }], 'the cycle stops and the next one archives the range again.');
    } finally {
      await rm(back, { force: true });
    }
    this.#checked.add(blob);
    return sha256;
  }

  /**
   * When the stream no longer holds the start of what is due (NATS lost it:
   * only the archive step purges, and never above the archive's end), goes
   * on from the stream's first message and resolves with the stretch lost;
   * every consumer resuming from this range skips it alike.
   */
  async #skipLost(partition: number, cursor: Cursor, to: number): Promise<{ from: number; to: number } | undefined> {
    const { firstSeq, lastSeq } = await this.log.bounds(partition);
    const first = lastSeq === 0 && firstSeq === 0 ? cursor.next : Math.min(firstSeq, to);
    if (first <= cursor.next) return undefined;
    const lost = { from: cursor.next, to: first };
    cursor.filter.skipTo(first - 1);
    cursor.next = first;
    return lost;
  }

  /**
   * Writes the range's Parquet object of `eventType`: its live events (the
   * spooled NDJSON), and the kept rows of its history messages, if any.
   */
  async #export(partition: number, eventType: string, history: readonly HistoryVerdict[], scratch: string, parquet: string): Promise<void> {
    const schema = this.catalog.eventTypes.get(eventType)!;
    const ndjson = join(scratch, `${eventType}.ndjson`);
    const hasLive = await stat(ndjson).then(() => true, () => false);
    if (history.length === 0) return void await this.connection.run(exportSql(schema, ndjson, parquet));
    const live = hasLive ? join(scratch, `${eventType}.live.parquet`) : undefined;
    if (live !== undefined) await this.connection.run(exportSql(schema, ndjson, live));
    await writeWithHistory(this.connection, this.blobs, schema, partition, OFFSET_PER_MESSAGE, live, history, scratch, parquet);
  }

  /** What each history message of the range kept, for the import that staged it: the same on every node that archives the range, the rule being the same. */
  async #writeOutcomes(outcomes: readonly HistoryOutcome[], scratch: string): Promise<void> {
    const file = join(scratch, 'outcome.json');
    for (const { object, ...outcome } of outcomes) {
      await writeFile(file, JSON.stringify(outcome));
      await this.blobs.put(outcomeName(object), file);
    }
  }

  /**
   * Reads `[cursor.next, to)` through the duplicate rule into one NDJSON file
   * per event type; resolves with the rows of each (history rows kept
   * included) and the history messages' verdicts, whose rows
   * {@link #export} adds from their objects.
   */
  async #spool(partition: number, cursor: Cursor, to: number, scratch: string): Promise<{ counts: Map<string, number>; history: HistoryVerdict[]; outcomes: HistoryOutcome[] }> {
    const pending = new Map<string, Buffer[]>();
    const counts = new Map<string, number>();
    const history: HistoryVerdict[] = [];
    const outcomes: HistoryOutcome[] = [];
    let buffered = 0;
    const flush = async () => {
      for (const [eventType, parts] of pending) await appendFile(join(scratch, `${eventType}.ndjson`), Buffer.concat(parts));
      pending.clear();
      buffered = 0;
    };
    for await (const message of this.#messages(partition, cursor.next, to - 1)) {
      const verdict = cursor.filter.admit(message);
      cursor.next = message.seq + 1;
      if (verdict.kind === 'history') {
        history.push(verdict);
        const kept = verdict.body.rows - verdict.dropped.length;
        if (kept > 0) counts.set(verdict.eventType, (counts.get(verdict.eventType) ?? 0) + kept);
        outcomes.push({ object: verdict.body.object, seq: verdict.seq, rows: verdict.body.rows, kept, duplicates: verdict.dropped.length });
      } else if (verdict.kind === 'repeated-message' && message.kind === 'history') {
        // A history message published again (a run that stopped mid-file, resumed): every row of it is stored already.
        outcomes.push({ object: message.body.object, seq: message.seq, rows: message.body.rows, kept: 0, duplicates: message.body.rows });
      }
      if (verdict.kind !== 'admitted' || verdict.admitted.events.count === 0) continue;
      const { eventType, events } = verdict.admitted;
      const bytes = Buffer.from(this.#lines(eventType, events, message.seq));
      pending.set(eventType, [...(pending.get(eventType) ?? []), bytes]);
      counts.set(eventType, (counts.get(eventType) ?? 0) + events.count);
      buffered += bytes.length;
      if (buffered >= FLUSH_BYTES) await flush();
    }
    await flush();
    if (cursor.next !== to) throw new Error(`partition ${partition} ended at sequence ${cursor.next - 1}, before the cutoff ${to}`);
    this.tail?.releaseBelow(partition, to);
    return { counts, history, outcomes };
  }

  /**
   * Messages `from` to `to` (inclusive) of `partition`: as the consumer read
   * them when they are all kept and the stream still holds each at its
   * sequence, else read from the stream. The check reads the messages' ids
   * only: a server that handed out messages and died before the others had
   * them can leave other messages at those sequences (the consumer finds
   * out when it next replaces its reading), and the archive must hold what
   * the stream holds.
   */
  async *#messages(partition: number, from: number, to: number): AsyncGenerator<LogMessage> {
    const kept = this.tail?.take(partition, from, to);
    if (kept !== undefined && await this.#inStream(partition, kept, from, to)) {
      yield* kept;
      return;
    }
    yield* this.log.replay(partition, from, to);
  }

  /** Whether the stream holds exactly `kept` from `from` to `to`: the same message id at every sequence. */
  async #inStream(partition: number, kept: readonly LogMessage[], from: number, to: number): Promise<boolean> {
    let i = 0;
    for await (const { seq, msgId } of this.log.messageIds(partition, from, to)) {
      const message = kept[i++];
      if (message === undefined || message.seq !== seq || message.msgId !== msgId) return false;
    }
    return i === kept.length;
  }

  #lines(eventType: string, events: EventColumns, seq: number): Buffer {
    return ndjsonBytes(this.catalog.eventTypes.get(eventType)!.fields, packColumns(events), seq * OFFSET_PER_MESSAGE);
  }

  /**
   * The duplicate rule's state just before `from`: the cursor this node kept
   * from its last range, else resumed from the archive (the stream may be
   * purged below `from`), else rebuilt by reading the partition from its start.
   */
  async #cursorAt(partition: number, from: number, chain: readonly ArchivedRange[]): Promise<Cursor> {
    const kept = this.#cursors.get(partition);
    // Kept only where the chain's range ending at `from` is what this cursor read: another node may have archived
    // that range (a divided cycle's part), from the stream as it was then, and this cursor may have read a range
    // that was never published, before NATS lost messages of it: its rule would drop their copies from the outboxes.
    if (kept?.next === from && (from === 1 || chain.some((r) => r.partition === partition && r.to === from && r.digest === kept.filter.digest))) return kept;
    const resumed = from > 1 ? await this.resumeFilter(chain, partition, from) : undefined;
    const cursor: Cursor = resumed === undefined ? { filter: new FirstOccurrenceFilter(this.catalog), next: 1 } : { filter: resumed, next: from };
    this.#cursors.set(partition, cursor);
    if (cursor.next < from) {
      for await (const message of this.#messages(partition, cursor.next, from - 1)) {
        cursor.filter.admit(message);
        cursor.next = message.seq + 1;
      }
    }
    return cursor;
  }

  /**
   * The duplicate rule of `partition` as it stood just before sequence `at`,
   * rebuilt from the archive alone (the snapshot of the range ending there,
   * and the keys of every range below it), or undefined when no range ends
   * at `at`. This is how a consumer starts once the stream is purged below.
   */
  async resumeFilter(chain: readonly ArchivedRange[], partition: number, at: number, retired: readonly RetiredArchiveFile[] = [...this.#retired, ...this.#retiring]): Promise<FirstOccurrenceFilter | undefined> {
    const ranges = chain.filter((r) => r.partition === partition && r.to <= at);
    const last = ranges.find((r) => r.to === at);
    if (last === undefined) return undefined;
    const file = join(this.dir, 'cache', last.filter.blob);
    await this.#fetch(last.filter.blob, file, last.filter.sha256);
    const snapshot = parseRecord(await readFile(file, 'utf8'), filterSnapshotCheck, {
      store: this.blobs.name, key: last.filter.blob, what: 'duplicate-rule snapshot',
      advice: 'a node cannot resume the partition from the archive at that range\'s end; restore the object.',
    });
    if (snapshot.lastSeq !== at - 1) return undefined;
    const filter = FirstOccurrenceFilter.resume(this.catalog, snapshot);
    const sources = new Map<string, MasterSource>();
    for (const range of ranges.sort((a, b) => a.from - b.from)) {
      for (const [eventType, f] of Object.entries(range.files)) {
        const local = join(this.dir, 'cache', f.blob);
        await this.#fetch(f.blob, local, f.sha256);
        const source = sources.get(eventType) ?? { files: [], events: 0 };
        source.files.push(local);
        source.events += f.rows;
        sources.set(eventType, source);
      }
    }
    // The keys of the objects retention took out of those ranges stay: a re-sent copy of a retired event is still a duplicate.
    // One the chain still holds (a cycle retiring it runs now) has its keys read from its own object already.
    const held = new Set(ranges.flatMap((r) => Object.values(r.files).map((f) => f.blob)));
    for (const r of retired) {
      if (r.partition !== partition || r.to > at || r.keys === undefined || held.has(r.blob)) continue;
      const local = join(this.dir, 'cache', r.keys.blob);
      await this.#fetch(r.keys.blob, local, r.keys.sha256);
      const source = sources.get(r.eventType) ?? { files: [], events: 0 };
      source.files.push(local);
      source.events += r.rows;
      sources.set(r.eventType, source);
    }
    await loadIdempotencyKeys(this.connection, this.catalog, sources, filter.keys, (error) => {
      throw error;
    });
    return filter;
  }

  /** Deletes the rule's snapshots of ranges ending below `seq` in `partition`: nothing resumes from there once the stream is purged below it. */
  async forgetSnapshotsBelow(chain: readonly ArchivedRange[], partition: number, seq: number): Promise<void> {
    for (const range of chain) {
      if (range.partition === partition && range.to < seq) await this.blobs.delete(range.filter.blob);
    }
  }

  /** Local copies of the Parquet objects of `chain`, by event type: what the batch layer reads. */
  async localSources(chain: readonly ArchivedRange[]): Promise<Map<string, BatchSource>> {
    const sources = new Map<string, { files: string[]; events: number }>();
    for (const range of chain) {
      for (const [eventType, f] of Object.entries(range.files)) {
        const file = await this.#localCopy(f);
        const source = sources.get(eventType) ?? { files: [], events: 0 };
        source.files.push(file);
        source.events += f.rows;
        sources.set(eventType, source);
      }
    }
    return sources;
  }

  /**
   * Makes `file` a copy of `blob` whose SHA-256 is the manifest's: a local
   * copy that is already one is kept (the object store need not hold it),
   * else the object is fetched and checked. Once per process per blob, since
   * archived objects never change. {@link ArchiveDamagedError} when the store
   * lacks it or holds other bytes.
   */
  async #fetch(blob: string, file: string, sha256: string): Promise<void> {
    if (this.#checked.has(blob) && (await stat(file).then(() => true, () => false))) return;
    if ((await fileSha256(file).catch(() => undefined)) !== sha256) {
      await mkdir(dirname(file), { recursive: true });
      const part = `${file}.part`;
      try {
        await this.blobs.get(blob, part);
      } catch (error) {
        if (error instanceof BlobMissingError || error instanceof BlobCorruptError) throw this.#damaged(blob, error instanceof BlobMissingError ? 'missing' : 'its bytes do not match its digest');
        throw error;
      }
      if ((await fileSha256(part)) !== sha256) {
        await rm(part, { force: true });
        throw this.#damaged(blob, 'its digest differs from the manifest\'s');
      }
      await rename(part, file);
    }
    this.#checked.add(blob);
  }

  #damaged(blob: string, problem: string): ArchiveDamagedError {
    return new ArchiveDamagedError(this.blobs.name, [{ blob, problem }], 'this node has no copy of it either, so it cannot read that range until the object is restored.');
  }
}
