import { TandemError } from '../definitions/errors.ts';

/**
 * The data directory of a log segment (`<dataDir>/log/<segment>`), by string
 * alone: error classes are also loaded by the HTTP client, which must not
 * need `node:path`.
 */
function dataDirOf(segment: string): string {
  return segment.replace(/[\\/][^\\/]*[\\/][^\\/]*$/, '') || '.';
}

/**
 * A log file holds bytes that fail their checksum or framing where no torn
 * tail can explain them: acknowledged events are unreadable, so the engine
 * will not start on it until someone decides (restore, or repair).
 *
 * @example
 * ```ts
 * await Tandem.open({ dataDir, config }).catch(async (error) => {
 *   if (error instanceof CorruptLogError) console.error(error.message); // restore the file, or Tandem.repair(dataDir)
 * });
 * ```
 */
export class CorruptLogError extends TandemError {
  readonly code = 'corrupt_log';
  constructor(readonly file: string, readonly position: number, readonly reason: string) {
    super(`Log file ${file} is damaged at byte ${position} (${reason}): restore it from a backup, or run 'tandem repair --data ${dataDirOf(file)}' to keep every readable event and set the damaged file aside.`);
  }
}

/**
 * The log is closed or closing; no more appends are accepted.
 *
 * @example
 * ```ts
 * await tandem.ingest('order', events).catch((error) => {
 *   if (error instanceof LogClosedError) console.error('the engine is closing');
 * });
 * ```
 */
export class LogClosedError extends TandemError {
  readonly code = 'log_closed';
  constructor() {
    super('The event log is closed.');
  }
}

/**
 * Writing or syncing the log failed (for example the disk is full); nothing of the failed group was acknowledged.
 *
 * @example
 * ```ts
 * await tandem.ingest('order', events).catch((error) => {
 *   if (error instanceof LogWriteError) console.error(`writing ${error.file} failed; nothing of the group was stored`);
 * });
 * ```
 */
export class LogWriteError extends TandemError {
  readonly code = 'log_write_failed';
  constructor(readonly file: string, cause: unknown) {
    super(`Writing the event log ${file} failed: ${(cause as Error).message ?? String(cause)}.`, { cause });
  }
}

/**
 * Encoding a group of events into log frames failed (a defect, not the disk): nothing of the group was written.
 *
 * @example
 * ```ts
 * await tandem.ingest('order', events).catch((error) => {
 *   if (error instanceof LogEncodeError) console.error(error.eventTypes, error.cause);
 * });
 * ```
 */
export class LogEncodeError extends TandemError {
  readonly code = 'log_encode_failed';
  constructor(readonly eventTypes: readonly string[], cause: unknown) {
    super(`Encoding events of type ${eventTypes.map((t) => `'${t}'`).join(', ')} for the event log failed, so none of them was stored: ${(cause as Error).message ?? String(cause)}.`, { cause });
  }
}

/**
 * More events wait to be made durable than the log takes (its disk is slower
 * than the ingest): the append is refused whole, so memory stays bounded and
 * the client can retry it later.
 *
 * @example
 * ```ts
 * await tandem.ingest('order', events).catch(async (error) => {
 *   if (error instanceof LogOverloadedError) await new Promise((r) => setTimeout(r, 1_000)); // then retry
 * });
 * ```
 */
export class LogOverloadedError extends TandemError {
  readonly code = 'log_overloaded';
  constructor(readonly pendingEvents: number, readonly limit: number) {
    super(`The event log already has ${pendingEvents.toLocaleString('en-US')} events waiting to be written (the limit is ${limit.toLocaleString('en-US')}); nothing in this request was stored, so retry it shortly.`);
  }
}

/**
 * The disk holding the data directory is full: nothing of the failed write
 * was acknowledged, and writing resumes by itself once space is freed.
 *
 * @example
 * ```ts
 * await tandem.ingest('order', events).catch((error) => {
 *   if (error instanceof DiskFullError) console.error(`free space on the disk of ${error.dir}, then retry`);
 * });
 * ```
 */
export class DiskFullError extends TandemError {
  readonly code = 'disk_full';
  constructor(readonly dir: string, cause: unknown) {
    super(`The disk holding ${dir} is full, so nothing of this write was stored; free some space and it resumes by itself.`, { cause });
  }
}

/**
 * The config would read stored events differently from how they were written:
 * an event type with stored events is gone, or a stored field changed its type
 * or scale. Log frames hold normalized values without their schema (a number
 * is an integer scaled by its field's scale), so opening would misread them.
 *
 * @example
 * ```ts
 * await Tandem.open({ dataDir, config }).catch((error) => {
 *   if (error instanceof StoredSchemaConflictError) console.error(error.eventType, error.field, error.message);
 * });
 * ```
 */
export class StoredSchemaConflictError extends TandemError {
  readonly code = 'stored_schema_conflict';
  constructor(readonly eventType: string, readonly field: string | undefined, readonly file: string, message: string) {
    super(message);
  }
}

/**
 * A sealed log segment's frames end before the next segment begins: the
 * segment that held the offsets between them is missing, and a replay would
 * silently skip them.
 *
 * @example
 * ```ts
 * await Tandem.open({ dataDir, config }).catch((error) => {
 *   if (error instanceof LogGapError) console.error(`offsets ${error.from} to ${error.to - 1} are missing after ${error.file}`);
 * });
 * ```
 */
export class LogGapError extends TandemError {
  readonly code = 'log_gap';
  constructor(readonly file: string, readonly from: number, readonly to: number) {
    super(`Log file ${file} ends at offset ${from}, but the next segment starts at ${to}: the segment holding the offsets between is missing; run 'tandem repair --data ${dataDirOf(file)}'.`);
  }
}

/**
 * The log's newest segment is missing: `log/ACTIVE` records a segment that
 * starts past every one on disk. What it held (every event from its base on)
 * is gone unless the file is restored.
 *
 * @example
 * ```ts
 * await Tandem.open({ dataDir, config }).catch((error) => {
 *   if (error instanceof NewestSegmentMissingError) console.error(`restore ${error.file}`);
 * });
 * ```
 */
export class NewestSegmentMissingError extends TandemError {
  readonly code = 'newest_segment_missing';
  constructor(readonly file: string, readonly base: number) {
    super(`Log file ${file}, the newest segment, is missing, so the events from offset ${base} on are gone: restore it from a backup, or run 'tandem repair --data ${dataDirOf(file)}' to go on without them.`);
  }
}
