/**
 * The engine core: what the embedded engine and a cluster node do alike
 * (ingest, queries through the serving layer, batch bookkeeping, status),
 * over a backend that supplies where the data lives (`src/backends/local`,
 * `src/backends/nats`).
 *
 * @module
 */
export { EngineCore, SILENT, type EngineCoreOptions } from './engine-core.ts';
export type {
  Backfill, BackfillJob, BackfillProgress, BackendAppend, BackendHost, BackendStatus, CycleContext, EngineBackend, SpeedPart, StoredTypes, ViewSwitch,
} from './engine-backend.ts';
export type * from './engine-types.ts';
export type { ServedEngine } from './served-engine.ts';
export { BatchSchedule } from './batch-schedule.ts';
export { keylessWarning, type HistoryImportOptions, type HistoryImportSummary, type HistoryProgress } from './history-import-types.ts';
export {
  DataDirectoryLockedError, EngineDrainingError, InvalidEngineOptionError, ServedVersionChangingError, SpeedLayerFullError, ViewNotReadyError,
  ViewBackfillingError, ViewChangesUnsupportedError, RetentionUnsupportedError, FrozenAggregatesError, ErasureUnsupportedError, ErasureFrozenValueError, NoViewChangeError, EventTypesChangedError,
} from './errors.ts';
export type { ViewState, ViewStateStore, ViewVersion, PendingViewChange } from './view-state.ts';
