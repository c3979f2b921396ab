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
 */
export class CorruptLogError extends TandemError {
  readonly code = 'corrupt_log';
  constructor(readonly file: string, readonly position: number, readonly reason: string) {
    super(`Log file ${file} is damaged at byte ${position} (${reason}): restore it from a backup, or run 'tandem repair --data ${dataDirOf(file)}' to keep every readable event and set the damaged file aside.`);
  }
}

/** The log is closed or closing; no more appends are accepted. */
export class LogClosedError extends TandemError {
  readonly code = 'log_closed';
  constructor() {
    super('The event log is closed.');
  }
}

/** Writing or syncing the log failed (for example the disk is full); nothing of the failed group was acknowledged. */
export class LogWriteError extends TandemError {
  readonly code = 'log_write_failed';
  constructor(readonly file: string, cause: unknown) {
    super(`Writing the event log ${file} failed: ${(cause as Error).message ?? String(cause)}.`, { cause });
  }
}

/** Encoding a group of events into log frames failed (a defect, not the disk): nothing of the group was written. */
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
 */
export class StoredSchemaConflictError extends TandemError {
  readonly code = 'stored_schema_conflict';
  constructor(readonly eventType: string, readonly field: string | undefined, readonly file: string, message: string) {
    super(message);
  }
}
