/**
 * The embedded backend: one data directory on local disk. The log is the
 * write-ahead log of the master dataset (one partition); sealed segments are
 * exported to Parquet, in the background and at each cycle; DuckDB computes
 * the batch views (incrementally over the new segments, with a full
 * recompute as ground truth) and each version is published into `batch/`.
 *
 * @module
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import {
  CorruptBatchViewError, loadPublished, mayBuildOn, runBatch, withFrozenOutcomes, type BatchManifest, type InMemoryBatchViews, type LocalVersionStore, type PublishedVersion,
} from '../../batch/index.ts';
import { compileErasure, selectEvents, type Catalog, type EventColumns, type ViewSchema } from '../../definitions/index.ts';
import type {
  Backfill, BackfillJob, BackendAppend, BackendHost, BackendStatus, CycleContext, EngineBackend, ErasureEntry, SpeedPart, StoredTypes,
} from '../../engine/engine-backend.ts';
import type { BatchFailure, BatchSummary, EngineLogger, ErasureAudit, TandemOptions } from '../../engine/engine-types.ts';
import { viewFigures } from '../../engine/batch-history.ts';
import type { DataDirLock } from '../../engine/data-dir-lock.ts';
import { DiskFullError, LogGapError, type EventLog, type KeySnapshot } from '../../log/index.ts';
import { exportedThrough, type MasterDataset } from '../../master/index.ts';
import { InvalidQueryError, type Query, type QueryPlan } from '../../serving/index.ts';
import type { RealtimeStats, SpeedLayer } from '../../speed/index.ts';
import { isDiskFull } from '../../util/disk-full.ts';
import { PhaseClock } from '../../util/phase-clock.ts';
import { dataDirectory } from '../../util/data-directory.ts';
import { checkCycleCoverage, checkOpenCoverage, missingSegment } from './coverage-check.ts';
import { computeBackfill, LocalBackfill } from './local-backfill.ts';
import { DEFAULT_RETENTION_GRACE_MS, retireDue } from './local-retention.ts';
import type { ErasureJournal } from './erasure-journal.ts';

/**
 * DuckDB for the batch layer, and a second instance limited to one thread
 * for exports to Parquet. Background exports run while ingest does; with all
 * threads they took both of this machine's cores from it. Threads are a
 * setting of the instance, not of a connection, hence two instances.
 */
export interface DuckDbParts {
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
  readonly exportInstance: DuckDBInstance;
  readonly exportConnection: DuckDBConnection;
}

export async function openDuckDb(): Promise<DuckDbParts> {
  const instance = await DuckDBInstance.create(':memory:');
  const exportInstance = await DuckDBInstance.create(':memory:', { threads: '1' });
  return { instance, connection: await instance.connect(), exportInstance, exportConnection: await exportInstance.connect() };
}

export function closeDuckDb(duck: DuckDbParts): void {
  duck.connection.closeSync();
  duck.instance.closeSync();
  duck.exportConnection.closeSync();
  duck.exportInstance.closeSync();
}

/**
 * A published batch version that fails its checks is not served: the error
 * (naming the file) is logged and `null` tells the caller to rebuild every
 * view from the master dataset, which holds every event below any cutoff.
 */
export function damagedBatch(error: unknown, logger: EngineLogger): null {
  if (!(error instanceof CorruptBatchViewError)) throw error;
  logger.error({ file: error.file, reason: error.message }, 'the published batch version is damaged; rebuilding the batch views from the master dataset');
  return null;
}

/** What the local backend is made of, opened by `Tandem.open`. */
export interface LocalParts {
  readonly catalog: Catalog;
  readonly log: EventLog;
  readonly speed: SpeedLayer;
  readonly store: LocalVersionStore;
  readonly master: MasterDataset;
  readonly duck: DuckDbParts;
  readonly options: TandemOptions;
  readonly lock: DataDirLock;
  readonly schema: StoredTypes;
  /** The idempotency keys' snapshot: read back at open, written after each cycle and at close. */
  readonly keySnapshot: KeySnapshot;
  /** Erasures under way (resumed at start) and the audit log of those done. */
  readonly erasures: ErasureJournal;
  /** The version `batch/CURRENT` names: null when it is damaged (rebuilt at start), undefined before the first. */
  readonly published: PublishedVersion | null | undefined;
}

