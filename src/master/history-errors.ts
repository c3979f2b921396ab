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
 * A history import that cannot run where it was asked: a cluster node takes
 * no history file over HTTP (the importing process stages a cluster's
 * import itself, `tandem ingest --history --nats`), and a cluster none into
 * an event type placed by a field that is not a string.
 *
 * @example
 * ```ts
 * if (tandem.importHistory === undefined) throw new HistoryImportUnsupportedError();
 * ```
 */
export class HistoryImportUnsupportedError extends TandemError {
  readonly code = 'history_import_unsupported';
  /** `reason`: the sentence saying what is not supported; by default, that a cluster node takes no upload. */
  constructor(reason?: string) {
    super(reason ?? 'A cluster node takes no history upload: import the file with tandem ingest --history FILE --event TYPE --nats URLS --config FILE --url NODE.');
  }
}
