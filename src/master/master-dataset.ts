/**
 * The master dataset's Parquet part: every sealed log segment, exported once
 * into one Parquet file per event type, with a manifest that lists them and
 * their SHA-256s. The embedded backend codes against {@link MasterDataset};
 * this module's {@link LocalMasterDataset} keeps the files in a local
 * directory. Cluster mode's archive (`backends/nats/partition-archive.ts`:
 * ranges of each partition in a NATS object store, each with a snapshot of
 * the duplicate rule) is the same idea in another shape; what both hand the
 * batch layer is the same `BatchSource`, and the seam between the two modes
 * is `EngineBackend` (`src/engine/engine-backend.ts`).
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog, ErasurePredicate } from '../definitions/index.ts';
import { eraseFromMaster, type ErasedFromMaster } from './erasure.ts';
import type { IdempotencyIndex, SealedSegment } from '../log/index.ts';
import { CorruptMasterFileError } from './errors.ts';
import { manifestGaps, manifestPath, parquetRangesWithin } from './manifest-gaps.ts';
import { loadIdempotencyKeys } from './idempotency-keys.ts';
import { readSegmentManifests, rebuildSegmentManifest, verifyMasterFiles, writeSegmentManifest } from './master-integrity.ts';
import { deleteRetired, MaxTimes, moveRetired, retiredFiles, retirementCandidates, withRetired, type RetiredFile } from './retention.ts';
import { manifestFiles, type MasterSource, type SegmentManifest } from './master-layout.ts';
import { ParquetExporter, removeTemporaryFiles } from './parquet-export.ts';

/** What the engine needs of the master dataset. */
export interface MasterDataset {
  /** One past the last offset in Parquet: segments below it are exported. */
  readonly exportedEnd: number;
  /**
   * Exports every sealed segment below `cutoff` that is not in Parquet yet.
   * Calls run one after another, so a batch cycle's call waits for a
   * background export under way and then exports only what is left.
   */
  exportSealed(sealed: readonly SealedSegment[], cutoff: number): Promise<void>;
  /** Offsets `[base, end)` of each segment manifest, oldest first. */
  readonly ranges: readonly { readonly base: number; readonly end: number }[];
  /**
   * Writes the manifests missing below `upTo` (and below the last manifest's
   * end) again from a copy that survives: the stretch's Parquet files, or
   * the log segments still in `sealed`. What no copy holds stays missing.
   */
  fillGaps(sealed: readonly SealedSegment[], upTo: number): Promise<void>;
  /**
   * Throws a {@link CorruptMasterFileError} unless every file in `[from, cutoff)`
   * has the checksum it was written with; a damaged segment still in `sealed`
   * is first exported again from the log.
   */
  verify(cutoff: number, from?: number, sealed?: readonly SealedSegment[]): Promise<void>;
  /** The Parquet files below `cutoff`, per event type. */
  sourcesBelow(cutoff: number): Map<string, MasterSource>;
  /** The Parquet files of offsets in `[from, to)`, per event type: what an incremental batch cycle reads. */
  sourcesBetween(from: number, to: number): Map<string, MasterSource>;
  /**
   * Adds every stored idempotency key to `keys`, oldest first; a file that
   * cannot be read is reported and skipped. A type in `covered` has its keys
   * below that offset already (from a snapshot): only segments ending past
   * it are read; a file below it is only checked to exist, and one missing
   * is reported with `keysKnown`.
   */
  loadKeys(keys: IdempotencyIndex, onDamaged: (error: CorruptMasterFileError, keysKnown: boolean) => void, covered?: ReadonlyMap<string, number>): Promise<void>;
  /**
   * Runs `work` with every export held back until it settles: a history
   * import claims its offsets in the log before its files are committed,
   * and the segment holding its claim must not be exported in between.
   */
  holdExports<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Retention's first phase (`retention.ts`): retires the files of segments
   * ending at or below `below` whose events are all older than their type's
   * entry in `horizons`, as `generation`; resolves with how many.
   */
  retire(below: number, horizons: ReadonlyMap<string, number>, generation: number, at: Date): Promise<number>;
  /** The latest generation that retired files; 0 before any. */
  readonly retiredGeneration: number;
  /** Per event type, the retired files of generations after `generation` not deleted yet: what a view keeping its aggregates folds in. */
  retiredSince(generation: number): Map<string, MasterSource>;
  /**
   * Retention's second phase: deletes the retired files of generations up to
   * `throughGeneration` (a published version no longer reads them) retired
   * before `retiredBefore`; resolves with how many.
   */
  purgeRetired(throughGeneration: number, retiredBefore: number, at: Date): Promise<number>;
  /**
   * Erases the events `predicate` matches from every file of its type
   * (`erasure.ts`), as erasure `id`: call it after exporting every segment
   * that may hold them. `onFound` hears what it found (the events, files and
   * idempotency keys it erases) before any file changes.
   */
  erase(predicate: ErasurePredicate, id: string, onFound: (found: ErasedFromMaster) => Promise<void>): Promise<ErasedFromMaster>;
  /** What retention took out so far: files and events retired, and of those files how many wait for deletion. */
  retentionFigures(): RetentionFigures;
  /** Stops the export's worker thread. */
  close(): Promise<void>;
}

