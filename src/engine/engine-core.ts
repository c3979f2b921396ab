/**
 * The engine core: everything the embedded engine and a cluster node do
 * alike, written once over an {@link EngineBackend}. Ingest validates, keeps
 * the speed layer's memory bounded, records the stored fields and answers
 * with a position once the backend has applied the events; a query is
 * planned, waits for its `after`, gathers the batch and speed tables and
 * merges them with each measure's monoid; a batch cycle is joined when one
 * runs, and counted in the history that status and metrics read.
 *
 * @module
 */
import { AggregateTable } from '../aggregates/index.ts';
import { frozenValueMeasure, type BatchViewStore } from '../batch/index.ts';
import {
  compileErasure, createColumnValidator, retentionHorizon, retentionHorizons, UnknownEventTypeError,
  type Catalog, type ColumnValidator, type ErasurePredicate, type ErasureRequest, type TandemConfig,
} from '../definitions/index.ts';
import { randomBytes } from 'node:crypto';
import { LogClosedError } from '../log/errors.ts';
import {
  executeQuery, InvalidQueryError, isWide, partialBuckets, planQuery, QueryBudget,
  type Query, type QueryLimits, type QueryMeta, type QueryPlan, type QueryResult, type TableSpan,
} from '../serving/index.ts';
import { BatchHistory } from './batch-history.ts';
import { WARM_UP_BUDGET_MS, warmUpLeaderboards } from './leaderboard-warm-up.ts';
import type { BackendHost, BackfillProgress, EngineBackend, ViewChangeCoordinator, ViewChangeHost, ViewSwitch } from './engine-backend.ts';
import type { BatchOptions, BatchProgress, BatchSummary, EngineLogger, EngineStatus, ErasureAudit, IngestResult, ViewChangeAnswer } from './engine-types.ts';
import type { ServedEngine } from './served-engine.ts';
import { SpeedMemoryGuard, type SpeedMemoryLimits } from './speed-memory-guard.ts';
import { validateEvents } from './validate-events.ts';
import { EngineDrainingError, ErasureFrozenValueError, ErasureUnsupportedError, ServedVersionChangingError, ViewBackfillingError } from './errors.ts';
import { fractionDone, ViewChanges, type ViewChangesStart } from './view-changes.ts';

/** How often a query gathers the speed layer's states again when a new batch version is served meanwhile. */
const SPEED_ATTEMPTS = 5;

/** A logger that drops everything: the default where none is given. */
export const SILENT: EngineLogger = { info() {}, warn() {}, error() {} };

/** What the core itself needs to know, whatever the backend. */
export interface EngineCoreOptions extends SpeedMemoryLimits {
  /** The local directory the engine keeps its files in. */
  readonly dataDir: string;
  readonly logger?: EngineLogger;
  /** The views' versions and changes read back at open, and where they are recorded: without a store, views cannot change while serving. */
  readonly views?: ViewChangesStart;
  /** The clock retention's horizons are read from; `Date.now` by default. */
  readonly now?: () => number;
}

/**
 * The engine over one backend. The embedded `Tandem` and a cluster's
 * `ClusterNode` are this class with their backend; both open themselves and
 * then call {@link EngineCore.start}.
 *
 * @example
 * ```ts
 * const engine = await Tandem.open({ dataDir: './data', config });   // an EngineCore over the local backend
 * const { position } = await engine.ingest('order', events);
 * const { rows, meta } = await engine.query({ view: 'revenue', granularity: 'all', after: position });
 * ```
 */
export class EngineCore implements ServedEngine {
  #catalog: Catalog;
  readonly #backend: EngineBackend;
  readonly #options: EngineCoreOptions;
  protected readonly logger: EngineLogger;
  #validators: ReadonlyMap<string, ColumnValidator>;
  readonly #views: ViewChangeCoordinator;
  readonly #history: BatchHistory;
  readonly #memory: SpeedMemoryGuard;
  #batchRun: Promise<BatchSummary> | undefined;
  #progress: BatchProgress | null = null;
  #closed = false;
  /** Set by {@link drain}: ingest refuses from then on. */
  #draining = false;
  /** Ingests under way, which {@link drain} waits for. */
  readonly #ingesting = new Set<Promise<unknown>>();

