/**
 * The embedded engine: one process, one data directory, all three layers.
 *
 * @module
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mkdir } from 'node:fs/promises';
import { CorruptBatchViewError, loadPublished, runBatch, LocalVersionStore, type InMemoryBatchViews, type VersionStore, type PublishedVersion } from '../batch/index.ts';
import { compileConfig, createColumnValidator, selectEvents, UnknownEventTypeError, type Catalog, type ColumnValidator, type TandemConfig, type ViewName, type ViewOf } from '../definitions/index.ts';
import type { AggregateTable } from '../aggregates/index.ts';
import { DiskFullError, LocalEventLog, LogClosedError, LogGapError, type EventLog, StoredSchema, type LogRepair } from '../log/index.ts';
import { LocalMasterDataset, type MasterDataset } from '../master/index.ts';
import { SpeedLayer, type RealtimeStore } from '../speed/index.ts';
import type { BatchOptions, BatchProgress, BatchSummary, EngineLogger, EngineStatus, IngestResult, TandemOptions } from './engine-types.ts';
import type { BatchManifest } from '../batch/index.ts';
import {
  executeQuery, InvalidQueryError, isWide, partialBuckets, planQuery, QueryBudget,
  type DimensionName, type DynamicQuery, type Query, type QueryGranularityFor, type QueryLimits, type QueryResult, type QueryRowOf, type TableSpan, type ViewQuery,
} from '../serving/index.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { checkCycleCoverage, checkOpenCoverage, missingSegment } from './coverage-check.ts';
import { repairDataDirectory } from './repair-data-dir.ts';
import type { ServedEngine } from './served-engine.ts';
import { validateEvents } from './validate-events.ts';
import { SpeedMemoryGuard } from './speed-memory-guard.ts';
import { BatchHistory, viewFigures } from './batch-history.ts';
import { dataDirectory } from '../util/data-directory.ts';
import { isDiskFull } from '../util/disk-full.ts';

const SILENT: EngineLogger = { info() {}, warn() {}, error() {} };
const DEFAULT_FULL_BATCH_EVERY_MS = 24 * 3_600_000;
const DEFAULT_MAX_BATCH_DELTAS = 16;

/**
 * A published batch version that fails its checks is not served: the error
 * (naming the file) is logged and `null` tells the caller to rebuild every
 * view from the master dataset, which holds every event below any cutoff.
 */
function damagedBatch(error: unknown, logger: EngineLogger): null {
  if (!(error instanceof CorruptBatchViewError)) throw error;
  logger.error({ file: error.file, reason: error.message }, 'the published batch version is damaged; rebuilding the batch views from the master dataset');
  return null;
}

/**
 * The published version `CURRENT` names; with `CURRENT` gone, the newest
 * whole version (a crash between moving a version into place and pointing
 * at it leaves one), logged, so that a deleted pointer costs no rebuild.
 */
async function currentVersion(store: LocalVersionStore, logger: EngineLogger): Promise<PublishedVersion | undefined> {
  const current = await store.current();
  if (current !== undefined) return current;
  const newest = await store.newestValid();
  if (newest === undefined) return undefined;
  logger.error({ version: newest.manifest.version }, 'batch/CURRENT is missing; pointing it at the newest whole batch version again');
  await store.point(newest.manifest.version);
  return newest;
}

/**
 * A query's `after` in the embedded engine: one partition, so one number,
 * the log's end an ingest answered with. Every position this engine
 * answered with is applied already (ingest resolves once its events are
 * visible), so only a malformed one, or one from elsewhere, is refused.
 */
function checkPosition(after: readonly number[], logEnd: number): void {
  if (after.length !== 1) throw new InvalidQueryError('after', 'after must hold one sequence per partition: 1 of them, as an ingest answers.');
  if (after[0]! > logEnd) throw new InvalidQueryError('after', `after names offset ${after[0]}, past this engine's log end ${logEnd}: send back the position an ingest of this engine answered with.`);
}

/**
 * DuckDB for the batch layer, and a second instance limited to one thread
 * for exports to Parquet. Background exports run while ingest does; with all
 * threads they took both of this machine's cores from it. Threads are a
 * setting of the instance, not of a connection, hence two instances.
 */
