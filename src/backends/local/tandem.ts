/**
 * The embedded engine: one process, one data directory, all three layers;
 * the engine core over the local backend.
 *
 * @module
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdir, rm } from 'node:fs/promises';
import { LocalVersionStore, type PublishedVersion } from '../../batch/index.ts';
import { type Catalog, type EventOf, type EventTypeName, type TandemConfig, type ViewName, type ViewOf } from '../../definitions/index.ts';
import { EngineCore } from '../../engine/engine-core.ts';
import { openingViews } from '../../engine/view-state.ts';
import type { ViewChangesStart } from '../../engine/view-changes.ts';
import type { EngineLogger, IngestResult, TandemOptions } from '../../engine/engine-types.ts';
import { BatchSchedule } from '../../engine/batch-schedule.ts';
import { InvalidEngineOptionError } from '../../engine/errors.ts';
import { DataDirLock } from '../../engine/data-dir-lock.ts';
import { LocalEventLog, StoredSchema, type LogRepair } from '../../log/index.ts';
import { LocalMasterDataset, type MasterDataset } from '../../master/index.ts';
import type { DimensionName, NumberForm, Query, QueryGranularityFor, QueryLimits, QueryResult, QueryRowOf, ViewQuery } from '../../serving/index.ts';
import { SpeedLayer } from '../../speed/index.ts';
import { dataDirectory } from '../../util/data-directory.ts';
import { PhaseClock } from '../../util/phase-clock.ts';
import { closeDuckDb, damagedBatch, LocalBackend, openDuckDb, type DuckDbParts } from './local-backend.ts';
import { repairDataDirectory } from './repair-data-dir.ts';
import { ViewStateFile } from './view-state-file.ts';
import { ErasureJournal } from './erasure-journal.ts';
import { HistoryImporter, ImportAwareKeySnapshot } from './history-import.ts';
import type { HistoryImportOptions, HistoryImportSummary } from '../../engine/index.ts';

/**
 * What an embedded ingest did: an {@link IngestResult} whose `stored` is
 * always known, since the local log counts every duplicate as it appends.
 *
 * @example
 * ```ts
 * const { stored }: LocalIngestResult = await tandem.ingest('order', events);   // stored: number
 * ```
 */
export type LocalIngestResult = IngestResult & { readonly stored: number };

/** A period of at least 1 ms that a timer can hold (at most 2^31 - 1 ms, about 24.8 days). */
function checkBatchEvery(ms: number | undefined): void {
  if (ms === undefined || (Number.isFinite(ms) && ms >= 1 && ms <= 2 ** 31 - 1)) return;
  throw new InvalidEngineOptionError('batchEvery', `batchEvery must be a number of milliseconds from 1 to 2147483647 (about 24 days), such as 60000 for a cycle a minute; ${String(ms).slice(0, 40)} is not.`);
}

const SILENT: EngineLogger = { info() {}, warn() {}, error() {} };

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
export class Tandem<C extends TandemConfig = any> extends EngineCore {
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
   * Opens (or creates) the engine in `dataDir`: recovers the log, reads the
   * idempotency keys (from their snapshot when it is whole), and rebuilds the
   * speed layer by replaying the log from the batch cutoff. It resolves then:
   * the published batch views load after it (views whose definition changed
   * are recomputed), ingest works meanwhile, and a query of the batch layer
   * waits for them, as does `loaded()`.
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
    checkBatchEvery(options.batchEvery);
    const phases = new PhaseClock();
    const dirs = dataDirectory(options.dataDir);
    const logger = options.logger ?? SILENT;
    await mkdir(dirs.master, { recursive: true });
    const lock = await DataDirLock.acquire(options.dataDir);
    try {
      const { catalog, views } = await Tandem.#views(options.config, dirs.viewsFile, dirs.backfill, logger);
      phases.done('configAndLock');
      return await Tandem.#openLocked({ ...options, views }, catalog, lock, logger, phases);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /**
   * The views to open with: the config's, or the ones changed while serving
   * when the config's views are still those the engine last saw
   * (`view-state.ts`). Backfills a stop interrupted start again, so their
   * files go.
   */
  static async #views(config: unknown, viewsFile: string, backfillDir: string, logger: EngineLogger): Promise<{ catalog: Catalog; views: ViewChangesStart }> {
    const store = new ViewStateFile(viewsFile, (reason) => logger.error({ file: viewsFile }, reason));
    const opening = openingViews(config, await store.read(), (reason) => logger.warn({ file: viewsFile }, reason));
    await rm(backfillDir, { recursive: true, force: true });
    const views = { store, configDigest: opening.configDigest, versions: opening.versions, pending: opening.pending };
    return { catalog: opening.catalog, views };
  }