  protected constructor(catalog: Catalog, backend: EngineBackend, options: EngineCoreOptions) {
    this.#catalog = catalog;
    this.#backend = backend;
    this.#options = options;
    this.logger = options.logger ?? SILENT;
    this.#validators = validatorsOf(catalog);
    const catalogNow = () => this.#catalog;
    const closedNow = () => this.#closed;
    const host: ViewChangeHost = {
      get catalog() { return catalogNow(); },
      get closed() { return closedNow(); },
      backend, logger: this.logger,
      swap: (next) => this.#swap(next),
      runSwitch: (prepare) => this.#runSwitch(prepare),
      runBatch: () => this.runBatch(),
    };
    // A cluster's views are shared by its nodes: its backend coordinates their changes; the embedded engine's are its own.
    this.#views = backend.viewChanges?.(host) ?? new ViewChanges(host, options.views ?? { store: undefined, configDigest: '', versions: {}, pending: [] });
    this.#history = new BatchHistory(this.logger);
    // A cluster node that may not run the batch layer (another holds the lease) only refuses at the limit; the batch node runs early.
    this.#memory = new SpeedMemoryGuard(options, this.logger, () => this.#batchRun === undefined && !this.#closed && backend.mayRunBatch(), () => this.runBatch());
  }

  /** Hands the backend what it may call back (cycles of its own go through {@link runBatch}), and lets it recover. */
  protected async start(): Promise<void> {
    const state = () => ({ closed: this.#closed, batchRunning: this.#batchRun !== undefined });
    const host: BackendHost = {
      runBatch: (options) => this.runBatch(options),
      swapCatalog: (next) => this.#swap(next),
      get closed() { return state().closed; },
      get batchRunning() { return state().batchRunning; },
    };
    await this.#backend.start(host);
    await this.#views.start();
    // A version served from the start (a restart) is warmed up once loaded and its read aids built, in the background.
    void (this.#backend.whenLoaded?.() ?? Promise.resolve()).then(async () => {
      await this.#backend.batch?.settled();
      await this.#warmUp();
    }).catch(() => undefined);
  }

  /**
   * Resolves once the batch version served at open is in memory, or rebuilt
   * when it was damaged or its views' definitions changed. `open` resolves
   * before, so that ingest starts at once; a query of the batch layer waits
   * for this by itself, so only code that reads `status().batch` right after
   * an open needs it.
   *
   * @example
   * ```ts
   * const tandem = await Tandem.open({ dataDir, config });
   * await tandem.loaded();
   * console.log(tandem.status().batch?.version);
   * ```
   */
  loaded(): Promise<void> {
    return this.#backend.whenLoaded?.() ?? Promise.resolve();
  }

  /** The event types and views served now: views may change while the engine serves ({@link applyView}). */
  get catalog(): Catalog {
    return this.#catalog;
  }

  /** Serves `next` from now on, in the caller's synchronous step: validators follow, as a view's dimensions bound its fields' default lengths. */
  #swap(next: Catalog): void {
    this.#catalog = next;
    this.#validators = validatorsOf(next);
    this.#backend.useCatalog?.(next);
  }

