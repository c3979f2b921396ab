/**
 * The embedded backend: the engine core over one data directory on local
 * disk (a write-ahead log, Parquet files, published batch versions), and
 * {@link Tandem}, the engine opened on it.
 *
 * @module
 */
export { Tandem, type LocalIngestResult } from './tandem.ts';
export { keylessWarning, type HistoryImportOptions, type HistoryImportSummary, type HistoryProgress } from '../../engine/index.ts';
export { HistoryFileError, HistoryFormatError, HistoryImportUnsupportedError } from '../../master/index.ts';
