/**
 * The master dataset's write path: a durable, append-only, gap-free log of
 * validated events on local disk, with group commit.
 *
 * Appends queue up while the previous group is being written; each group is
 * written with one `writev` and made durable with one `fdatasync`, and only
 * then are its events handed to the listener (the speed layer) and its
 * appends resolved. Offsets are assigned at commit, so a failed write leaves
 * no gap: the file is truncated back and the next group reuses the offsets.
 *
 * @module
 */
import { mkdir, open, truncate, unlink, type FileHandle } from 'node:fs/promises';
import type { Catalog, Row } from '../definitions/index.ts';
import { UnknownEventTypeError } from '../definitions/index.ts';
import { CorruptLogError, DiskFullError, LogClosedError, LogOverloadedError, LogWriteError } from './errors.ts';
import { encodeFrame } from './frame.ts';
import { IdempotencyIndex } from './idempotency-index.ts';
import { frameRows, scanSegment, type LoggedRow } from './segment-scan.ts';
import { listSegmentBases, segmentPath } from './segment-files.ts';
import { isDiskFull } from '../util/disk-full.ts';
import { syncDirectory } from '../util/sync-directory.ts';

/** Told, in offset order, of everything the log makes durable. */
export interface LogListener {
  /** Rows `[firstOffset, firstOffset + rows.length)` are durable. Called before their appends resolve. */
  committed(eventType: string, rows: readonly Row[], firstOffset: number): void;
  /** The active segment was sealed at `end`; later offsets go to a new segment. */
  sealed(end: number): void;
}

export interface AppendOutcome {
  /** Offset of the first stored row; rows got consecutive offsets. */
  readonly firstOffset: number;
  readonly stored: number;
  /** Indexes (in the rows passed) of rows dropped because their idempotency key was already in the log. */
  readonly duplicates: readonly number[];
}

export interface EventLogOptions {
  readonly dir: string;
  readonly catalog: Catalog;
  readonly listener: LogListener;
  /** Segments roll over once they reach this size. Default 64 MiB. */
  readonly maxSegmentBytes?: number;
  /**
   * Events that may wait to be made durable (queued or being written) before
   * appends are refused with {@link LogOverloadedError}. Default 1,000,000.
   * An append is never refused while nothing waits, however large it is.
   */
  readonly maxPendingEvents?: number;
  /** Told of a torn tail cut off at recovery. */
  readonly onRecovered?: (info: { file: string; droppedBytes: number; reason: string }) => void;
}

/** A sealed segment: offsets `[base, end)`. */
export interface SealedSegment {
  readonly base: number;
  readonly end: number;
}

type Pending =
  | { readonly kind: 'append'; readonly eventType: string; readonly rows: readonly Row[]; resolve(o: AppendOutcome): void; reject(e: unknown): void }
  | { readonly kind: 'seal'; resolve(end: number): void; reject(e: unknown): void };

export class EventLog {
  readonly keys: IdempotencyIndex;
  readonly #options: EventLogOptions;
  readonly #maxSegmentBytes: number;
  #sealed: SealedSegment[];
  #activeBase: number;
  #file: FileHandle;
  #size: number;
  #end: number;
  #queue: Pending[] = [];
  /** Rows appended but not yet durable: queued, or in the group being written. */
  #pendingEvents = 0;
  #flushing: Promise<void> | undefined;
  #running = false;
  #closed = false;

  private constructor(options: EventLogOptions, sealed: SealedSegment[], activeBase: number, file: FileHandle, size: number, end: number) {
    this.#options = options;
    const windows = [...options.catalog.eventTypes.values()].flatMap((e) => (e.idempotencyWindow === undefined ? [] : [[e.name, e.idempotencyWindow] as const]));
    this.keys = new IdempotencyIndex(new Map(windows));
    this.#maxSegmentBytes = options.maxSegmentBytes ?? 64 * 1024 * 1024;
    this.#sealed = sealed;
    this.#activeBase = activeBase;
    this.#file = file;
    this.#size = size;
    this.#end = end;
  }