  /**
   * Adds a view, or replaces the view of the same name, while the engine
   * serves. The new definition's batch layer is backfilled from the master
   * dataset in the background (throttled), while the old definition, if
   * any, keeps answering; then one batch cycle switches it in atomically,
   * from which on it answers exactly, as if it had always been defined.
   * Resolves at once with the version the view will have; `status().viewChanges`
   * shows the progress. The change is recorded in the data directory, so a
   * restart resumes it, and it outlives the config file until that file's
   * views change. A definition that does not fit the event types is refused
   * naming the field, as in a config file.
   *
   * @example
   * ```ts
   * const change = await tandem.applyView({ name: 'by_plan', eventType: 'order', dimensions: ['plan'], granularity: 'day', measures: { orders: { type: 'count' } } });
   * // { view: 'by_plan', action: 'add', version: 1, state: 'backfilling' }
   * ```
   */
  applyView(definition: unknown): Promise<ViewChangeAnswer> {
    return this.#views.apply(definition);
  }

  /**
   * Drops a view at once (and any change of it under way): queries of it
   * fail from now on, and the next batch version leaves it out.
   *
   * @example
   * ```ts
   * await tandem.dropView('by_plan');
   * ```
   */
  dropView(name: string): Promise<ViewChangeAnswer> {
    return this.#views.drop(name);
  }

  /**
   * Cancels the change of a view under way: its backfill stops and its files
   * are deleted, and the definition served (if any) stays as it was.
   *
   * @example
   * ```ts
   * await tandem.cancelViewChange('by_plan');
   * ```
   */
  cancelViewChange(name: string): Promise<ViewChangeAnswer> {
    return this.#views.cancel(name);
  }

  /**
   * Makes the served views those of `config` (a config file read again, on
   * SIGHUP for `tandem serve`): each new or changed view is applied as
   * {@link applyView} does, each view it lacks is dropped. Its event types
   * must be the served ones; a config with one bad view changes nothing.
   * Resolves with the changes made.
   *
   * @example
   * ```ts
   * const changes = await tandem.reloadConfig(JSON.parse(await readFile('tandem.config.json', 'utf8')));
   * ```
   */
  reloadConfig(config: TandemConfig): Promise<ViewChangeAnswer[]> {
    return this.#views.reload(config);
  }