/** What retention took out of the master dataset so far. */
export interface RetentionFigures {
  readonly retiredFiles: number;
  readonly retiredEvents: number;
  /** Retired files still on disk, waiting for the grace period to end. */
  readonly awaitingDeletion: number;
}

export interface MasterDatasetOptions {
  readonly dir: string;
  /** The log's directory, whose sealed segments are exported. */
  readonly logDir: string;
  readonly catalog: Catalog;
  readonly connection: DuckDBConnection;
  /**
   * The connection exports run on; by default {@link connection}. Its own
   * lets a background export run while the batch layer queries.
   */
  readonly exportConnection?: DuckDBConnection;
  /** Told of each damaged manifest, before it is rebuilt from its Parquet files. */
  readonly onDamagedManifest: (file: string, reason: string) => void;
  /** Told of each missing manifest or damaged file written again from a surviving copy. */
  readonly onRebuilt?: (file: string, from: string, reason: string) => void;
}

export class LocalMasterDataset implements MasterDataset {
  readonly #segments: SegmentManifest[];
  readonly #exporter: ParquetExporter;
  readonly #maxTimes: MaxTimes;
  /** The export under way, if any: the next one starts after it. */
  #exporting: Promise<void> = Promise.resolve();

  private constructor(private readonly options: MasterDatasetOptions, segments: SegmentManifest[]) {
    this.#segments = segments;
    this.#exporter = new ParquetExporter(options.catalog, options.logDir, options.dir, options.exportConnection ?? options.connection);
    this.#maxTimes = new MaxTimes(options.connection, options.catalog, options.dir);
  }

  /**
   * Opens the directory: removes what a crash left half-written, and reads
   * the segment manifests, rebuilding damaged ones from their Parquet files
   * (a manifest is written after its files, so they are whole unless damaged
   * themselves, which the rebuild checks).
   */
  static async open(options: MasterDatasetOptions): Promise<LocalMasterDataset> {
    await removeTemporaryFiles(options.dir);
    const { manifests, damaged } = await readSegmentManifests(options.dir);
    for (const d of damaged) {
      options.onDamagedManifest(d.file, d.reason);
      manifests.push(await rebuildSegmentManifest(options.dir, d, options.connection));
    }
    // A retirement a crash cut short between its manifest and its move is finished.
    for (const manifest of manifests) for (const file of retiredFiles(manifest)) await moveRetired(options.dir, file);
    return new LocalMasterDataset(options, manifests.sort((a, b) => a.base - b.base));
  }

  get exportedEnd(): number {
    return this.#segments.reduce((end, s) => Math.max(end, s.end), 0);
  }

  exportSealed(sealed: readonly SealedSegment[], cutoff: number): Promise<void> {
    const segments = [...sealed];
    const run = this.#exporting.catch(() => undefined).then(() => this.#exportEach(segments, cutoff));
    this.#exporting = run;
    return run;
  }