  /**
   * Opens the log in `dir`, creating it if needed. A torn or corrupt tail of
   * the active segment (a write the crash cut short) is truncated away: it
   * was never acknowledged. Damage with intact frames after it is refused
   * with {@link CorruptLogError}.
   */
  static async open(options: EventLogOptions): Promise<EventLog> {
    await mkdir(options.dir, { recursive: true });
    const bases = await listSegmentBases(options.dir);
    const activeBase = bases.at(-1) ?? 0;
    const sealed = bases.slice(0, -1).map((base, i) => ({ base, end: bases[i + 1]! }));
    const path = segmentPath(options.dir, activeBase);
    let size = 0;
    let end = activeBase;
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
        options.onRecovered?.({ file: path, droppedBytes: scan.fileBytes - scan.validBytes, reason: scan.problem });
      }
      size = scan.validBytes;
      end = scan.end;
    }
    const file = await open(path, bases.length > 0 ? 'r+' : 'w+');
    if (bases.length === 0) await syncDirectory(options.dir);
    return new EventLog(options, sealed, activeBase, file, size, end);
  }

  /** One past the last durable offset. */
  get end(): number {
    return this.#end;
  }

  /** Sealed segments still on disk, oldest first. */
  get sealedSegments(): readonly SealedSegment[] {
    return this.#sealed;
  }

  /**
   * Appends validated rows of one event type. Resolves once they are durable
   * and the listener has seen them.
   */
  append(eventType: string, rows: readonly Row[]): Promise<AppendOutcome> {
    if (!this.#options.catalog.eventTypes.has(eventType)) return Promise.reject(new UnknownEventTypeError(eventType));
    if (this.#closed) return Promise.reject(new LogClosedError());
    const limit = this.#options.maxPendingEvents ?? 1_000_000;
    if (this.#pendingEvents > 0 && this.#pendingEvents + rows.length > limit) return Promise.reject(new LogOverloadedError(this.#pendingEvents, limit));
    this.#pendingEvents += rows.length;
    const settled = () => (this.#pendingEvents -= rows.length);
    return this.#enqueue<AppendOutcome>((resolve, reject) => ({
      kind: 'append', eventType, rows,
      resolve: (outcome) => { settled(); resolve(outcome); },
      reject: (error) => { settled(); reject(error); },
    }));
  }

  /** Seals the active segment (if it holds anything) and resolves with the sealed end: every offset below it is in a sealed segment. */
  seal(): Promise<number> {
    return this.#enqueue<number>((resolve, reject) => ({ kind: 'seal', resolve, reject }));
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
        const sealAt = this.#queue.findIndex((p) => p.kind === 'seal');
        const group = this.#queue.splice(0, sealAt === -1 ? this.#queue.length : sealAt);
        if (group.length > 0) await this.#commit(group as Extract<Pending, { kind: 'append' }>[]);
        else await this.#sealNow(this.#queue.shift() as Extract<Pending, { kind: 'seal' }>);
      }
    } finally {
      // Cleared in the same tick as the last empty-queue check, so no append can be stranded.
      this.#running = false;
    }
  }

  async #commit(group: Extract<Pending, { kind: 'append' }>[]): Promise<void> {
    const frames: Buffer[] = [];
    const keysAdded = new PendingKeys();
    const committed: { eventType: string; rows: Row[]; outcome: AppendOutcome }[] = [];
    let offset = this.#end;
    for (const pending of group) {
      const { rows, duplicates } = this.#dropDuplicates(pending.eventType, pending.rows, keysAdded);
      if (rows.length > 0) frames.push(encodeFrame(pending.eventType, offset, rows.length, encodeRows(rows, offset)));
      committed.push({ eventType: pending.eventType, rows, outcome: { firstOffset: offset, stored: rows.length, duplicates } });
      offset += rows.length;
    }
    const bytes = frames.reduce((n, f) => n + f.length, 0);
    try {
      if (bytes > 0) await this.#write(frames, bytes);
    } catch (error) {
      // The group's keys never reached the index, so a failed write leaves it, and its window, as it was.
      const failure = this.#writeFailure(this.#activeBase, error);
      for (const pending of group) pending.reject(failure);
      return;
    }
    this.#end = offset;
    keysAdded.addTo(this.keys);
    for (const c of committed) if (c.rows.length > 0) this.#options.listener.committed(c.eventType, c.rows, c.outcome.firstOffset);
    group.forEach((pending, i) => pending.resolve(committed[i]!.outcome));
    // A failed roll-over only means the active segment grows past its target; the next commit tries again.
    if (this.#size >= this.#maxSegmentBytes) await this.#roll().catch(() => undefined);
  }

  #dropDuplicates(eventType: string, rows: readonly Row[], keysAdded: PendingKeys): { rows: Row[]; duplicates: number[] } {
    const keyField = this.#options.catalog.eventTypes.get(eventType)!.idempotencyKey?.name;
    if (keyField === undefined) return { rows: rows as Row[], duplicates: [] };
    const kept: Row[] = [];
    const duplicates: number[] = [];
    rows.forEach((row, i) => {
      const key = row[keyField] as string;
      if (this.keys.has(eventType, key) || keysAdded.has(eventType, key)) {
        duplicates.push(i);
        return;
      }
      keysAdded.add(eventType, key);
      kept.push(row);
    });
    return { rows: kept, duplicates };
  }

  async #write(frames: Buffer[], bytes: number): Promise<void> {
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
      await this.#file.datasync();
      this.#size += bytes;
    } catch (error) {
      // Cut the partial group off so the file ends on a whole frame; best effort, recovery cuts it too.
      await this.#file.truncate(this.#size).catch(() => undefined);
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
      pending.resolve(this.#end);
    } catch (error) {
      pending.reject(this.#writeFailure(this.#end, error));
    }
  }

  async #roll(): Promise<void> {
    const nextPath = segmentPath(this.#options.dir, this.#end);
    const next = await open(nextPath, 'w+');
    try {
      // The new file's directory entry must be durable before anything written to it is acknowledged.
      await syncDirectory(this.#options.dir);
    } catch (error) {
      // Left behind, the empty file would claim this offset as a segment start while the old segment grows on.
      await next.close();
      await unlink(nextPath).catch(() => undefined);
      throw error;
    }
    await this.#file.close();
    this.#sealed.push({ base: this.#activeBase, end: this.#end });
    this.#activeBase = this.#end;
    this.#file = next;
    this.#size = 0;
    this.#options.listener.sealed(this.#end);
  }

  /**
   * Calls `visit` for every row still in segment files (sealed and active), in
   * offset order. Used at start-up to rebuild the speed layer and the keys.
   */
  async replay(visit: (eventType: string, row: LoggedRow) => void): Promise<void> {
    const segments = [...this.#sealed, { base: this.#activeBase, end: this.#end }];
    for (const segment of segments) {
      const path = segmentPath(this.#options.dir, segment.base);
      const scan = await scanSegment(path, segment.base);
      if (scan.problem !== undefined && scan.end < segment.end) throw new CorruptLogError(path, scan.validBytes, scan.problem);
      for (const frame of scan.frames) for (const row of frameRows(frame)) visit(frame.eventType, row);
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

/** NDJSON lines, each row with its offset (set in place here). */
function encodeRows(rows: readonly Row[], firstOffset: number): Buffer {
  let text = '';
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    row._offset = firstOffset + i;
    text += `${JSON.stringify(row)}\n`;
  }
  return Buffer.from(text, 'utf8');
}