interface DuckDbParts {
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
  readonly exportInstance: DuckDBInstance;
  readonly exportConnection: DuckDBConnection;
}

async function openDuckDb(): Promise<DuckDbParts> {
  const instance = await DuckDBInstance.create(':memory:');
  const exportInstance = await DuckDBInstance.create(':memory:', { threads: '1' });
  return { instance, connection: await instance.connect(), exportInstance, exportConnection: await exportInstance.connect() };
}

function closeDuckDb(duck: DuckDbParts): void {
  duck.connection.closeSync();
  duck.instance.closeSync();
  duck.exportConnection.closeSync();
  duck.exportInstance.closeSync();
}

/**
 * A running Tandem engine. `C` is the config's type: opened with a config
 * from `defineConfig`, queries are checked against its views and rows come
 * back typed; opened with a JSON config (`unknown` or {@link TandemConfig}),
 * `C` keeps its default and queries and rows are untyped.
 *
 * @example
 * ```ts
 * const tandem = await Tandem.open({ dataDir: './data', config });
 * await tandem.ingest('order', [{ orderId: 'o1', at: '2024-05-01T12:00:00Z', country: 'DE', amount: 19.99 }]);
 * const { rows, meta } = await tandem.query({ view: 'revenue_by_country', granularity: 'all', groupBy: ['country'] });
 * // rows: readonly { country: string | null; orders: number; revenue: number | string; … }[]
 * await tandem.runBatch();
 * await tandem.close();
 * ```
 */