/**
 * The embedded engine's backend.
 *
 * @example
 * ```ts
 * const backend = new LocalBackend(parts, logger);   // Tandem.open builds the parts
 * ```
 */
export class LocalBackend implements EngineBackend {
  readonly partitions = 1;
  readonly #p: LocalParts;
  readonly #logger: EngineLogger;
  #batch: InMemoryBatchViews | undefined;
  /** The directory of the published version: an incremental cycle links its files into the next. */
  #batchDir: string | undefined;
  #host: BackendHost | undefined;
  #keysIncomplete = false;
  /** The load of the published version started by `start`, a rebuild included. */
  #loaded: Promise<void> = Promise.resolve();
  /** The load alone: a cycle waits for it to build on its views, while the rebuild in {@link #loaded} is itself a cycle. */
  #viewsLoaded: Promise<void> = Promise.resolve();
  #viewsLoading = false;
  /** The catalog views are computed and loaded with: the one opened with, then each one a view change switches in. */
  #catalog: Catalog;

  constructor(parts: LocalParts, logger: EngineLogger) {
    this.#p = parts;
    this.#logger = logger;
    this.#catalog = parts.catalog;
  }

  useCatalog(catalog: Catalog): void {
    this.#catalog = catalog;
  }

  retire(view: ViewSchema): void {
    this.#p.speed.retire(view);
  }

  /** Computes `view` over everything the served version covers, on a DuckDB instance of its own (one thread), in `<dataDir>/backfill/`. */
  async backfill(view: ViewSchema, job: BackfillJob): Promise<Backfill> {
    // Over the version served once it is loaded (or rebuilt): before, the cutoff it covers is not known.
    await this.#loaded.catch(() => undefined);
    const { master, options } = this.#p;
    const through = this.#batch?.manifest.cutoff ?? 0;
    const dir = join(dataDirectory(options.dataDir).backfill, `${view.name}-${view.hash}`);
    return computeBackfill({ master, view, through, dir, job, restShare: options.backfillRestShare ?? 0.5 });
  }

  get storedTypes(): StoredTypes {
    return this.#p.schema;
  }

  get batch(): InMemoryBatchViews | undefined {
    return this.#batch;
  }

