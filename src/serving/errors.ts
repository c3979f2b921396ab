import { TandemError } from '../definitions/index.ts';

/** A query is malformed; `field` names the part of the query at fault (e.g. `from`, `orderBy[0].measure`). */
export class InvalidQueryError extends TandemError {
  readonly code = 'invalid_query';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export class UnknownViewError extends TandemError {
  readonly code = 'unknown_view';
  constructor(readonly view: string) {
    super(`Unknown view '${view.slice(0, 64)}'.`);
  }
}

export class UnknownDimensionError extends TandemError {
  readonly code = 'unknown_dimension';
  constructor(readonly field: string, readonly dimension: string, readonly view: string) {
    super(`${field} names '${dimension.slice(0, 64)}', which is not a dimension of view '${view}'.`);
  }
}

export class UnknownMeasureError extends TandemError {
  readonly code = 'unknown_measure';
  constructor(readonly field: string, readonly measure: string, readonly view: string) {
    super(`${field} names '${measure.slice(0, 64)}', which is not a measure of view '${view}'.`);
  }
}

/** Another engine (this process or another) has the data directory open. */
export class DataDirectoryLockedError extends TandemError {
  readonly code = 'data_directory_locked';
  constructor(readonly dataDir: string, readonly pid: number | null) {
    super(`The data directory ${dataDir} is in use by ${pid === null ? 'another process' : `process ${pid}`}; stop it first, or send events to its server with --url.`);
  }
}