// `any`, not TandemConfig: a typed engine must be assignable to a plain `Tandem` (the server takes one), and the
// typed query's signatures make `C` invariant; with `any`, every type read from `C` falls back to the untyped form.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export class Tandem<C extends TandemConfig = any> implements ServedEngine {
  readonly catalog: Catalog;
  readonly #log: EventLog;
  readonly #speed: RealtimeStore;
  readonly #store: VersionStore;
  readonly #duck: DuckDbParts;
  readonly #validators: ReadonlyMap<string, ColumnValidator>;
  readonly #options: TandemOptions;
  readonly #logger: EngineLogger;
  readonly #lock: DataDirLock;
  readonly #schema: StoredSchema;
  readonly #master: MasterDataset;
  #batch: InMemoryBatchViews | undefined;
  /** The directory of the published version: an incremental cycle links its files into the next. */
  #batchDir: string | undefined;
  #batchRun: Promise<BatchSummary> | undefined;
  #progress: BatchProgress | null = null;
  readonly #history: BatchHistory;
  readonly #memory: SpeedMemoryGuard;
  #closed = false;

  private constructor(parts: {
    catalog: Catalog; log: EventLog; speed: RealtimeStore; store: VersionStore; master: MasterDataset;
    duck: DuckDbParts; options: TandemOptions; lock: DataDirLock; schema: StoredSchema;
  }) {
    this.#lock = parts.lock;
    this.#schema = parts.schema;
    this.catalog = parts.catalog;
    this.#log = parts.log;
    this.#speed = parts.speed;
    this.#store = parts.store;
    this.#master = parts.master;
    this.#duck = parts.duck;
    this.#options = parts.options;
    this.#logger = parts.options.logger ?? SILENT;
    this.#validators = new Map([...parts.catalog.eventTypes.values()].map((e) => [e.name, createColumnValidator(e)]));
    this.#history = new BatchHistory(this.#logger);
    this.#memory = new SpeedMemoryGuard(parts.options, this.#logger, () => this.#batchRun === undefined && !this.#closed, () => this.runBatch());
  }

  /**
   * Repairs `dataDir` (no engine may have it open). A damaged sealed segment
   * already exported to the master dataset is rebuilt whole from its checked
   * Parquet copy; in any other, every intact frame is kept and each
   * unreadable stretch is recorded as a lost offset range. A missing
   * `batch/CURRENT`, segment manifest or log segment is written again from a
   * copy that survives (the newest whole version, the Parquet files, the
   * export), and a stretch no copy holds is recorded as lost (see
   * `repair-data-dir.ts`). Damaged
   * originals move to `<dataDir>/quarantine/`. The next open starts on the
   * repaired log; lost events are absent from every layer alike, so answers
   * stay consistent.
   *
   * @example
   * ```ts
   * for (const r of await Tandem.repair('./data')) console.log(r.file, r.lost);
   * ```
   */
  static async repair(dataDir: string): Promise<LogRepair[]> {
    const dirs = dataDirectory(dataDir);
    const lock = await DataDirLock.acquire(dataDir);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      return await repairDataDirectory(dirs, connection);
    } finally {
      connection.closeSync();
      instance.closeSync();
      await lock.release();
    }
  }

  /**
   * Opens (or creates) the engine in `dataDir`: recovers the log, loads the
   * published batch views, and rebuilds the speed layer by replaying the log
   * from the batch cutoff. Views whose definition changed are recomputed first.
   * A config from `defineConfig` types the engine's queries; a JSON one
   * (`unknown` or {@link TandemConfig}) leaves them untyped.
   *
   * @example
   * ```ts
   * const tandem = await Tandem.open({ dataDir: './data', config });   // Tandem<typeof config>
   * const untyped = await Tandem.open({ dataDir: './other', config: JSON.parse(text) });   // Tandem
   * ```
   */
  static open<C extends TandemConfig>(options: TandemOptions & { readonly config: C }): Promise<Tandem<C>>;
  static open(options: TandemOptions): Promise<Tandem>;
  static async open(options: TandemOptions): Promise<Tandem> {
    const catalog = compileConfig(options.config);
    const dirs = dataDirectory(options.dataDir);
    const logger = options.logger ?? SILENT;
    await mkdir(dirs.master, { recursive: true });
    const lock = await DataDirLock.acquire(options.dataDir);
    try {
      return await Tandem.#openLocked(options, catalog, lock, logger);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  static async #openLocked(options: TandemOptions, catalog: Catalog, lock: DataDirLock, logger: EngineLogger): Promise<Tandem> {
    const dirs = dataDirectory(options.dataDir);
    // Before anything reads a stored event: a config that would misread them is refused here.
    const schema = await StoredSchema.open({ schemaFile: dirs.schemaFile, logDir: dirs.log, masterDir: dirs.master }, catalog, (reason) => {
      logger.warn({ reason }, 'recorded how the stored events were written, from the data and this config');
    });
    const store = new LocalVersionStore(dirs.batch);
    await store.init();
    // A damaged batch version is derived data: set it aside and rebuild from the master dataset below.
    const published = await currentVersion(store, logger).catch((error: unknown) => damagedBatch(error, logger));
    const cutoff = published?.manifest.cutoff ?? 0;
    const speed = new SpeedLayer(catalog, cutoff);
    const log = await LocalEventLog.open({
      dir: dirs.log,
      catalog,
      maxSegmentBytes: options.segmentBytes,
      maxPendingEvents: options.maxPendingEvents,
      listener: {
        committed: (type, events, first) => speed.apply(type, events, first),
        sealed: (end) => speed.rotate(end),
        rolled: () => { if (engine !== undefined) engine.#exportInBackground(); },
      },
      onRecovered: (info) => logger.warn(info, 'cut a torn tail off the event log'),
      onEncoderFailed: (err) => logger.warn({ err }, 'the log encoder worker failed; frames are encoded on the main thread from now on'),
    });
    let duck: DuckDbParts | undefined;
    let master: MasterDataset | undefined;
    let engine: Tandem | undefined;
    try {
      duck = await openDuckDb();
      master = await LocalMasterDataset.open({
        dir: dirs.master, logDir: dirs.log, catalog, connection: duck.connection, exportConnection: duck.exportConnection,
        onDamagedManifest: (file, reason) => logger.error({ file, reason }, 'a master dataset manifest is damaged; rebuilding it from its Parquet files'),
        onRebuilt: (file, from, reason) => logger.error({ file, from, reason }, 'a master dataset file was missing or damaged; written again from a surviving copy'),
      });
      engine = new Tandem({ catalog, log, speed, store, master, duck, options, lock, schema });
      await engine.#recover(cutoff, published);
      // Segments sealed before this start and not exported yet (a stop mid-export, say) go now.
      engine.#exportInBackground();
      return engine;
    } catch (error) {
      // An open that fails (a damaged file, say) must not leave the log's file or DuckDB open behind it.
      await log.close().catch(() => undefined);
      await master?.close().catch(() => undefined);
      if (duck !== undefined) closeDuckDb(duck);
      throw error;
    }
  }

  /** Replays the log into the speed layer over the published version; `null` when that version is damaged and is rebuilt. */
  async #recover(cutoff: number, published: PublishedVersion | null | undefined): Promise<void> {
    // A manifest missing while its segment is still here is exported again first: the release below would drop that copy.
    await this.#master.fillGaps(this.#log.sealedSegments, cutoff);
    // Segments the published batch absorbed are in Parquet already: dropped first, damage in one cannot block a start.
    await this.#log.releaseBefore(cutoff);
    // No answer may be silently short: a stretch no file holds is refused here, before anything is served.
    const { batchBehind } = checkOpenCoverage(this.#options.dataDir, this.#master, this.#log, cutoff);
    await this.#master.loadKeys(this.#log.keys, (error) => {
      this.#logger.error({ file: error.file }, `${error.message} Until then its idempotency keys are not known, so a retry of one of its events would be stored again.`);
    });
    // A segment exported but not yet released (a run that failed after exporting) is in both places:
    // its keys came from Parquet, so the log indexes only the keys past the Parquet part.
    await this.#log.replay((eventType, events, first) => {
      const skip = cutoff - first;
      if (skip <= 0) this.#speed.apply(eventType, events, first);
      else if (skip < events.count) this.#speed.apply(eventType, selectEvents(events, Array.from({ length: events.count - skip }, (_, i) => skip + i)), cutoff);
    }, this.#master.exportedEnd).catch((error: unknown) => {
      throw error instanceof LogGapError ? missingSegment(this.#options.dataDir, error.from, error.to) : error;
    });
    if (batchBehind || published === null) {
      if (published !== null) this.#logger.error({ cutoff, logStartsAt: this.#log.firstOffset }, 'the published batch version ends before the event log starts (batch/CURRENT missing, or naming an older version); rebuilding every view from the master dataset');
      await this.runBatch({ full: true });
      return;
    }
    if (published === undefined) return;
    const loaded = await loadPublished(this.#duck.connection, this.catalog, published.manifest, published.dir)
      .catch((error: unknown) => damagedBatch(error, this.#logger));
    if (loaded === null) {
      await this.runBatch();
      return;
    }
    const { views, stale } = loaded;
    this.#batch = views;
    this.#batchDir = published.dir;
    if (stale.length > 0) {
      this.#logger.info({ views: stale }, 'recomputing views whose definition changed');
      await this.runBatch();
    }
  }

  /**
   * Validates and durably appends events of one type. Invalid events are
   * rejected one by one with the field at fault; the rest are stored. Resolves
   * once the stored events are durable and visible to queries.
   */
  async ingest(eventType: string, events: readonly unknown[]): Promise<IngestResult> {
    const validate = this.#validators.get(eventType);
    if (validate === undefined) throw new UnknownEventTypeError(eventType);
    this.#memory.check(this.#speed.stats());
    const { columns, rejected, ignoredFields } = validateEvents(this.catalog.eventTypes.get(eventType)!, validate, events);
    const ignored = ignoredFields.length === 0 ? {} : { ignoredFields };
    const accepted = columns.count;
    if (accepted === 0) return { accepted: 0, duplicates: 0, rejected, ...ignored, firstOffset: null, lastOffset: null, position: [this.#log.end] };
    if (this.#schema.needsRecord(eventType)) await this.#schema.record(eventType);
    const outcome = await this.#log.append(eventType, columns);
    const stored = outcome.stored;
    return {
      accepted,
      duplicates: outcome.duplicates.length,
      rejected,
      ...ignored,
      firstOffset: stored > 0 ? outcome.firstOffset : null,
      lastOffset: stored > 0 ? outcome.firstOffset + stored - 1 : null,
      position: [this.#log.end],
    };
  }

  /**
   * Answers a query from the batch view merged with the speed layer (or one
   * of them, with `layer`). With a typed config, a query that names its view
   * is checked against the definitions and its rows are typed; a query whose
   * view is a run-time `string` is checked when it runs, and its rows are not.
   *
   * @example
   * ```ts
   * const { rows } = await tandem.query({ view: 'revenue_by_country', groupBy: ['country'], granularity: 'all' });
   * rows[0]?.revenue;   // number | string
   * ```
   */
  query<
    const N extends ViewName<C>,
    const D extends readonly DimensionName<C, N>[] = readonly [],
    const G extends QueryGranularityFor<ViewOf<C, N>['granularity']> | undefined = undefined,
  >(query: ViewQuery<C, N, D, G>, limits?: QueryLimits): Promise<QueryResult<QueryRowOf<C, N, D, G>>>;
  query<const Q extends Query>(query: DynamicQuery<Q>, limits?: QueryLimits): Promise<QueryResult>;
  async query(query: Query | ViewQuery<C, ViewName<C>>, limits?: QueryLimits): Promise<QueryResult> {
    const budget = new QueryBudget(limits);
    const plan = planQuery(this.catalog, query as Query, budget);
    if (plan.after !== undefined) checkPosition(plan.after, this.#log.end);
    const tables: (AggregateTable | TableSpan)[] = [];
    if (plan.layer !== 'speed') {
      const name = plan.view.name;
      // A wide query reads each batch table over its part of the range (whole days from the daily roll-up).
      tables.push(...(isWide(plan) ? this.#batch?.spans(name, plan.from, plan.to) ?? [] : this.#batch?.tables(name) ?? []));
    }
    if (plan.layer !== 'batch') tables.push(...this.#speed.tables(plan.view.name));
    const manifest = this.#batch?.manifest;
    return {
      rows: executeQuery(plan, tables, budget),
      meta: {
        batchVersion: manifest?.version ?? null,
        batchCutoff: manifest?.cutoff ?? 0,
        logEnd: this.#log.end,
        batchAgeMs: manifest === undefined ? null : Date.now() - Date.parse(manifest.createdAt),
        layer: plan.layer,
        partialBuckets: partialBuckets(plan),
      },
    };
  }

  /**
   * Runs a batch cycle: seals the log, recomputes every view over all events
   * below the seal, publishes the new version and drops the speed layer's
   * share below it. A cycle already running is joined, not repeated.
   */
  runBatch(options: BatchOptions = {}): Promise<BatchSummary> {
    if (this.#closed) return Promise.reject(new LogClosedError());
    this.#batchRun ??= this.#runBatch(options.full === true).finally(() => (this.#batchRun = undefined));
    return this.#batchRun;
  }

  async #runBatch(full: boolean): Promise<BatchSummary> {
    const started = performance.now();
    const viewsTotal = this.catalog.views.size;
    this.#progress = { startedAt: new Date().toISOString(), phase: 'sealing', cutoff: null, viewsDone: 0, viewsTotal };
    try {
      return await this.#runBatchPhases(started, full);
    } catch (error) {
      // DuckDB reports a full disk only in its message; one typed error lets the server answer 507 either way.
      const typed = isDiskFull(error) && !(error instanceof DiskFullError) ? new DiskFullError(this.#options.dataDir, error) : error;
      this.#history.failed(typed);
      throw typed;
    } finally {
      this.#progress = null;
    }
  }

  /**
   * The published version an incremental cycle builds on, or undefined when
   * this cycle must recompute everything: when asked to, before the first
   * version, when a view's definition changed, once `fullBatchEveryMs` passed
   * since the last full recompute, and once a view has `maxBatchDeltas`
   * deltas to merge at query time.
   */
  #incrementalBase(full: boolean): { manifest: BatchManifest; dir: string; views: InMemoryBatchViews; from: number } | undefined {
    const batch = this.#batch;
    const dir = this.#batchDir;
    if (full || batch === undefined || dir === undefined) return undefined;
    const manifest = batch.manifest;
    const fullAt = Date.parse(manifest.fullAt ?? manifest.createdAt);
    if (Date.now() - fullAt >= (this.#options.fullBatchEveryMs ?? DEFAULT_FULL_BATCH_EVERY_MS)) return undefined;
    for (const view of this.catalog.views.values()) {
      const entry = manifest.views[view.name];
      if (entry === undefined || entry.hash !== view.hash) return undefined;
      if ((entry.deltas?.length ?? 0) >= (this.#options.maxBatchDeltas ?? DEFAULT_MAX_BATCH_DELTAS)) return undefined;
    }
    return { manifest, dir, views: batch, from: manifest.cutoff };
  }

  async #runBatchPhases(started: number, full: boolean): Promise<BatchSummary> {
    const progress = (update: Partial<BatchProgress>) => (this.#progress = { ...this.#progress!, ...update });
    const cutoff = await this.#log.seal();
    progress({ phase: 'exporting', cutoff });
    await this.#master.exportSealed(this.#log.sealedSegments, cutoff);
    checkCycleCoverage(this.#options.dataDir, this.#master, cutoff);
    const exportMs = performance.now() - started;
    progress({ phase: 'computing' });
    const previous = this.#incrementalBase(full);
    const from = previous?.from ?? 0;
    await this.#master.verify(cutoff, from, this.#log.sealedSegments);
    const sources = this.#master.sourcesBetween(from, cutoff);
    const result = await runBatch({
      catalog: this.catalog, connection: this.#duck.connection, store: this.#store, cutoff, sources, previous, startedAt: started,
      onViewDone: (_view, done) => progress({ viewsDone: done }),
    });
    // Swap the batch view and drop the speed layer's absorbed share in one synchronous step: no query sees both or neither.
    this.#batch = result.views;
    this.#batchDir = this.#store.dirOf(result.manifest.version);
    this.#speed.dropBefore(cutoff);
    await this.#log.releaseBefore(cutoff);
    await this.#store.prune(this.#options.keepVersions ?? 3, result.manifest.version);
    const summary: BatchSummary = {
      version: result.manifest.version, cutoff, events: cutoff, durationMs: result.manifest.durationMs, exportMs,
      mode: result.manifest.mode ?? 'full', inputEvents: [...sources.values()].reduce((n, s) => n + s.events, 0),
      views: viewFigures(result.manifest),
    };
    this.#history.published(summary);
    this.#logger.info({ version: summary.version, cutoff, durationMs: Math.round(summary.durationMs) }, 'published batch version');
    return summary;
  }

  /** Whether the log holds events no published batch has absorbed. */
  hasNewEvents(): boolean {
    return this.#log.end > (this.#batch?.manifest.cutoff ?? 0);
  }

  /** The data directory this engine owns. */
  get dataDir(): string {
    return this.#options.dataDir;
  }

  /**
   * Calls `listener` after every batch publication, whoever started the run
   * (a schedule, a request, or the engine itself under memory pressure).
   * Returns a function that unsubscribes.
   *
   * @example
   * ```ts
   * const stop = tandem.onPublished((s) => console.log(`v${s.version} below ${s.cutoff}`));
   * ```
   */
  onPublished(listener: (summary: BatchSummary) => void): () => void {
    return this.#history.onPublished(listener);
  }

  /** A snapshot of the engine's state, for status pages and metrics. */
  status(): EngineStatus {
    const manifest = this.#batch?.manifest;
    return {
      logEnd: this.#log.end,
      sealedSegments: this.#log.sealedSegments.length,
      idempotencyKeys: this.#log.keys.size,
      batch: manifest === undefined ? null : {
        version: manifest.version, cutoff: manifest.cutoff, createdAt: manifest.createdAt,
        ageMs: Date.now() - Date.parse(manifest.createdAt), durationMs: manifest.durationMs,
      },
      batchRunning: this.#batchRun !== undefined,
      batchProgress: this.#progress,
      recentBatches: this.#history.recent,
      batchFailing: this.#history.failing,
      speed: this.#speed.stats(),
    };
  }

  /**
   * Exports the sealed segments not in Parquet yet, off the request path. A
   * failure (a damaged segment, a full disk) is only logged: the next batch
   * cycle exports the same segments again and reports it there.
   */
  #exportInBackground(): void {
    if (this.#closed || this.#options.exportInBackground === false) return;
    this.#master.exportSealed(this.#log.sealedSegments, Infinity).catch((err: unknown) => {
      this.#logger.warn({ err }, 'a background export of a sealed log segment failed; the next batch cycle exports it again');
    });
  }

  /** Finishes in-flight appends and any running batch, then closes the log and DuckDB. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#batchRun?.catch(() => undefined);
    await this.#log.close();
    await this.#master.close();
    closeDuckDb(this.#duck);
    await this.#lock.release();
  }
}