  static async #openLocked(options: TandemOptions & { readonly views: ViewChangesStart }, catalog: Catalog, lock: DataDirLock, logger: EngineLogger, phases: PhaseClock): Promise<Tandem> {
    const dirs = dataDirectory(options.dataDir);
    // Before anything reads a stored event: a config that would misread them is refused here.
    const schema = await StoredSchema.open({ schemaFile: dirs.schemaFile, logDir: dirs.log, masterDir: dirs.master }, catalog, (reason) => {
      logger.warn({ reason }, 'recorded how the stored events were written, from the data and this config');
    });
    const store = new LocalVersionStore(dirs.batch);
    await store.init();
    // A damaged batch version is derived data: set it aside and rebuild from the master dataset at start.
    const published = await currentVersion(store, logger).catch((error: unknown) => damagedBatch(error, logger));
    phases.done('schemaAndVersion');
    const speed = new SpeedLayer(catalog, published?.manifest.cutoff ?? 0);
    let backend: LocalBackend | undefined;
    const log = await LocalEventLog.open({
      dir: dirs.log,
      catalog,
      maxSegmentBytes: options.segmentBytes,
      maxPendingEvents: options.maxPendingEvents,
      listener: {
        committed: (type, events, first) => speed.apply(type, events, first),
        sealed: (end) => speed.rotate(end),
        rolled: (segment) => {
          // A batch run may stop at this segment's end once it is in Parquet, leaving the next to the speed layer.
          speed.markBoundary(segment.end);
          backend?.exportInBackground();
        },
      },
      onRecovered: (info) => logger.warn(info, 'cut a torn tail off the event log'),
      onEncoderFailed: (err) => logger.warn({ err }, 'the log encoder worker failed; frames are encoded on the main thread from now on'),
    });
    let duck: DuckDbParts | undefined;
    let master: MasterDataset | undefined;
    try {
      duck = await openDuckDb();
      master = await LocalMasterDataset.open({
        dir: dirs.master, logDir: dirs.log, catalog, connection: duck.connection, exportConnection: duck.exportConnection,
        onDamagedManifest: (file, reason) => logger.error({ file, reason }, 'a master dataset manifest is damaged; rebuilding it from its Parquet files'),
        onRebuilt: (file, from, reason) => logger.error({ file, from, reason }, 'a master dataset file was missing or damaged; written again from a surviving copy'),
      });
      const keySnapshot = new ImportAwareKeySnapshot(dirs.keys, catalog);
      const erasures = await ErasureJournal.open(dirs.erasure);
      backend = new LocalBackend({ catalog, log, speed, store, master, duck, options, lock, schema, published, keySnapshot, erasures }, logger);
      const engine = new Tandem(catalog, backend, options);
      const history = new HistoryImporter({ catalog, log, master, masterDir: dirs.master, schema, runBatch: (batch) => engine.runBatch(batch) });
      keySnapshot.importer = history;
      engine.#history = history;
      if (options.batchEvery !== undefined) engine.#schedule = new BatchSchedule(engine, options.batchEvery, logger);
      phases.done('logDuckDbMaster');
      logger.info({ ms: phases.ms }, 'data directory opened');
      await engine.start();
      engine.#schedule?.start();
      // An import committed but cut short before its cycle published it: a cycle now publishes it.
      if (await history.recover(duck.connection, log.keys)) {
        engine.runBatch({ seal: true }).catch((err: unknown) => logger.error({ err }, 'the cycle publishing a history import committed before a stop failed; the next cycle publishes it'));
      }
      return engine;
    } catch (error) {
      // An open that fails (a damaged file, say) must not leave the log's file or DuckDB open behind it.
      await log.close().catch(() => undefined);
      await master?.close().catch(() => undefined);
      if (duck !== undefined) closeDuckDb(duck);
      throw error;
    }
  }

  /** History imports, one at a time; set by {@link Tandem.open}. */
  #history: HistoryImporter | undefined;
  /** The periodic batch cycles `batchEvery` asks for. */
  #schedule: BatchSchedule | undefined;

  /**
   * Loads history files (Parquet, CSV, NDJSON or a JSON array, told by their
   * names) of `eventType` straight into the master dataset, without the
   * event log, then runs one batch cycle that publishes them. Rows are
   * checked by the rules live events are (rejected ones are counted, the
   * first few named by row and field); with an idempotency key, rows whose
   * key is stored already (a second load of the same file) or came earlier
   * are dropped as duplicates. Each file is all in or not at all, even
   * across a crash: importing it again after one completes it exactly.
   * DuckDB does the work on its own instance, within `memoryLimit`
   * (spilling to the data directory), so memory does not grow with the
   * files. The imported events are in no answer until the promise resolves,
   * and in every answer after.
   *
   * @example
   * ```ts
   * const summary = await tandem.importHistory('order', ['orders-2023.parquet'], {
   *   onProgress: (p) => console.log(`${p.rowsDone} of ${p.rowsKnown} rows`),
   * });
   * console.log(`${summary.imported} imported, ${summary.duplicates} duplicates, ${summary.rejected} rejected`);
   * ```
   */
  async importHistory(eventType: string, files: readonly string[], options: HistoryImportOptions = {}): Promise<HistoryImportSummary> {
    return this.#history!.run(eventType, files, options);
  }

  /** Waits for a history import under way, then closes as {@link EngineCore.close} does. */
  override async close(): Promise<void> {
    this.#schedule?.stop();
    await this.#history?.idle();
    await super.close();
  }

  /**
   * Validates and durably stores events of one type, as {@link EngineCore.ingest}
   * does. With a typed config, `eventType` is one of its event types and each
   * event is checked against that type's fields, so a misspelt type or field
   * fails to compile; an event type only known at run time goes through
   * {@link Tandem.ingestUntyped}. With a JSON config, any name and events compile.
   *
   * @example
   * ```ts
   * const { accepted, stored, rejected, lastOffset } = await tandem.ingest('order', [{ orderId: 'o1', at: Date.now(), country: 'DE', amount: 19.99 }]);
   * ```
   */
  // One signature, no overloads: a misspelt name then fails against the list of names, not against a fallback.
  override ingest<const E extends EventTypeName<C>>(eventType: E, events: readonly EventOf<C, E>[]): Promise<LocalIngestResult> {
    return super.ingest(eventType, events) as Promise<LocalIngestResult>;
  }

  /**
   * {@link Tandem.ingest} for an event type only known at run time (a
   * `string`), or events of no known shape: they are checked only when it runs.
   *
   * @example
   * ```ts
   * const type: string = request.params.eventType;
   * await tandem.ingestUntyped(type, JSON.parse(body));
   * ```
   */
  ingestUntyped(eventType: string, events: readonly unknown[]): Promise<LocalIngestResult> {
    return super.ingest(eventType, events) as Promise<LocalIngestResult>;
  }

  /**
   * Answers a query from the batch view merged with the speed layer (or one
   * of them, with `layer`). With a typed config, the query names one of its
   * views and is checked against the definitions, and its rows are typed; a
   * query whose view is only known at run time goes through
   * {@link Tandem.queryUntyped}.
   *
   * @example
   * ```ts
   * const { rows } = await tandem.query({ view: 'revenue_by_country', groupBy: ['country'], granularity: 'all' });
   * rows[0]?.revenue;   // number | string
   * const billed = await tandem.query({ view: 'revenue_by_country', granularity: 'all', numbers: 'bigint' });
   * billed.rows[0]?.orders;   // bigint (a sum of a field with decimals: exact text)
   * ```
   */
  override query<
    const N extends ViewName<C>,
    const D extends readonly DimensionName<C, N>[] = readonly [],
    const G extends QueryGranularityFor<ViewOf<C, N>['granularity']> | undefined = undefined,
    const F extends NumberForm | undefined = undefined,
  >(query: ViewQuery<C, N, D, G, F>, limits?: QueryLimits): Promise<QueryResult<QueryRowOf<C, N, D, G, F>>>;
  override query(query: Query | ViewQuery<C, ViewName<C>>, limits?: QueryLimits): Promise<QueryResult> {
    return super.query(query as Query, limits);
  }

  /**
   * {@link Tandem.query} for a query only known at run time (its `view` a
   * `string`, say from a request): checked when it runs, answered with
   * untyped rows.
   *
   * @example
   * ```ts
   * const q: Query = JSON.parse(body);
   * const { rows } = await tandem.queryUntyped(q);   // rows: readonly QueryRow[]
   * ```
   */
  queryUntyped(query: Query, limits?: QueryLimits): Promise<QueryResult> {
    return super.query(query, limits);
  }
}
