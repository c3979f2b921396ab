/**
 * What can stop a history import, one class per failure mode.
 *
 * @module
 */
import { TandemError } from '../definitions/errors.ts';

/**
 * A history file cannot be read as its format says (missing, damaged, not
 * Parquet, CSV or JSON), so nothing of it was imported.
 *
 * @example
 * ```ts
 * await tandem.importHistory('order', ['old.parquet']).catch((error) => {
 *   if (error instanceof HistoryFileError) console.error(`fix or remove ${error.file}`);
 * });
 * ```
 */
export class HistoryFileError extends TandemError {
  readonly code = 'history_file_unreadable';
  constructor(readonly file: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`History file ${file} cannot be imported: ${reason.replace(/\.$/, '')}.`, options);
  }
}

/**
 * A history file's name does not say its format: it must end in `.parquet`,
 * `.csv`, `.ndjson`, `.jsonl` or `.json` (an array of events).
 *
 * @example
 * ```ts
 * try { await tandem.importHistory('order', ['dump.txt']); } catch (error) {
 *   if (error instanceof HistoryFormatError) console.error(error.file);
 * }
 * ```
 */
export class HistoryFormatError extends TandemError {
  readonly code = 'history_format_unknown';
  constructor(readonly file: string) {
    super(`History file ${file} has no known format: name it .parquet, .csv, .ndjson, .jsonl or .json (an array of events).`);
  }
}

/**
 * History imports write the master dataset of an embedded engine's data
 * directory, which no server may hold open, or a cluster's log and object
 * store; a running embedded server takes no such import, and a cluster none
 * into an event type placed by a field that is not a string.
 *
 * @example
 * ```ts
 * if (options.data === undefined) throw new HistoryImportUnsupportedError();
 * ```
 */
export class HistoryImportUnsupportedError extends TandemError {
  readonly code = 'history_import_unsupported';
  /** `reason`: the sentence saying what is not supported; by default, where an import can write. */
  constructor(reason?: string) {
    super(reason ?? 'History imports (--history) write a data directory (pass --data and --config) or a cluster (pass --nats and --config, with --url naming one of its nodes); a running embedded server cannot import history, so stop it first, or ingest through the API.');
  }
}
