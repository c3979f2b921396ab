/**
 * The master dataset's write path: a durable, append-only, gap-free log of
 * validated events on local disk, with group commit.
 *
 * Appends queue up while the previous group is being written; each group is
 * written with one `writev`, durable when it returns (see `synced-file.ts`), and only
 * then are its events handed to the listener (the speed layer) and its
 * appends resolved. Offsets are assigned at commit, so a failed write leaves
 * no gap: the file is truncated back and the next group reuses the offsets.
 *
 * @module
 */
import type { AppendOutcome, EventLog, SealedSegment } from './event-log.ts';
import { mkdir, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { selectEvents, toColumns, UnknownEventTypeError, type Catalog, type EventColumns, type EventTypeSchema } from '../definitions/index.ts';
import { CorruptLogError, DiskFullError, LogClosedError, LogEncodeError, LogGapError, LogOverloadedError, LogWriteError, NewestSegmentMissingError } from './errors.ts';
import { readActiveBase, writeActiveBase } from './active-record.ts';
import { FrameEncoder, type FrameJob } from './frame-encoder.ts';
import { encodeHistoryFrame } from './history-range.ts';
import { IdempotencyIndex } from './idempotency-index.ts';
import { frameRows, scanSegment } from './segment-scan.ts';
import { listSegmentBases, segmentPath } from './segment-files.ts';
import { openSynced, syncWrites } from './synced-file.ts';
import { isDiskFull } from '../util/disk-full.ts';
import { syncDirectory } from '../util/sync-directory.ts';

/**
 * 64 MiB. Each segment is exported to Parquet in the background as it rolls
 * over, so a batch cycle exports only the last, partial one, and smaller
 * segments make that share smaller: a cycle over 1M new events on 30M took
 * 1.2 s with 64 MiB and 0.38 s with 16 MiB. But exports running beside
 * ingest take CPU and disk from it, more often with smaller segments: with
 * 16 MiB, in-process ingest with an fsync per batch fell from ~0.8M to
 * ~0.4M events/s. 64 MiB keeps ingest first; `segmentBytes` trades the
 * other way. docs/benchmarks.md.
 */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** Told, in offset order, of everything the log makes durable. */
export interface LogListener {
  /** Events `[firstOffset, firstOffset + events.count)` are durable. Called before their appends resolve. */
  committed(eventType: string, events: EventColumns, firstOffset: number): void;
  /**
   * {@link EventLog.seal} sealed the log at `end`: every event below it has
   * been delivered, and none at or above it. Told even when nothing was
   * written since the last seal; a segment rolled over for size is not told,
   * since only a requested seal can become a batch cutoff.
   */
  sealed(end: number): void;
  /**
   * A segment rolled over for size and is now sealed: its file will not
   * change, so the master dataset can export it in the background instead
   * of at the next batch cycle's start.
   */
  rolled?(segment: SealedSegment): void;
}

export interface EventLogOptions {
  readonly dir: string;
  readonly catalog: Catalog;
  readonly listener: LogListener;
  /** Segments roll over once they reach this size. Default {@link DEFAULT_SEGMENT_BYTES}. */
  readonly maxSegmentBytes?: number;
  /**
   * Events that may wait to be made durable (queued or being written) before
   * appends are refused with {@link LogOverloadedError}. Default 1,000,000.
   * An append is never refused while nothing waits, however large it is.
   */
  readonly maxPendingEvents?: number;
  /** Told of a torn tail cut off at recovery. */
  readonly onRecovered?: (info: { file: string; droppedBytes: number; reason: string }) => void;
  /** Told if the frame encoder's worker dies; frames are then encoded on the main thread. */
  readonly onEncoderFailed?: (error: unknown) => void;
}

/** Rows past which a commit group closes. */
const GROUP_ROWS = 4096;
/** Rows worth a group of their own while another is being written; fewer wait to join the next. */
const PIPELINE_MIN_ROWS = 2048;

type AppendPending = { readonly kind: 'append'; readonly eventType: string; readonly events: EventColumns; resolve(o: AppendOutcome): void; reject(e: unknown): void };
type ReservePending = { readonly kind: 'reserve'; readonly eventType: string; readonly count: number; resolve(first: number): void; reject(e: unknown): void };
type Pending = AppendPending | ReservePending | { readonly kind: 'seal'; resolve(end: number): void; reject(e: unknown): void };

interface Committed {
  readonly eventType: string;
  readonly events: EventColumns;
  readonly outcome: AppendOutcome;
}

/** A group of appends in the commit pipeline. */
interface Stage {
  readonly group: readonly AppendPending[];
  readonly keys: PendingKeys;
  readonly committed: readonly Committed[];
  /** One past the group's last offset. */
  readonly end: number;
  /** Settles true once the group is durable, false if it was refused. */
  durable: Promise<boolean>;
  /** Settles once the listener has the group and its appends are resolved (or it was refused). */
  applied: Promise<void>;
  /** An earlier group's failure: this group's offsets and duplicate checks assumed that group would be written. */
  doomedBy?: unknown;
}

export class LocalEventLog implements EventLog {
  readonly keys: IdempotencyIndex;
  readonly #options: EventLogOptions;
  readonly #maxSegmentBytes: number;
  readonly #encoder: FrameEncoder;
  #sealed: SealedSegment[];
  #activeBase: number;
  #file: FileHandle;
  #size: number;
  #end: number;
  /** Where the next group's offsets start: past the groups in the pipeline. */
  #nextOffset: number;
  #queue: Pending[] = [];
  /** Groups started and not yet durable nor refused, oldest first. */
  readonly #stages: Stage[] = [];
  /** The newest group started. */
  #tail: Stage | undefined;
  /** Rows appended but not yet durable: queued, or in the group being written. */
  #pendingEvents = 0;
  #flushing: Promise<void> | undefined;
  #running = false;
  #closed = false;

  private constructor(options: EventLogOptions, sealed: SealedSegment[], activeBase: number, file: FileHandle, size: number, end: number) {
    this.#options = options;
    const windows = [...options.catalog.eventTypes.values()].flatMap((e) => (e.idempotencyWindow === undefined ? [] : [[e.name, e.idempotencyWindow] as const]));
    this.keys = new IdempotencyIndex(new Map(windows));
    this.#maxSegmentBytes = options.maxSegmentBytes ?? DEFAULT_SEGMENT_BYTES;
    const fields = new Map([...options.catalog.eventTypes.values()].map((e) => [e.name, e.fields] as const));
    this.#encoder = new FrameEncoder({ fields, onWorkerFailed: options.onEncoderFailed });
    this.#sealed = sealed;
    this.#activeBase = activeBase;
    this.#file = file;
    this.#size = size;
    this.#end = end;
    this.#nextOffset = end;
  }

  /**
   * Opens the log in `dir`, creating it if needed. A torn or corrupt tail of
   * the active segment (a write the crash cut short) is truncated away: it
   * was never acknowledged. Damage with intact frames after it is refused
   * with {@link CorruptLogError}.
   */
  static async open(options: EventLogOptions): Promise<LocalEventLog> {
    await mkdir(options.dir, { recursive: true });
    const bases = await listSegmentBases(options.dir);
    const recorded = await readActiveBase(options.dir);
    if (recorded !== undefined && recorded > (bases.at(-1) ?? -1)) throw new NewestSegmentMissingError(segmentPath(options.dir, recorded), recorded);
    const activeBase = bases.at(-1) ?? 0;
    const sealed = bases.slice(0, -1).map((base, i) => ({ base, end: bases[i + 1]! }));
    const path = segmentPath(options.dir, activeBase);
    let size = 0;
    let end = activeBase;
    let truncated = false;
    if (bases.length > 0) {
      const scan = await scanSegment(path, activeBase);
      // Intact frames after the problem were acknowledged: that is damage, not a write the crash cut short.
      // Except after zeros: a power loss can leave a group's earlier pages unwritten (read back as zeros) and
      // its later ones on disk; that group was never acknowledged, so it is cut off like any torn write.
      if (scan.problem !== undefined && scan.resumesAt !== undefined && scan.gapIsZeros !== true) {
        throw new CorruptLogError(path, scan.validBytes, scan.problem);
      }
      if (scan.problem !== undefined) {
        await truncate(path, scan.validBytes);
        truncated = true;
        options.onRecovered?.({ file: path, droppedBytes: scan.fileBytes - scan.validBytes, reason: scan.problem });
      }
      size = scan.validBytes;
      end = scan.end;
    }
    const file = await openSynced(path, bases.length === 0);
    // O_DSYNC makes writes durable, not the truncation above: a later write need not grow the file past the cut-off bytes.
    if (truncated) await file.datasync();
    if (bases.length === 0) await syncDirectory(options.dir);
    if (recorded !== activeBase) await writeActiveBase(options.dir, activeBase);
    return new LocalEventLog(options, sealed, activeBase, file, size, end);
  }

  /** One past the last durable offset. */
  get end(): number {
    return this.#end;
  }

  /** The first offset still in the log: the base of its oldest segment on disk. */
  get firstOffset(): number {
    return this.#sealed[0]?.base ?? this.#activeBase;
  }

  /** Sealed segments still on disk, oldest first. */
  get sealedSegments(): readonly SealedSegment[] {
    return this.#sealed;
  }

  /**
   * Appends validated events of one type. Resolves once they are durable
   * and the listener has seen them.
   */
  append(eventType: string, events: EventColumns): Promise<AppendOutcome> {
    if (!this.#options.catalog.eventTypes.has(eventType)) return Promise.reject(new UnknownEventTypeError(eventType));
    if (this.#closed) return Promise.reject(new LogClosedError());
    const limit = this.#options.maxPendingEvents ?? 1_000_000;
    if (this.#pendingEvents > 0 && this.#pendingEvents + events.count > limit) return Promise.reject(new LogOverloadedError(this.#pendingEvents, limit));
    this.#pendingEvents += events.count;
    const settled = () => (this.#pendingEvents -= events.count);
    return this.#enqueue<AppendOutcome>((resolve, reject) => ({
      kind: 'append', eventType, events,
      resolve: (outcome) => { settled(); resolve(outcome); },
      reject: (error) => { settled(); reject(error); },
    }));
  }

  /** Seals the active segment (if it holds anything) and resolves with the sealed end: every offset below it is in a sealed segment. */
  seal(): Promise<number> {
    return this.#enqueue<number>((resolve, reject) => ({ kind: 'seal', resolve, reject }));
  }

  /**
   * Claims `count` offsets for a history import of `eventType` with one
   * durable frame that holds no rows, and resolves with the first. Queued
   * like an append, so it lands between the groups before and after it.
   */
  reserve(eventType: string, count: number): Promise<number> {
    if (!this.#options.catalog.eventTypes.has(eventType)) return Promise.reject(new UnknownEventTypeError(eventType));
    return this.#enqueue<number>((resolve, reject) => ({ kind: 'reserve', eventType, count, resolve, reject }));
  }

  #enqueue<T>(make: (resolve: (v: T) => void, reject: (e: unknown) => void) => Pending): Promise<T> {
    if (this.#closed) return Promise.reject(new LogClosedError());
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(make(resolve, reject));
      if (!this.#running) {
        this.#running = true;
        this.#flushing = this.#flush();
      }
    });
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const sealAt = this.#queue.findIndex((p) => p.kind !== 'append');
        if (sealAt === 0) {
          await this.#tail?.applied;
          const next = this.#queue.shift() as Exclude<Pending, AppendPending>;
          await (next.kind === 'seal' ? this.#sealNow(next) : this.#reserveNow(next));
          continue;
        }
        const { length, rows } = this.#nextGroup(sealAt === -1 ? this.#queue.length : sealAt);
        if (this.#stages.length > 0 && rows < PIPELINE_MIN_ROWS) {
          // A small group waits while one is being written: more appends gather, and one fsync serves them all.
          await this.#tail?.durable;
          continue;
        }
        const previous = this.#tail;
        this.#tail = this.#startCommit(this.#queue.splice(0, length) as AppendPending[], previous);
        // Two groups at most: one written while the next is encoded. Appends arriving meanwhile gather into the group after.
        await previous?.durable;
      }
    } finally {
      // Cleared in the same tick as the last empty-queue check, so no append can be stranded.
      this.#running = false;
    }
  }

  /**
   * The next group: the first of the `available` queued appends, up to
   * {@link GROUP_ROWS} rows (at least one append, however large), and its row
   * count. Capped so that a burst becomes several groups, one encoded while
   * another is written and a third folded into the speed layer, instead of
   * one group every stage waits on in turn.
   */
  #nextGroup(available: number): { length: number; rows: number } {
    let rows = 0;
    for (let i = 0; i < available; i++) {
      rows += (this.#queue[i] as AppendPending).events.count;
      if (rows >= GROUP_ROWS) return { length: i + 1, rows };
    }
    return { length: available, rows };
  }

  /**
   * Starts a group through the pipeline: encode (on the encoder's worker),
   * then write and fsync once the previous group is durable, then hand its
   * events to the listener in order and resolve its appends. Offsets and
   * duplicate checks assume the groups before it will be written; if one
   * fails, the groups after it are refused too, since both could be wrong.
   */
  #startCommit(group: AppendPending[], previous: Stage | undefined): Stage {
    const keys = new PendingKeys();
    const jobs: FrameJob[] = [];
    const committed: Committed[] = [];
    let offset = this.#nextOffset;
    for (const pending of group) {
      const { events, duplicates } = this.#dropDuplicates(pending.eventType, pending.events, keys);
      if (events.count > 0) jobs.push({ eventType: pending.eventType, firstOffset: offset, rows: events });
      committed.push({ eventType: pending.eventType, events, outcome: { firstOffset: offset, stored: events.count, duplicates } });
      offset += events.count;
    }
    this.#nextOffset = offset;
    const encoded = this.#encoder.encode(jobs).then((frames) => ({ frames }), (error: unknown) => ({ error }));
    const stage: Stage = { group, keys, committed, end: offset, durable: Promise.resolve(false), applied: Promise.resolve() };
    this.#stages.push(stage);
    stage.durable = this.#write(stage, encoded, previous);
    stage.applied = this.#apply(stage, previous);
    return stage;
  }

  async #write(stage: Stage, encoded: Promise<{ frames: Buffer[] } | { error: unknown }>, previous: Stage | undefined): Promise<boolean> {
    const result = await encoded;
    await previous?.durable;
    if (stage.doomedBy !== undefined) return this.#refuse(stage, stage.doomedBy);
    if ('error' in result) return this.#refuse(stage, new LogEncodeError([...new Set(stage.group.map((p) => p.eventType))], result.error));
    try {
      const bytes = result.frames.reduce((n, f) => n + f.length, 0);
      if (bytes > 0) await this.#writeFrames(result.frames, bytes);
    } catch (error) {
      return this.#refuse(stage, this.#writeFailure(this.#activeBase, error));
    }
    this.#end = stage.end;
    stage.keys.addTo(this.keys);
    this.#stages.splice(this.#stages.indexOf(stage), 1);
    // A failed roll-over only means the active segment grows past its target; the next commit tries again.
    if (this.#size >= this.#maxSegmentBytes) await this.#roll().catch(() => undefined);
    return true;
  }

  /**
   * Refuses a group. If its own write failed, the groups started after it are
   * refused too and the next offset rewinds to the durable end; a group
   * refused for an earlier one's failure leaves alone the groups started
   * since, which already count from that rewound end.
   */
  #refuse(stage: Stage, failure: unknown): false {
    const at = this.#stages.indexOf(stage);
    if (stage.doomedBy === undefined) {
      for (const later of this.#stages.slice(at + 1)) later.doomedBy ??= failure;
      this.#nextOffset = this.#end;
    }
    this.#stages.splice(at, 1);
    // The group's keys never reached the index, so a failed write leaves it, and its window, as it was.
    for (const pending of stage.group) pending.reject(failure);
    return false;
  }

  async #apply(stage: Stage, previous: Stage | undefined): Promise<void> {
    const written = await stage.durable;
    // Let the next group start its write first: folding this one in takes main-thread time the disk can use.
    if (written && this.#stages.length > 0) await new Promise(setImmediate);
    await previous?.applied;
    if (!written) return;
    try {
      for (const c of stage.committed) if (c.events.count > 0) this.#options.listener.committed(c.eventType, c.events, c.outcome.firstOffset);
    } catch (error) {
      // A listener's defect stays with this group's appends: later groups and close() must not hang on it.
      for (const pending of stage.group) pending.reject(error);
      return;
    }
    stage.group.forEach((pending, i) => pending.resolve(stage.committed[i]!.outcome));
  }

  #indexKeys(schema: EventTypeSchema, events: EventColumns, from: number): void {
    const keys = keyColumn(schema, events);
    if (keys !== undefined) for (let i = from; i < events.count; i++) this.keys.add(schema.name, keys[i]!);
  }

  #dropDuplicates(eventType: string, events: EventColumns, keysAdded: PendingKeys): { events: EventColumns; duplicates: number[] } {
    const keys = keyColumn(this.#options.catalog.eventTypes.get(eventType)!, events);
    if (keys === undefined) return { events, duplicates: [] };
    const kept: number[] = [];
    const duplicates: number[] = [];
    for (let i = 0; i < events.count; i++) {
      const key = keys[i]!;
      if (this.keys.has(eventType, key) || keysAdded.has(eventType, key) || this.#inFlight(eventType, key)) {
        duplicates.push(i);
      } else {
        keysAdded.add(eventType, key);
        kept.push(i);
      }
    }
    return { events: duplicates.length === 0 ? events : selectEvents(events, kept), duplicates };
  }

  /** Whether a group still being written, and not refused, holds the key. */
  #inFlight(eventType: string, key: string): boolean {
    for (const stage of this.#stages) if (stage.doomedBy === undefined && stage.keys.has(eventType, key)) return true;
    return false;
  }

  async #writeFrames(frames: Buffer[], bytes: number): Promise<void> {
    try {
      let written = (await this.#file.writev(frames, this.#size)).bytesWritten;
      if (written < bytes) {
        // A short write (a disk filling up, typically): write the rest, so the failure surfaces with its errno.
        const all = Buffer.concat(frames);
        while (written < bytes) {
          const { bytesWritten } = await this.#file.write(all, written, bytes - written, this.#size + written);
          if (bytesWritten === 0) throw new Error(`short write: ${written} of ${bytes} bytes`);
          written += bytesWritten;
        }
      }
      await syncWrites(this.#file);
      this.#size += bytes;
    } catch (error) {
      // Cut the partial group off so the file ends on a whole frame, durably (its bytes may be: O_DSYNC
      // wrote them); best effort, recovery cuts it too.
      await this.#file.truncate(this.#size).then(() => this.#file.datasync()).catch(() => undefined);
      throw error;
    }
  }

  /** The error an append or seal is rejected with: a full disk is told apart, since it clears by itself. */
  #writeFailure(segmentBase: number, error: unknown): DiskFullError | LogWriteError {
    return isDiskFull(error) ? new DiskFullError(this.#options.dir, error) : new LogWriteError(segmentPath(this.#options.dir, segmentBase), error);
  }

  async #sealNow(pending: Extract<Pending, { kind: 'seal' }>): Promise<void> {
    try {
      if (this.#size > 0) await this.#roll();
      // Every earlier group has been delivered and no later one started: the listener sees the seal in order.
      this.#options.listener.sealed(this.#end);
      pending.resolve(this.#end);
    } catch (error) {
      pending.reject(this.#writeFailure(this.#end, error));
    }
  }

  /** Writes a history frame at the log end; every earlier group is durable and applied, and no later one started. */
  async #reserveNow(pending: ReservePending): Promise<void> {
    const first = this.#end;
    const frame = encodeHistoryFrame(pending.eventType, first, pending.count);
    try {
      await this.#writeFrames([frame], frame.length);
    } catch (error) {
      pending.reject(this.#writeFailure(this.#activeBase, error));
      return;
    }
    this.#end = first + pending.count;
    this.#nextOffset = this.#end;
    if (this.#size >= this.#maxSegmentBytes) await this.#roll().catch(() => undefined);
    pending.resolve(first);
  }

  /** Starts a new segment at the log end. */
  async #roll(): Promise<void> {
    const nextPath = segmentPath(this.#options.dir, this.#end);
    const next = await openSynced(nextPath, true);
    try {
      // The new file's directory entry must be durable before anything written to it is acknowledged.
      await syncDirectory(this.#options.dir);
      await writeActiveBase(this.#options.dir, this.#end);
    } catch (error) {
      // Left behind, the empty file would claim this offset as a segment start while the old segment grows on.
      await next.close();
      await unlink(nextPath).catch(() => undefined);
      await writeActiveBase(this.#options.dir, this.#activeBase).catch(() => undefined);
      throw error;
    }
    await this.#file.close();
    const sealed = { base: this.#activeBase, end: this.#end };
    this.#sealed.push(sealed);
    this.#activeBase = this.#end;
    this.#file = next;
    this.#size = 0;
    this.#options.listener.rolled?.(sealed);
  }

  /**
   * Calls `visit` with the events of every frame still in segment files
   * (sealed and active), in offset order; frames of event types the catalog
   * no longer declares are passed over. Used at start-up to rebuild the speed
   * layer. The idempotency keys of events at or past `keysFrom` enter the
   * index as they pass (those below it are already there, from Parquet), so
   * each key enters once, in offset order.
   */
  async replay(visit: (eventType: string, events: EventColumns, firstOffset: number) => void, keysFrom = 0): Promise<void> {
    const segments = [...this.#sealed, { base: this.#activeBase, end: this.#end }];
    for (const segment of segments) {
      const path = segmentPath(this.#options.dir, segment.base);
      const scan = await scanSegment(path, segment.base);
      if (scan.problem !== undefined && scan.end < segment.end) throw new CorruptLogError(path, scan.validBytes, scan.problem);
      // A sealed segment's range is read off the next one's name, so a missing segment shows only here.
      if (segment.base !== this.#activeBase && scan.end !== segment.end) throw new LogGapError(path, scan.end, segment.end);
      for (const frame of scan.frames) {
        const schema = this.#options.catalog.eventTypes.get(frame.eventType);
        if (schema === undefined) continue;
        const events = toColumns(schema.fields, frameRows(frame));
        this.#indexKeys(schema, events, Math.max(0, keysFrom - frame.firstOffset));
        visit(frame.eventType, events, frame.firstOffset);
      }
    }
  }

  /** Deletes sealed segments whose every offset is below `cutoff` (the batch layer has absorbed them). */
  async releaseBefore(cutoff: number): Promise<void> {
    const released = this.#sealed.filter((s) => s.end <= cutoff);
    this.#sealed = this.#sealed.filter((s) => s.end > cutoff);
    for (const s of released) await unlink(segmentPath(this.#options.dir, s.base)).catch(() => undefined);
  }

  /** Waits for queued appends, then closes the file. Later appends fail with {@link LogClosedError}. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#running) await this.#flushing;
    await this.#tail?.applied;
    await this.#encoder.close();
    await this.#file.close();
  }
}

/** The keys of the group being written, in order: they join the index only once the group is durable. */
class PendingKeys {
  readonly #order: [string, string][] = [];
  readonly #byType = new Map<string, Set<string>>();

  has(eventType: string, key: string): boolean {
    return this.#byType.get(eventType)?.has(key) ?? false;
  }

  add(eventType: string, key: string): void {
    let keys = this.#byType.get(eventType);
    if (keys === undefined) this.#byType.set(eventType, (keys = new Set()));
    keys.add(key);
    this.#order.push([eventType, key]);
  }

  addTo(index: IdempotencyIndex): void {
    for (const [eventType, key] of this.#order) index.add(eventType, key);
  }
}

/** The idempotency keys of some events, or undefined for an event type without them. */
function keyColumn(schema: EventTypeSchema, events: EventColumns): string[] | undefined {
  const field = schema.idempotencyKey;
  return field === undefined ? undefined : events.columns[schema.fields.indexOf(field)] as string[];
}