  async #exportEach(sealed: readonly SealedSegment[], cutoff: number): Promise<void> {
    for (const segment of sealed) {
      if (segment.end > cutoff || this.#segments.some((s) => s.base === segment.base)) continue;
      this.#segments.push(await this.#exporter.export(segment.base, segment.end));
    }
  }

  holdExports<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#exporting.catch(() => undefined).then(work);
    this.#exporting = run.then(() => undefined, () => undefined);
    return run;
  }

  get ranges(): readonly { readonly base: number; readonly end: number }[] {
    return this.#segments.map(({ base, end }) => ({ base, end }));
  }

  async fillGaps(sealed: readonly SealedSegment[], upTo: number): Promise<void> {
    for (const gap of manifestGaps(this.#segments, upTo)) {
      for (const range of await parquetRangesWithin(this.options.dir, gap)) {
        const file = manifestPath(this.options.dir, range.base, range.end);
        const rebuilt = await rebuildSegmentManifest(this.options.dir, { file, ...range, reason: 'it is missing' }, this.options.connection).catch(() => undefined);
        if (rebuilt === undefined) continue;
        this.#segments.push(rebuilt);
        this.options.onRebuilt?.(file, 'its Parquet files', 'it was missing');
      }
    }
    for (const gap of manifestGaps(this.#segments, upTo)) {
      for (const segment of sealed.filter((s) => s.base >= gap.base && s.end <= gap.end)) {
        // A segment that does not read whole up to its end is no copy to rebuild from: the gap stays, and the engine says so.
        const exported = await this.#exporter.export(segment.base, segment.end, true).catch(() => undefined);
        if (exported === undefined) continue;
        this.#segments.push(exported);
        this.options.onRebuilt?.(manifestPath(this.options.dir, segment.base, segment.end), 'its log segment', 'it was missing');
      }
    }
    this.#segments.sort((a, b) => a.base - b.base);
  }

  async verify(cutoff: number, from = 0, sealed: readonly SealedSegment[] = []): Promise<void> {
    for (const [i, manifest] of this.#segments.entries()) {
      if (manifest.end > cutoff || manifest.base < from) continue;
      const damage = await verifyMasterFiles(this.options.dir, [manifest]).then(() => undefined, (error: unknown) => error);
      if (damage === undefined) continue;
      // The log still holds the segment (a run that failed after exporting it, say): the damaged export is redone from it.
      if (!(damage instanceof CorruptMasterFileError) || !sealed.some((s) => s.base === manifest.base && s.end === manifest.end)) throw damage;
      this.#segments[i] = await this.#exporter.export(manifest.base, manifest.end, true);
      this.options.onRebuilt?.(damage.file, 'its log segment', damage.reason);
    }
  }

  sourcesBelow(cutoff: number): Map<string, MasterSource> {
    return this.sourcesBetween(0, cutoff);
  }

  sourcesBetween(from: number, to: number): Map<string, MasterSource> {
    // Cutoffs fall on segment ends, so a segment is wholly inside the range or wholly out of it.
    return this.#sources((segment) => segment.end <= to && segment.base >= from);
  }

  /** Per event type, the files of the segments `include` takes. */
  #sources(include: (segment: SegmentManifest, eventType: string) => boolean): Map<string, MasterSource> {
    const sources = new Map<string, MasterSource>();
    for (const segment of this.#segments) {
      for (const { eventType: type, file } of manifestFiles(segment)) {
        if (!include(segment, type)) continue;
        const source = sources.get(type) ?? { files: [], events: 0 };
        source.files.push(join(this.options.dir, file.path));
        source.events += file.rows;
        sources.set(type, source);
      }
    }
    return sources;
  }

  retire(below: number, horizons: ReadonlyMap<string, number>, generation: number, at: Date): Promise<number> {
    // Held with the exports, which push to the same list of manifests.
    return this.holdExports(async () => {
      const candidates = await retirementCandidates(this.#segments, below, horizons, this.#maxTimes);
      for (const [i, segment] of this.#segments.entries()) {
        const leaving = candidates.filter((c) => c.base === segment.base);
        if (leaving.length === 0) continue;
        const retired = withRetired(segment, leaving, generation, at);
        await writeSegmentManifest(this.options.dir, retired);
        this.#segments[i] = retired;
        for (const file of retiredFiles(retired)) await moveRetired(this.options.dir, file);
      }
      return candidates.length;
    });
  }

  get retiredGeneration(): number {
    return this.#retired().reduce((g, f) => Math.max(g, f.generation), 0);
  }

  retiredSince(generation: number): Map<string, MasterSource> {
    const sources = new Map<string, MasterSource>();
    for (const file of this.#retired()) {
      if (file.generation <= generation || file.deletedAt !== undefined) continue;
      const source = sources.get(file.eventType) ?? { files: [], events: 0 };
      source.files.push(join(this.options.dir, file.path));
      source.events += file.rows;
      sources.set(file.eventType, source);
    }
    return sources;
  }

  purgeRetired(throughGeneration: number, retiredBefore: number, at: Date): Promise<number> {
    return this.holdExports(async () => {
      let deleted = 0;
      for (const [i, segment] of this.#segments.entries()) {
        const due = (f: RetiredFile): boolean => f.deletedAt === undefined && f.generation <= throughGeneration && Date.parse(f.retiredAt) < retiredBefore;
        const files = retiredFiles(segment);
        if (!files.some(due)) continue;
        // The record says deleted before the file goes: a crash between leaves a file nothing names, never a name without its file that a reader would miss.
        const updated = { ...segment, retired: files.map((f) => (due(f) ? { ...f, deletedAt: at.toISOString() } : f)) };
        await writeSegmentManifest(this.options.dir, updated);
        this.#segments[i] = updated;
        for (const file of files.filter(due)) await deleteRetired(this.options.dir, file);
        deleted += files.filter(due).length;
      }
      return deleted;
    });
  }

  erase(predicate: ErasurePredicate, id: string, onFound: (found: ErasedFromMaster) => Promise<void>): Promise<ErasedFromMaster> {
    // Held with the exports and history imports, which add files of the type meanwhile.
    return this.holdExports(async () => {
      const { segments, erased } = await eraseFromMaster(this.options.connection, this.options.dir, this.#segments, predicate, id, onFound);
      this.#segments.splice(0, this.#segments.length, ...segments);
      return erased;
    });
  }

  retentionFigures(): RetentionFigures {
    const retired = this.#retired();
    return {
      retiredFiles: retired.length, retiredEvents: retired.reduce((n, f) => n + f.rows, 0), awaitingDeletion: retired.filter((f) => f.deletedAt === undefined).length,
    };
  }

  #retired(): RetiredFile[] {
    return this.#segments.flatMap(retiredFiles);
  }

  async close(): Promise<void> {
    await this.#exporting.catch(() => undefined);
    await this.#exporter.close();
  }

  async loadKeys(keys: IdempotencyIndex, onDamaged: (error: CorruptMasterFileError, keysKnown: boolean) => void, covered: ReadonlyMap<string, number> = new Map()): Promise<void> {
    // A file whose keys came from the snapshot is not read here, but one gone is still named at open, not first at the next full run.
    const skipped = this.#sources((segment, eventType) => segment.end <= (covered.get(eventType) ?? 0));
    for (const source of skipped.values()) for (const file of source.files) if (!existsSync(file)) onDamaged(new CorruptMasterFileError(file, 'it is missing'), true);
    await loadIdempotencyKeys(this.options.connection, this.options.catalog, this.#sourcesPast(covered), keys, (error) => onDamaged(error, false));
  }

  /** Per event type, the files of the segments that end past its entry in `covered` (all of them for a type not in it). */
  #sourcesPast(covered: ReadonlyMap<string, number>): Map<string, MasterSource> {
    return this.#sources((segment, eventType) => segment.end > (covered.get(eventType) ?? 0));
  }
}