  /**
   * Validates and durably stores events of one type. Invalid events are
   * rejected one by one with the field at fault; the rest are stored.
   * Resolves once they are durable and visible to queries on this engine,
   * with the position to send back as a query's `after`.
   */
  ingest(eventType: string, events: readonly unknown[]): Promise<IngestResult> {
    if (this.#draining) return Promise.reject(new EngineDrainingError(eventType));
    const running = this.#ingest(eventType, events);
    const tracked = running.finally(() => this.#ingesting.delete(tracked)).catch(() => undefined);
    this.#ingesting.add(tracked);
    return running;
  }

  /**
   * Stops taking events and resolves once every ingest under way has
   * finished (its events durable, or refused): call it before
   * {@link close} on shutdown, so that no request in flight is cut off.
   * From its call on, `ingest` throws {@link EngineDrainingError} (HTTP 503
   * `draining`); queries, batch cycles and status go on until `close`.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', async () => {
   *   await tandem.drain();   // in-flight ingests are durable now
   *   await app.close();
   *   await tandem.close();
   * });
   * ```
   */
  async drain(): Promise<void> {
    this.#draining = true;
    while (this.#ingesting.size > 0) await Promise.all(this.#ingesting);
  }

  async #ingest(eventType: string, events: readonly unknown[]): Promise<IngestResult> {
    const validate = this.#validators.get(eventType);
    if (validate === undefined) throw new UnknownEventTypeError(eventType);
    this.#memory.check(this.#backend.speedStats());
    const { columns, rejected, ignoredFields } = validateEvents(this.#catalog.eventTypes.get(eventType)!, validate, events);
    const ignored = ignoredFields.length === 0 ? {} : { ignoredFields };
    const accepted = columns.count;
    if (accepted === 0) return { accepted: 0, stored: 0, duplicates: 0, rejected, ...ignored, firstOffset: null, lastOffset: null, position: this.#backend.applied() };
    const { storedTypes } = this.#backend;
    if (storedTypes.needsRecord(eventType)) await storedTypes.record(eventType);
    const { duplicates, uncounted, offsets, position } = await this.#backend.append(eventType, columns);
    const stored = uncounted === true ? null : accepted - duplicates;
    return { accepted, stored, duplicates, rejected, ...ignored, firstOffset: offsets?.first ?? null, lastOffset: offsets?.last ?? null, position };
  }

  /** What the served batch tables hold here: their slots and estimated heap bytes (a cluster node's, its partitions' only). */
  #batchHeld(): { slots: number; bytes: number } {
    const batch = this.#backend.batch;
    let slots = 0;
    let bytes = 0;
    for (const view of this.#catalog.views.keys()) {
      for (const table of batch?.tables(view) ?? []) {
        slots += table.size;
        bytes += table.bytes;
      }
    }
    return { slots, bytes };
  }

  /**
   * Answers a query from the batch view merged with the speed layer (or one
   * of them, with `layer`); with `after`, once this engine has applied that
   * position.
   */
  async query(query: Query, limits?: QueryLimits): Promise<QueryResult> {
    const backend = this.#backend;
    const budget = new QueryBudget(limits);
    let plan = this.#plan(query, budget);
    if (plan.after !== undefined) {
      if (plan.after.length !== backend.partitions) {
        throw new InvalidQueryError('after', `after must hold one sequence per partition: ${backend.partitions} of them, as an ingest answers.`);
      }
      await backend.waitFor(plan.after);
    }
    if (plan.layer !== 'speed') {
      // Until the served version is loaded, the speed layer holds only the events past its cutoff.
      await backend.whenLoaded?.();
      // A view the batch layer has not computed under its current definition would answer with the speed layer's share alone.
      backend.checkServable(plan.view.name);
    }
    for (let attempt = 1; ; attempt++) {
      const speed = plan.layer === 'batch' && backend.gathersBatch?.() !== true ? undefined : await backend.speedFor(query, plan);
      // From here to the answer, one synchronous step: the batch tables and the speed layer's are of one served version.
      const speedTables = speed?.take();
      // A view switched in (or dropped) since the plan: planned again, so the answer reads one definition throughout.
      const switched = this.#catalog.views.get(plan.view.name) !== plan.view;
      if ((speed !== undefined && speedTables === undefined) || switched) {
        if (switched) plan = this.#plan(query, budget);
        if (attempt < SPEED_ATTEMPTS) continue;
        throw new ServedVersionChangingError(SPEED_ATTEMPTS);
      }
      const batch = speed?.takeBatch === undefined ? backend.batch : speed.takeBatch();
      return this.#answer(plan, budget, speedTables ?? [], speed?.missing ?? [], batch, speed?.applied?.());
    }
  }

  /**
   * The plan of `query` over the catalog served now. A view whose change is
   * being backfilled answers with its served definition; one that is only
   * being added, or a `version` not served, is refused with how far it is.
   */
  #plan(query: Query, budget: QueryBudget): QueryPlan {
    const name = typeof query === 'object' && query !== null && typeof query.view === 'string' ? query.view : undefined;
    const pending = name === undefined ? undefined : this.#views.pending(name);
    if (pending !== undefined && pending.serving === null) throw new ViewBackfillingError(pending.view, pending.version, percentDone(pending), null);
    const plan = planQuery(this.#catalog, query, budget);
    const version = this.#views.versionOf(plan.view.name);
    if (plan.version !== undefined && plan.version !== version) {
      if (pending?.version === plan.version) throw new ViewBackfillingError(pending.view, pending.version, percentDone(pending), version);
      throw new InvalidQueryError('version', `View '${plan.view.name}' is at version ${version}; version ${plan.version} is not served.`);
    }
    return plan;
  }

  /**
   * The answer from `batch` (the served version's tables this answer reads)
   * and `speedTables` (for a cluster node, the other owners' states too, as
   * far as the query's layer reads them), read in the caller's synchronous step.
   */
  #answer(plan: QueryPlan, budget: QueryBudget, speedTables: readonly AggregateTable[], missing: readonly number[], batch: BatchViewStore | undefined, read?: readonly number[]): QueryResult {
    const backend = this.#backend;
    const name = plan.view.name;
    const tables: (AggregateTable | TableSpan)[] = [];
    // A wide query reads each batch table over its part of the range (whole days or months from a coarser roll-up).
    if (plan.layer !== 'speed') tables.push(...(isWide(plan) ? batch?.spans(name, plan.from, plan.to) ?? [] : batch?.tables(name) ?? []));
    tables.push(...speedTables);
    const manifest = backend.batch?.manifest;
    // How far the answer reads each partition: what an ingest's position is compared with (`answerIncludes`).
    const applied = read ?? backend.applied();
    return {
      rows: executeQuery(plan, tables, budget),
      meta: {
        batchVersion: manifest?.version ?? null,
        batchCutoff: manifest?.cutoff ?? 0,
        logEnd: sum(applied),
        batchAgeMs: manifest === undefined ? null : Date.now() - Date.parse(manifest.createdAt),
        layer: plan.layer,
        partialBuckets: partialBuckets(plan),
        timeZone: plan.timeZone.name,
        applied,
        batchCutoffs: backend.batchCutoffs(),
        ...(backend.owners === undefined ? {} : { owners: backend.owners() }),
        ...(missing.length === 0 ? {} : { missingPartitions: [...missing] }),
        viewVersion: this.#views.versionOf(name),
        ...this.#retentionMeta(plan),
      },
    };
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }

  /** Per event type with a retention, its horizon now. */
  #horizons(): Map<string, number> {
    return retentionHorizons(this.#catalog, this.#now());
  }

  /** `meta.retention` for a range that reaches past the view's event type's horizon: its events older than that may be gone. */
  #retentionMeta(plan: QueryPlan): { retention?: QueryMeta['retention'] } {
    const horizon = retentionHorizon(plan.view.eventType.retentionMs, this.#now());
    if (horizon === undefined || plan.from >= horizon) return {};
    return { retention: { horizon: new Date(horizon).toISOString(), keepsAggregates: plan.view.keepAggregates } };
  }

  /**
   * Runs a batch cycle: seals the log, computes every view over the events
   * below the seal, publishes the new version and drops the speed layer's
   * share below it. A cycle already running is joined, not repeated.
   */
  runBatch(options: BatchOptions = {}): Promise<BatchSummary> {
    if (this.#closed) return Promise.reject(new LogClosedError());
    this.#batchRun ??= this.#runBatch(options.full === true, options.seal === true).finally(() => (this.#batchRun = undefined));
    return this.#batchRun;
  }

  /** A cycle of its own carrying a view change, once the cycle running (if any) is done: a joined one would not carry it. */
  #runSwitch(prepare: () => ViewSwitch): Promise<BatchSummary> {
    return this.#runOwn(false, (run) => run(prepare()));
  }

  /**
   * A sealing cycle of its own, once the cycle running (if any) is done: a
   * joined one may have sealed before what this one must absorb was stored.
   */
  async #runOwn(full: boolean, start: (run: (switching?: ViewSwitch) => Promise<BatchSummary>) => Promise<BatchSummary>): Promise<BatchSummary> {
    return (await this.#runOwnIf(async () => true, full, start))!;
  }

  /**
   * {@link #runOwn}, unless `needed` says, once no cycle runs, that the
   * cycles run meanwhile did the work: erasures asked together wait for one
   * cycle that applies them all, not for one full recompute each.
   */
  async #runOwnIf(
    needed: () => Promise<boolean>, full: boolean, start: (run: (switching?: ViewSwitch) => Promise<BatchSummary>) => Promise<BatchSummary>,
  ): Promise<BatchSummary | undefined> {
    for (;;) {
      if (this.#closed) throw new LogClosedError();
      if (this.#batchRun !== undefined) {
        await this.#batchRun.catch(() => undefined);
        continue;
      }
      if (!(await needed())) return undefined;
      // A cycle may have started while `needed` was read: wait for it too.
      if (this.#batchRun === undefined) break;
    }
    const run = start((switching) => this.#runBatch(full, true, switching)).finally(() => (this.#batchRun = undefined));
    this.#batchRun = run;
    return run;
  }

  /**
   * Erases the events of one event type that match `request.where`
   * (equality on each field named; a list of values matches any of them)
   * from every layer: the master dataset's Parquet files are written again
   * without them, the log segments that held them are released, every view
   * is recomputed, older batch versions and the idempotency keys of the
   * erased events go; a view keeping aggregates drops its frozen rows of
   * the erased groups when the fields named are its dimensions, and
   * otherwise keeps them, anonymous, still counting the erased events (the
   * audit's `frozen` says which, per view). Resolves once no other answer
   * counts them, with the audit
   * record kept of it (which never holds the values). Every event stored
   * before the call is covered. Recorded before it starts, so a stop in the
   * middle resumes it at the next open.
   *
   * @example
   * ```ts
   * const audit = await tandem.erase({ eventType: 'order', where: { customer: 'c-123' } }, { by: 'support@example.com' });
   * // { id, by, requestedAt, completedAt, eventType: 'order', fields: ['customer'], events: 42, files: 3 }
   * ```
   * @throws {InvalidErasureError} naming the part of the request at fault.
   * @throws {ErasureFrozenValueError} when a view keeping aggregates holds values of a field named in a measure's state, not as a dimension.
   */
  async erase(request: unknown, options: { readonly by?: string } = {}): Promise<ErasureAudit> {
    if (this.#closed) throw new LogClosedError();
    const backend = this.#backend;
    if (backend.recordErasure === undefined || backend.erasures === undefined) throw new ErasureUnsupportedError();
    const predicate = compileErasure(this.#catalog.eventTypes, request);
    refuseFrozenValues(this.#catalog, predicate);
    const where = (request as ErasureRequest).where;
    const id = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
    await backend.recordErasure({ id, by: options.by ?? 'library', requestedAt: new Date().toISOString(), request: { eventType: predicate.eventType.name, where } });
    const complete = backend.completeErasure?.bind(backend);
    const pending = async () => !(await backend.erasures!()).some((a) => a.id === id);
    await this.#views.restartingBackfills(async () => (complete === undefined ? void await this.#runOwnIf(pending, true, (run) => run()) : complete(id)));
    const audit = (await backend.erasures()).find((a) => a.id === id);
    if (audit === undefined) throw new Error(`Erasure ${id} ran, but its audit record is missing.`);
    return audit;
  }

  /**
   * The audit records of the erasures done, oldest first: who, when, which
   * event type and fields, how many events and files; never the values.
   *
   * @example
   * ```ts
   * for (const { requestedAt, by, events } of await tandem.erasures()) console.log(requestedAt, by, events);
   * ```
   */
  async erasures(): Promise<ErasureAudit[]> {
    return (await this.#backend.erasures?.()) ?? [];
  }

  async #runBatch(full: boolean, seal: boolean, switching?: ViewSwitch): Promise<BatchSummary> {
    const started = performance.now();
    this.#progress = { startedAt: new Date().toISOString(), phase: 'sealing', cutoff: null, viewsDone: 0, viewsTotal: (switching?.catalog ?? this.#catalog).views.size };
    try {
      const context = { full, seal, started, progress: (update: Partial<BatchProgress>) => (this.#progress = { ...this.#progress!, ...update }) };
      const summary = await this.#backend.cycle(switching === undefined ? context : { ...context, switching });
      this.#history.published(summary);
      this.logger.info({ version: summary.version, cutoff: summary.cutoff, durationMs: Math.round(summary.durationMs) }, 'published batch version');
      await this.#warmUp();
      return summary;
    } catch (error) {
      if (this.#backend.countsAsFailure(error)) this.#history.failed(error);
      throw error;
    } finally {
      this.#progress = null;
    }
  }

  /**
   * Once per process, answers leaderboards from the served batch version
   * through {@link #answer}, with an empty table in a speed generation's
   * place, so that the first ones asked run optimized code: after the first
   * cycle, or once a version served from the start has its read aids.
   */
  async #warmUp(): Promise<void> {
    const batch = this.#backend.batch;
    if (batch === undefined) return;
    const views = [...this.#catalog.views.keys()].filter((view) => batch.tables(view).length > 0);
    await warmUpLeaderboards(this.#catalog, views, (plan) => {
      // An engine closed meanwhile ends the warm-up (the error is the warm-up's alone).
      if (this.#closed) throw new LogClosedError();
      this.#answer(plan, new QueryBudget({ timeoutMs: WARM_UP_BUDGET_MS }), [new AggregateTable(plan.view)], [], batch);
    });
  }

  /** Whether a scheduled cycle has anything to do (in a cluster, on this node). */
  hasNewEvents(): boolean {
    return this.#backend.hasNewEvents();
  }

  /** The local directory this engine keeps its files in. */
  get dataDir(): string {
    return this.#options.dataDir;
  }

  /**
   * Calls `listener` after every batch version this engine publishes,
   * whoever started the cycle (a schedule, a request, or the engine itself
   * under memory pressure). Returns a function that unsubscribes.
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
    const backend = this.#backend;
    const manifest = backend.batch?.manifest ?? backend.loading;
    const { sealedSegments, idempotencyKeys, cluster, retention } = backend.status();
    return {
      logEnd: sum(backend.applied()),
      sealedSegments,
      idempotencyKeys,
      batch: manifest === undefined ? null : {
        version: manifest.version, cutoff: manifest.cutoff, createdAt: manifest.createdAt,
        ageMs: Date.now() - Date.parse(manifest.createdAt), durationMs: manifest.durationMs, ...this.#batchHeld(),
      },
      batchRunning: this.#batchRun !== undefined,
      batchProgress: this.#progress,
      recentBatches: this.#history.recent,
      batchFailing: this.#history.failing ?? backend.failing(),
      speed: backend.speedStats(),
      viewChanges: this.#views.statuses(),
      viewVersions: this.#views.versions(),
      ...(cluster === undefined ? {} : { cluster }),
      ...(retention === undefined || (retention.retiredFiles === 0 && this.#horizons().size === 0) ? {} : {
        retention: { horizons: Object.fromEntries([...this.#horizons()].map(([t, h]) => [t, new Date(h).toISOString()])), ...retention },
      }),
    };
  }

  /** Stops background work, finishes a running cycle, then lets the backend close what it holds. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#backend.halt();
    await this.#views.close();
    await this.#batchRun?.catch(() => undefined);
    await this.#backend.close();
  }
}

function validatorsOf(catalog: Catalog): ReadonlyMap<string, ColumnValidator> {
  return new Map([...catalog.eventTypes.values()].map((e) => [e.name, createColumnValidator(e)]));
}

/** How far a backfill is, in whole percent. */
function percentDone(change: BackfillProgress): number {
  return Math.floor(fractionDone(change) * 100);
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/**
 * Refuses an erasure that the frozen parts of a view keeping aggregates
 * could outlive: checked on the definitions alone, before anything is
 * recorded, so that no cycle freezing rows meanwhile can change the answer.
 */
function refuseFrozenValues(catalog: Catalog, predicate: ErasurePredicate): void {
  for (const view of catalog.views.values()) {
    const kept = frozenValueMeasure(view, predicate);
    if (kept !== undefined) throw new ErasureFrozenValueError(view.name, kept.measure, kept.field);
  }
}