  /** Replays the log into the speed layer over the published version, rebuilding it when it is damaged or behind. */
  async start(host: BackendHost): Promise<void> {
    this.#host = host;
    const { master, log, speed, options, published } = this.#p;
    const cutoff = published?.manifest.cutoff ?? 0;
    const phases = new PhaseClock();
    // A manifest missing while its segment is still here is exported again first: the release below would drop that copy.
    await master.fillGaps(log.sealedSegments, cutoff);
    // Segments the published batch absorbed are in Parquet already: dropped first, damage in one cannot block a start.
    await log.releaseBefore(cutoff);
    // No answer may be silently short: a stretch no file holds is refused here, before anything is served.
    const { batchBehind } = checkOpenCoverage(options.dataDir, master, log, cutoff);
    phases.done('check');
    const keysFromSnapshot = await this.#loadKeys();
    phases.done('keys');
    // The segments past the cutoff start generations, as their roll-overs did, so the next cycle may stop at one.
    for (const segment of log.sealedSegments) if (segment.end > cutoff) speed.markBoundary(segment.end);
    // A segment exported but not yet released (a run that failed after exporting) is in both places:
    // its keys came from Parquet, so the log indexes only the keys past the Parquet part.
    await log.replay((eventType, events, first) => {
      const skip = cutoff - first;
      if (skip <= 0) speed.apply(eventType, events, first);
      else if (skip < events.count) speed.apply(eventType, selectEvents(events, Array.from({ length: events.count - skip }, (_, i) => skip + i)), cutoff);
    }, master.exportedEnd).catch((error: unknown) => {
      throw error instanceof LogGapError ? missingSegment(options.dataDir, error.from, error.to) : error;
    });
    phases.done('replay');
    // Where an open's time goes (issue #29 asks for a faster one): the idempotency keys, the log's replay; the batch views load after.
    this.#logger.info({ ms: phases.ms, idempotencyKeys: log.keys.size, keysFromSnapshot, replayed: log.end - cutoff }, 'engine opened');
    // Served while it loads: ingest goes on, and a query of the batch layer waits for it (`whenLoaded`).
    this.#loaded = this.#loadPublished(host, batchBehind).then(() => {
      phases.done('batch');
      this.#logger.info({ ms: phases.ms.batch }, 'batch views loaded');
    });
    this.#loaded.catch((err: unknown) => this.#logger.error({ err }, 'the published batch views could not be loaded or rebuilt; queries of the batch layer fail until a batch cycle succeeds'));
    // Segments sealed before this start and not exported yet (a stop mid-export, say) go now.
    this.exportInBackground();
    // An erasure a stop cut short is finished before anything else is asked of the engine.
    if (this.#p.erasures.pending.length > 0) await host.runBatch({ full: true, seal: true });
  }

  get loading(): BatchManifest | undefined {
    return this.#viewsLoading ? this.#p.published?.manifest : undefined;
  }

  whenLoaded(): Promise<void> {
    return this.#loaded;
  }

  /** The idempotency keys: from the snapshot below its offset, from Parquet past it (or for all of a type it lacks); resolves with how many the snapshot held. */
  async #loadKeys(): Promise<number> {
    const { master, log, keySnapshot } = this.#p;
    const restored = await keySnapshot.restore(log.keys, log.end);
    const fromSnapshot = log.keys.size;
    for (const reason of restored.skipped) this.#logger.warn({ reason }, 'reading idempotency keys from the master dataset instead of their snapshot');
    await master.loadKeys(log.keys, (error, keysKnown) => {
      if (keysKnown) return this.#logger.error({ file: error.file }, error.message);
      // Keys missing now would be missing from every later snapshot too, and a restored file could not put them back.
      this.#keysIncomplete = true;
      this.#logger.error({ file: error.file }, `${error.message} Until then its idempotency keys are not known, so a retry of one of its events would be stored again.`);
    }, restored.covered);
    return fromSnapshot;
  }

  /** Writes the key snapshot, unless keys are missing; a failure only makes the next open slower. */
  async #saveKeys(final = false): Promise<void> {
    if (this.#keysIncomplete) return;
    const { log, keySnapshot } = this.#p;
    await keySnapshot.save(log.keys, log.end, { final }).catch((err: unknown) => {
      this.#logger.warn({ err }, 'could not write the idempotency keys\' snapshot; the next open reads them from the master dataset');
    });
  }

  async #loadPublished(host: BackendHost, batchBehind: boolean): Promise<void> {
    const { published, duck, log } = this.#p;
    const catalog = this.#catalog;
    if (batchBehind || published === null) {
      if (published !== null) this.#logger.error({ cutoff: published?.manifest.cutoff, logStartsAt: log.firstOffset }, 'the published batch version ends before the event log starts (batch/CURRENT missing, or naming an older version); rebuilding every view from the master dataset');
      await host.runBatch({ full: true });
      return;
    }
    if (published === undefined) return;
    const loading = loadPublished(duck.connection, catalog, published.manifest, published.dir).catch((error: unknown) => damagedBatch(error, this.#logger));
    this.#viewsLoading = true;
    this.#viewsLoaded = loading.then(() => undefined, () => undefined).finally(() => (this.#viewsLoading = false));
    const loaded = await loading;
    if (loaded === null) {
      await host.runBatch();
      return;
    }
    this.#batch = loaded.views;
    this.#batchDir = published.dir;
    if (loaded.stale.length > 0) {
      this.#logger.info({ views: loaded.stale }, 'recomputing views whose definition changed');
      await host.runBatch();
    }
  }

  async append(eventType: string, columns: EventColumns): Promise<BackendAppend> {
    const { log } = this.#p;
    const outcome = await log.append(eventType, columns);
    const stored = outcome.stored;
    return {
      duplicates: outcome.duplicates.length,
      offsets: stored > 0 ? { first: outcome.firstOffset, last: outcome.firstOffset + stored - 1 } : null,
      position: [log.end],
    };
  }

  applied(): readonly number[] {
    return [this.#p.log.end];
  }

  batchCutoffs(): readonly number[] {
    return [this.#batch?.manifest.cutoff ?? 0];
  }

  /**
   * Every position this engine answered with is applied already (ingest
   * resolves once its events are visible), so only one from elsewhere, past
   * the log's end, is refused.
   */
  async waitFor(after: readonly number[]): Promise<void> {
    const end = this.#p.log.end;
    if (after[0]! > end) throw new InvalidQueryError('after', `after names offset ${after[0]}, past this engine's log end ${end}: send back the position an ingest of this engine answered with.`);
  }

  /** Views whose definition changed are recomputed at open, before anything is served. */
  checkServable(): void {}

  /** One process holds the whole speed layer: nothing to gather, and nothing served can change before the take. */
  async speedFor(_query: Query, plan: QueryPlan): Promise<SpeedPart> {
    return { take: () => this.#p.speed.tables(plan.view), missing: [] };
  }

  speedStats(): RealtimeStats {
    return this.#p.speed.stats();
  }

  async cycle(context: CycleContext): Promise<BatchSummary> {
    try {
      return await this.#cycle(context);
    } catch (error) {
      // DuckDB reports a full disk only in its message; one typed error lets the server answer 507 either way.
      throw isDiskFull(error) && !(error instanceof DiskFullError) ? new DiskFullError(this.#p.options.dataDir, error) : error;
    }
  }

  async #cycle(context: CycleContext): Promise<BatchSummary> {
    const { switching } = context;
    if (switching === undefined) return this.#cycleOf(context);
    // Before the seal: every generation from the cutoff on then holds the new definition whole (`SpeedLayer.include`).
    this.#p.speed.include(switching.view);
    try {
      return await this.#cycleOf(context);
    } catch (error) {
      // Not switched in: the next attempt seals again, at a later cutoff.
      this.#p.speed.retire(switching.view);
      throw error;
    }
  }

  async #cycleOf({ full, seal, started, progress, switching }: CycleContext): Promise<BatchSummary> {
    const { log, master, store, options, duck, speed } = this.#p;
    const catalog = switching?.catalog ?? this.#catalog;
    // Taken before the seal: an erasure recorded later is applied by a cycle sealing after it, so that it erases every event stored before it.
    const erasing = seal ? [...this.#p.erasures.pending] : [];
    // Only while loading: an await otherwise lets appends in ahead of a seal its caller just asked for.
    if (this.#viewsLoading) await this.#viewsLoaded;
    const cutoff = (seal ? undefined : await this.#segmentCut(progress)) ?? await this.#sealAndExport(progress);
    progress({ cutoff });
    checkCycleCoverage(options.dataDir, master, cutoff);
    const exportMs = performance.now() - started;
    progress({ phase: 'computing' });
    const now = options.now?.() ?? Date.now();
    const served = this.#batch === undefined || this.#batchDir === undefined ? undefined : { batch: this.#batch, dir: this.#batchDir };
    const erased = await this.#erase(erasing, catalog);
    const retired = await retireDue(master, catalog, served, now);
    // The frozen parts carried over leave out the rows the erasures split off.
    const retention = retired === undefined || erasing.length === 0
      ? retired
      : { ...retired, erasing: erasing.map((e) => ({ id: e.id, predicate: compileErasure(catalog.eventTypes, e.request) })) };
    // Monoids do not subtract: a cycle that erased recomputes every view from what remains.
    const previous = this.#incrementalBase(full || erasing.length > 0, catalog, switching?.view.name);
    const from = previous?.from ?? 0;
    await master.verify(cutoff, from, log.sealedSegments);
    const sources = master.sourcesBetween(from, cutoff);
    const backfill = switching?.backfill;
    const backfilled = previous !== undefined && backfill instanceof LocalBackfill ? backfill.input(master.sourcesBetween(backfill.through, cutoff)) : undefined;
    const result = await runBatch({
      catalog, connection: duck.connection, store, cutoff, sources, previous, startedAt: started, ...(backfilled === undefined ? {} : { backfilled }),
      ...(retention === undefined ? {} : { retention }),
      onViewDone: (_view, done) => progress({ viewsDone: done }),
    });
    if (switching !== undefined && !speed.holdsWhole(switching.view, cutoff)) throw new Error(`the speed layer does not hold view '${switching.view.name}' whole from offset ${cutoff}`);
    // Swap the batch view and drop the speed layer's absorbed share in one synchronous step: no query sees both or neither.
    this.#batch = result.views;
    this.#batchDir = store.dirOf(result.manifest.version);
    speed.dropBefore(cutoff);
    if (switching !== undefined) {
      if (switching.replaced !== undefined) speed.retire(switching.replaced);
      switching.commit();
    }
    await log.releaseBefore(cutoff);
    await store.prune(options.keepVersions ?? 3, result.manifest.version);
    // Phase 2 of retention: what the published version no longer reads goes once its grace period is over.
    await master.purgeRetired(result.manifest.retiredGeneration ?? 0, now - (options.retentionGraceMs ?? DEFAULT_RETENTION_GRACE_MS), new Date(now));
    if (erasing.length > 0) await this.#erased(withFrozenOutcomes(erased, result.frozenErased), result.manifest.version);
    // Not awaited: the cycle is done, and a reply need not wait for a snapshot that only speeds up the next open.
    void this.#saveKeys();
    return {
      version: result.manifest.version, cutoff, events: cutoff, durationMs: result.manifest.durationMs, exportMs,
      mode: result.manifest.mode ?? 'full', inputEvents: [...sources.values()].reduce((n, s) => n + s.events, 0),
      views: viewFigures(result.manifest),
    };
  }

  /**
   * Applies `erasing` to the master dataset (every segment below the cutoff
   * is exported by now) and the key index; resolves with each one's audit,
   * completed once the cycle has published.
   */
  async #erase(erasing: readonly ErasureEntry[], catalog: Catalog): Promise<Omit<ErasureAudit, 'completedAt'>[]> {
    const { master, log, erasures } = this.#p;
    const audits: Omit<ErasureAudit, 'completedAt'>[] = [];
    for (const entry of erasing) {
      const predicate = compileErasure(catalog.eventTypes, entry.request);
      const type = predicate.eventType.name;
      const done = await master.erase(predicate, entry.id, (found) => erasures.found(entry.id, found));
      // What an earlier try found counts too: a stop after the files changed leaves it only in the record.
      const before = erasures.pending.find((e) => e.id === entry.id)?.found;
      log.keys.forget(type, [...new Set([...(before?.keys ?? []), ...done.keys])]);
      const { events, files } = before ?? done;
      const { id, by, requestedAt } = entry;
      audits.push({ id, by, requestedAt, eventType: type, fields: predicate.where.map((f) => f.field.name), events, files });
      this.#logger.info({ id, eventType: type, events, files }, 'erased events from the master dataset');
    }
    return audits;
  }

  /**
   * Once a cycle that erased has published: older versions (whose views may
   * hold the erased values) go, the key snapshot is written whole without
   * the erased keys, and only then is each erasure recorded as done.
   */
  async #erased(audits: readonly Omit<ErasureAudit, 'completedAt'>[], version: number): Promise<void> {
    await this.#p.store.prune(1, version);
    await this.#saveKeys();
    const completedAt = new Date().toISOString();
    await this.#p.erasures.done(audits.map((a) => ({ ...a, completedAt })));
  }

  recordErasure(entry: ErasureEntry): Promise<void> {
    return this.#p.erasures.add(entry);
  }

  erasures(): Promise<ErasureAudit[]> {
    return this.#p.erasures.audit();
  }

  /**
   * Where a cycle may stop without sealing the log, leaving the partial
   * segment's events to the speed layer: the end of the last segment the
   * background has exported, if a speed generation starts there past the
   * published cutoff; else the end of the last sealed segment where one
   * starts, once the export under way reaches it. Undefined when neither
   * exists (little was ingested since the last cycle): the cycle seals.
   */
  async #segmentCut(progress: CycleContext['progress']): Promise<number | undefined> {
    const { speed, master, log, options } = this.#p;
    // Without background exports the cycle exports everything itself: it may as well take the partial segment too.
    if (options.exportInBackground === false) return undefined;
    const from = this.#batch?.manifest.cutoff ?? 0;
    const exported = speed.cutPoint(from, exportedThrough(master.ranges, from));
    if (exported !== undefined) return exported;
    const sealed = speed.cutPoint(from, log.sealedSegments.at(-1)?.end ?? from);
    if (sealed === undefined) return undefined;
    progress({ phase: 'exporting', cutoff: sealed });
    await master.exportSealed(log.sealedSegments, sealed);
    return sealed;
  }

  /** Seals the log where it ends now and exports what the background has not (the partial segment, an export under way). */
  async #sealAndExport(progress: CycleContext['progress']): Promise<number> {
    const { log, master } = this.#p;
    const cutoff = await log.seal();
    progress({ phase: 'exporting', cutoff });
    await master.exportSealed(log.sealedSegments, cutoff);
    return cutoff;
  }

  /** The published version an incremental cycle builds on, or undefined when this cycle must recompute everything (`incremental-policy.ts` says when). */
  #incrementalBase(full: boolean, catalog: Catalog, backfilled?: string): { manifest: BatchManifest; dir: string; views: InMemoryBatchViews; from: number } | undefined {
    const batch = this.#batch;
    const dir = this.#batchDir;
    const policy = { ...this.#p.options, full, retiredGeneration: this.#p.master.retiredGeneration, ...(backfilled === undefined ? {} : { backfilled }) };
    if (batch === undefined || dir === undefined || !mayBuildOn(batch.manifest, catalog, policy)) return undefined;
    return { manifest: batch.manifest, dir, views: batch, from: batch.manifest.cutoff };
  }

  countsAsFailure(): boolean {
    return true;
  }

  mayRunBatch(): boolean {
    return true;
  }

  hasNewEvents(): boolean {
    return this.#p.log.end > (this.#batch?.manifest.cutoff ?? 0);
  }

  status(): BackendStatus {
    const { log } = this.#p;
    return { sealedSegments: log.sealedSegments.length, idempotencyKeys: log.keys.size, retention: this.#p.master.retentionFigures() };
  }

  failing(): BatchFailure | null {
    return null;
  }

  /**
   * Exports the sealed segments not in Parquet yet, off the request path. A
   * failure (a damaged segment, a full disk) is only logged: the next batch
   * cycle exports the same segments again and reports it there.
   */
  exportInBackground(): void {
    if (this.#host === undefined || this.#host.closed || this.#p.options.exportInBackground === false) return;
    this.#p.master.exportSealed(this.#p.log.sealedSegments, Infinity).catch((err: unknown) => {
      this.#logger.warn({ err }, 'a background export of a sealed log segment failed; the next batch cycle exports it again');
    });
  }

  halt(): void {}

  async close(): Promise<void> {
    const { log, master, duck, lock } = this.#p;
    // DuckDB must not close under a load still reading from it.
    await this.#loaded.catch(() => undefined);
    await log.close();
    // The log is closed, so no key can be added while the tables are written.
    await this.#saveKeys(true);
    await master.close();
    closeDuckDb(duck);
    await lock.release();
  }
}
