import type { Catalog, TandemConfig } from '../definitions/index.ts';
import type { Query, QueryLimits, QueryResult } from '../serving/index.ts';
import type { BatchOptions, BatchSummary, EngineStatus, ErasureAudit, IngestResult, ViewChangeAnswer } from './engine-types.ts';
import type { HistoryImportOptions, HistoryImportSummary } from './history-import-types.ts';

/**
 * What the HTTP server, the batch schedule and the metrics need of an
 * engine: the embedded {@link Tandem} and a cluster node both are one, so
 * every route, metric and dashboard panel works the same in both modes.
 *
 * @example
 * ```ts
 * const engine: ServedEngine = await Tandem.open({ dataDir: './data', config });
 * const { rows } = await engine.query({ view: 'revenue_by_country', granularity: 'all' });
 * ```
 */
export interface ServedEngine {
  readonly catalog: Catalog;
  /** The local directory this engine keeps its files in. */
  readonly dataDir: string;
  ingest(eventType: string, events: readonly unknown[]): Promise<IngestResult>;
  query(query: Query, limits?: QueryLimits): Promise<QueryResult>;
  /** Runs a batch cycle, or joins the one running. */
  runBatch(options?: BatchOptions): Promise<BatchSummary>;
  /** Whether the log holds events no batch has absorbed: a scheduled cycle runs only then. */
  hasNewEvents(): boolean;
  status(): EngineStatus;
  onPublished(listener: (summary: BatchSummary) => void): () => void;
  /** Adds or replaces a view while serving; its batch layer is backfilled before it switches in. */
  applyView(definition: unknown): Promise<ViewChangeAnswer>;
  dropView(name: string): Promise<ViewChangeAnswer>;
  cancelViewChange(name: string): Promise<ViewChangeAnswer>;
  /** Erases the events of one type that match `request.where` from every layer; resolves with its audit record once no answer counts them. */
  erase(request: unknown, options?: { readonly by?: string }): Promise<ErasureAudit>;
  /**
   * Loads history files straight into the master dataset and publishes them
   * (`POST /v1/history/{eventType}` calls it). The embedded engine has it; a
   * cluster node has not, since a cluster's import is staged by the
   * importing process itself (`tandem ingest --history --nats`).
   */
  importHistory?(eventType: string, files: readonly string[], options?: HistoryImportOptions): Promise<HistoryImportSummary>;
  /** The audit records of the erasures done, oldest first. */
  erasures(): Promise<ErasureAudit[]>;
  /** Makes the served views those of `config` (its event types must be the served ones). */
  reloadConfig(config: TandemConfig): Promise<ViewChangeAnswer[]>;
  /** Refuses new ingests and resolves once those under way are durable; `close` follows. */
  drain(): Promise<void>;
  close(): Promise<void>;
}
