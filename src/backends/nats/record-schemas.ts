/**
 * The shapes of every record a node reads back from NATS: the control
 * record and the stored-schema record (KV bucket `<cluster>_control`), the
 * node registry's heartbeats (`<cluster>_nodes`), the partitions' lease
 * records (`<cluster>_partitions`), and the JSON objects of the
 * object store (`<cluster>_master`: a version's manifest, a duplicate rule's
 * snapshot). What another process wrote, a crash cut short or an operator
 * edited by hand is checked here before anything reads a field of it, so a
 * bad record is one typed error naming its bucket and key
 * ({@link InvalidClusterRecordError}), never a `TypeError` deep in a cycle.
 *
 * Each check returns the value typed, or throws {@link RecordShapeError}
 * naming the first field at fault; {@link parseRecord} turns the text of a
 * record into either. The messages nodes send each other (batch requests)
 * are checked the same way, with {@link fieldChecks}.
 *
 * @module
 */
import type { StoredTypes } from '../../log/index.ts';
import type { ControlRecord } from './batch-control.ts';
import { InvalidClusterRecordError } from './errors.ts';
import type { FilterSnapshot } from './first-occurrence.ts';
import type { Heartbeat } from './heartbeat.ts';
import type { PartitionLease } from './partition-lease-record.ts';
import type { ArchivedRange, SharedManifest } from './shared-manifest.ts';

/** A record is not of the shape its reader needs; `path` names the field (`published.cutoffs[1]`). */
export class RecordShapeError extends Error {
  constructor(readonly path: string, readonly expected: string) {
    super(`${path === '' ? 'it' : path} is not ${expected}`);
  }
}

/** The routing record: how every node places events in partitions. */
export interface RoutingRecord {
  readonly partitionBy: Readonly<Record<string, string>>;
}

/** Checks `value` and returns it typed; throws {@link RecordShapeError}. */
export type RecordCheck<T> = (value: unknown) => T;

type Fields = Record<string, unknown>;

const at = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`);

function object(value: unknown, path: string): Fields {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RecordShapeError(path, 'an object');
  return value as Fields;
}

function field(record: Fields, path: string, key: string): unknown {
  if (!Object.hasOwn(record, key)) throw new RecordShapeError(at(path, key), 'present');
  return record[key];
}

function integer(value: unknown, path: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new RecordShapeError(path, `an integer of at least ${min}`);
  return value;
}

function finite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RecordShapeError(path, 'a number');
  return value;
}

function string(value: unknown, path: string, nonEmpty = false): string {
  if (typeof value !== 'string' || (nonEmpty && value === '')) throw new RecordShapeError(path, nonEmpty ? 'a non-empty string' : 'a string');
  return value;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new RecordShapeError(path, 'an array');
  return value;
}

function nullable<T>(value: unknown, check: () => T): T | null {
  return value === null ? null : check();
}

const SHA256 = /^[0-9a-f]{64}$/;

function digest(value: unknown, path: string): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{8}$/.test(value)) throw new RecordShapeError(path, 'a rule digest (8 hex digits)');
  return value;
}

function sha256(value: unknown, path: string): string {
  if (typeof value !== 'string' || !SHA256.test(value)) throw new RecordShapeError(path, 'a SHA-256 in hex');
  return value;
}

/** Per partition, one sequence: `partitions` of them when the count is known. */
function sequences(value: unknown, path: string, partitions?: number): number[] {
  const list = array(value, path).map((seq, i) => integer(seq, at(path, i)));
  if (partitions !== undefined && list.length !== partitions) throw new RecordShapeError(path, `a list of ${partitions} sequences, one per partition`);
  return list;
}

/** The batch control record of a cluster of `partitions` partitions: `{lease, published}`, each null or whole. */
export function controlRecordCheck(partitions: number): RecordCheck<ControlRecord> {
  return (value) => {
    const record = object(value, '');
    const lease = nullable(field(record, '', 'lease'), () => {
      const l = object(record.lease, 'lease');
      return { holder: string(field(l, 'lease', 'holder'), 'lease.holder', true), term: integer(field(l, 'lease', 'term'), 'lease.term', 1), expiresAt: finite(field(l, 'lease', 'expiresAt'), 'lease.expiresAt') };
    });
    const published = nullable(field(record, '', 'published'), () => {
      const p = object(record.published, 'published');
      return {
        version: integer(field(p, 'published', 'version'), 'published.version', 1),
        cutoffs: sequences(field(p, 'published', 'cutoffs'), 'published.cutoffs', partitions),
        term: integer(field(p, 'published', 'term'), 'published.term'),
      };
    });
    return { lease, published };
  };
}

const FIELD_TYPES = new Set(['string', 'number', 'boolean', 'timestamp']);

/** How the cluster's events were stored: per event type, per field, `{type, scale?}`. */
export const storedTypesCheck: RecordCheck<StoredTypes> = (value) => {
  const types = object(value, '');
  for (const [eventType, fields] of Object.entries(types)) {
    for (const [name, stored] of Object.entries(object(fields, eventType))) {
      const path = at(eventType, name);
      const f = object(stored, path);
      if (!FIELD_TYPES.has(f.type as string)) throw new RecordShapeError(at(path, 'type'), 'string, number, boolean or timestamp');
      if (f.type === 'number') integer(field(f, path, 'scale'), at(path, 'scale'));
    }
  }
  return types as StoredTypes;
};

/** How the cluster places events in partitions: per event type, the field that does instead of the idempotency key. */
export const routingRecordCheck: RecordCheck<RoutingRecord> = (value) => {
  const partitionBy = object(field(object(value, ''), '', 'partitionBy'), 'partitionBy');
  for (const [type, name] of Object.entries(partitionBy)) if (typeof name !== 'string') throw new RecordShapeError(at('partitionBy', type), 'a field name');
  return { partitionBy: partitionBy as Record<string, string> };
};

/** A node's heartbeat in the registry. */
export const heartbeatCheck: RecordCheck<Heartbeat> = (value) => {
  const b = object(value, '');
  return {
    node: string(field(b, '', 'node'), 'node', true),
    instance: string(field(b, '', 'instance'), 'instance', true),
    host: string(field(b, '', 'host'), 'host'),
    pid: integer(field(b, '', 'pid'), 'pid'),
    url: nullable(field(b, '', 'url'), () => string(b.url, 'url')),
    applied: sequences(field(b, '', 'applied'), 'applied'),
    batchVersion: nullable(field(b, '', 'batchVersion'), () => integer(b.batchVersion, 'batchVersion', 1)),
    ...(b.speed === undefined ? {} : { speed: sequences(b.speed, 'speed') }),
    ...(b.reads === undefined ? {} : { reads: sequences(b.reads, 'reads') }),
    ...(b.events === undefined ? {} : { events: array(b.events, 'events').map((n, i) => nullable(n, () => integer(n, at('events', i)))) }),
    at: finite(field(b, '', 'at'), 'at'),
  };
};

/** A partition's lease record: `{owner, epoch, moveTo, published}`, owner and published each null or whole. */
export const partitionLeaseCheck: RecordCheck<PartitionLease> = (value) => {
  const r = object(value, '');
  const owner = nullable(field(r, '', 'owner'), () => {
    const o = object(r.owner, 'owner');
    return { node: string(field(o, 'owner', 'node'), 'owner.node', true), instance: string(field(o, 'owner', 'instance'), 'owner.instance', true) };
  });
  const published = nullable(field(r, '', 'published'), () => {
    const p = object(r.published, 'published');
    return {
      version: integer(field(p, 'published', 'version'), 'published.version', 1),
      cutoff: integer(field(p, 'published', 'cutoff'), 'published.cutoff'),
      epoch: integer(field(p, 'published', 'epoch'), 'published.epoch', 1),
    };
  });
  return {
    owner,
    epoch: nullable(field(r, '', 'epoch'), () => integer(r.epoch, 'epoch', 1)),
    moveTo: nullable(field(r, '', 'moveTo'), () => string(r.moveTo, 'moveTo', true)),
    published,
  };
};

/** Per outbox id, sorted runs of origins `[from, to)`. */
function originRuns(value: unknown, path: string): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (const [id, runs] of Object.entries(object(value, path))) {
    out[id] = array(runs, at(path, id)).map((run, i) => {
      const p = at(at(path, id), i);
      const pair = array(run, p);
      if (pair.length !== 2) throw new RecordShapeError(p, 'a run [from, to]');
      const from = integer(pair[0], at(p, 0));
      return [from, integer(pair[1], at(p, 1), from + 1)];
    });
  }
  return out;
}

/** The duplicate rule's state at the end of an archived range. */
export const filterSnapshotCheck: RecordCheck<FilterSnapshot> = (value) => {
  const s = object(value, '');
  return {
    lastSeq: integer(field(s, '', 'lastSeq'), 'lastSeq'),
    msgIds: array(field(s, '', 'msgIds'), 'msgIds').map((id, i) => string(id, at('msgIds', i))),
    ...(s.digest === undefined ? {} : { digest: digest(s.digest, 'digest') }),
    ...(s.origins === undefined ? {} : { origins: originRuns(s.origins, 'origins') }),
  };
};

/** Checks a range as the manifest holds it and returns it unchanged: the manifest's checksum is over its own key order. */
export function archivedRange(value: unknown, path: string): ArchivedRange {
  const r = object(value, path);
  for (const [eventType, f] of Object.entries(object(field(r, path, 'files'), at(path, 'files')))) {
    const p = at(at(path, 'files'), eventType);
    const file = object(f, p);
    string(field(file, p, 'blob'), at(p, 'blob'), true);
    integer(field(file, p, 'rows'), at(p, 'rows'));
    sha256(field(file, p, 'sha256'), at(p, 'sha256'));
    if (file.maxTime !== undefined) finite(file.maxTime, at(p, 'maxTime'));
  }
  const filter = object(field(r, path, 'filter'), at(path, 'filter'));
  string(field(filter, at(path, 'filter'), 'blob'), at(path, 'filter.blob'), true);
  sha256(field(filter, at(path, 'filter'), 'sha256'), at(path, 'filter.sha256'));
  integer(field(r, path, 'partition'), at(path, 'partition'));
  const from = integer(field(r, path, 'from'), at(path, 'from'), 1);
  integer(field(r, path, 'to'), at(path, 'to'), from);
  if (r.lost !== undefined) {
    const lost = object(r.lost, at(path, 'lost'));
    integer(field(lost, at(path, 'lost'), 'from'), at(path, 'lost.from'), from);
    integer(field(lost, at(path, 'lost'), 'to'), at(path, 'lost.to'), from);
  }
  if (r.digest !== undefined) digest(r.digest, at(path, 'digest'));
  if (r.folds !== undefined) integer(r.folds, at(path, 'folds'), 2);
  return r as unknown as ArchivedRange;
}

/** A retired archive object, as a manifest lists it under `retired`. */
function retiredFile(value: unknown, path: string, partitions: number): void {
  const r = object(value, path);
  string(field(r, path, 'eventType'), at(path, 'eventType'), true);
  string(field(r, path, 'blob'), at(path, 'blob'), true);
  integer(field(r, path, 'rows'), at(path, 'rows'));
  sha256(field(r, path, 'sha256'), at(path, 'sha256'));
  const partition = integer(field(r, path, 'partition'), at(path, 'partition'));
  if (partition >= partitions) throw new RecordShapeError(at(path, 'partition'), `a partition below ${partitions}`);
  const from = integer(field(r, path, 'from'), at(path, 'from'), 1);
  integer(field(r, path, 'to'), at(path, 'to'), from);
  finite(field(r, path, 'maxTime'), at(path, 'maxTime'));
  integer(field(r, path, 'generation'), at(path, 'generation'), 1);
  string(field(r, path, 'retiredAt'), at(path, 'retiredAt'), true);
  if (r.deletedAt !== undefined) string(r.deletedAt, at(path, 'deletedAt'), true);
  if (r.keys !== undefined) {
    const keys = object(r.keys, at(path, 'keys'));
    string(field(keys, at(path, 'keys'), 'blob'), at(path, 'keys.blob'), true);
    sha256(field(keys, at(path, 'keys'), 'sha256'), at(path, 'keys.sha256'));
  }
}

/** A version's folder in the object store, as a manifest names the folder of a file it inherited. */
const VERSION_FOLDER = /^batch\/v\d{8}-t\d{6}$/;

/** A view file's name in its version's folder: one name, never a path a node would write outside that folder. */
function fileName(value: unknown, path: string): string {
  const name = string(value, path, true);
  if (name.includes('/') || name.includes('\\') || name === '.' || name === '..') throw new RecordShapeError(path, 'a file name');
  return name;
}

/** One incremental cycle's file of a view, or one node's part of its base. */
function viewDelta(value: unknown, path: string): void {
  const d = object(value, path);
  nullable(field(d, path, 'file'), () => fileName(d.file, at(path, 'file')));
  if (d.sha256 !== undefined) sha256(d.sha256, at(path, 'sha256'));
  integer(field(d, path, 'rows'), at(path, 'rows'));
  if (d.partition !== undefined) integer(d.partition, at(path, 'partition'), 0);
}

/** A version's view definitions: each an object named as its key, with a version of at least 1 (compiling them checks the rest). */
function versionDefinitions(value: unknown, path: string): void {
  for (const [name, entry] of Object.entries(object(value, path))) {
    const e = object(entry, at(path, name));
    const view = object(field(e, at(path, name), 'view'), at(at(path, name), 'view'));
    if (view.name !== name) throw new RecordShapeError(at(at(at(path, name), 'view'), 'name'), `'${name.slice(0, 64)}', its key`);
    integer(field(e, at(path, name), 'version'), at(at(path, name), 'version'), 1);
  }
}

/** A published version's manifest in the object store: the fields a node reads, its views' files and the archive ranges. */
export function sharedManifestCheck(partitions: number): RecordCheck<SharedManifest> {
  return (value) => {
    const m = object(value, '');
    integer(field(m, '', 'version'), 'version', 1);
    integer(field(m, '', 'cutoff'), 'cutoff');
    sequences(field(m, '', 'cutoffs'), 'cutoffs', partitions);
    string(field(m, '', 'createdAt'), 'createdAt', true);
    finite(field(m, '', 'durationMs'), 'durationMs');
    for (const [name, entry] of Object.entries(object(field(m, '', 'views'), 'views'))) {
      const path = at('views', name);
      const e = object(entry, path);
      string(field(e, path, 'hash'), at(path, 'hash'));
      nullable(field(e, path, 'file'), () => fileName(e.file, at(path, 'file')));
      if (e.sha256 !== undefined) sha256(e.sha256, at(path, 'sha256'));
      integer(field(e, path, 'rows'), at(path, 'rows'));
      if (e.deltas !== undefined) array(e.deltas, at(path, 'deltas')).forEach((d, i) => viewDelta(d, at(at(path, 'deltas'), i)));
      if (e.parts !== undefined) array(e.parts, at(path, 'parts')).forEach((d, i) => viewDelta(d, at(at(path, 'parts'), i)));
      if (e.frozen !== undefined) array(e.frozen, at(path, 'frozen')).forEach((d, i) => viewDelta(d, at(at(path, 'frozen'), i)));
    }
    if (m.inherited !== undefined) {
      for (const [file, folder] of Object.entries(object(m.inherited, 'inherited'))) {
        fileName(file, at('inherited', file));
        if (typeof folder !== 'string' || !VERSION_FOLDER.test(folder)) throw new RecordShapeError(at('inherited', file), 'a version folder (batch/v…-t…)');
      }
    }
    if (m.definitions !== undefined) versionDefinitions(m.definitions, 'definitions');
    const ranges = array(field(m, '', 'ranges'), 'ranges').map((r, i) => archivedRange(r, at('ranges', i)));
    for (const [i, r] of ranges.entries()) if (r.partition >= partitions) throw new RecordShapeError(at(at('ranges', i), 'partition'), `a partition below ${partitions}`);
    if (m.retiredGeneration !== undefined) integer(m.retiredGeneration, 'retiredGeneration', 1);
    if (m.retired !== undefined) array(m.retired, 'retired').forEach((r, i) => retiredFile(r, at('retired', i), partitions));
    return m as unknown as SharedManifest;
  };
}

/**
 * The field checks the checks above are made of, for a module that reads
 * messages of its own from NATS (`batch-requests.ts`: a request between
 * nodes is no record of a bucket) and turns a {@link RecordShapeError} into
 * its own typed error.
 */
export const fieldChecks = { object, field, integer, finite, string, array, nullable, at } as const;

/**
 * Parses a message another node sent and checks its shape: one that is not
 * JSON, or not of the shape, is the error `invalid` makes of the reason.
 *
 * @example
 * ```ts
 * parseChecked(text, replyCheck, (reason, cause) => new InvalidBatchMessageError('n1', 'reply', reason, cause));
 * ```
 */
export function parseChecked<T>(data: string, check: RecordCheck<T>, invalid: (reason: string, cause: unknown) => Error): T {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (error) {
    throw invalid('it is not JSON', error);
  }
  try {
    return check(value);
  } catch (error) {
    if (!(error instanceof RecordShapeError)) throw error;
    throw invalid(error.message, error);
  }
}

/**
 * Parses the text of record `key` in `store` and checks its shape: a record
 * that is not JSON, or not of the shape, is an {@link InvalidClusterRecordError}
 * naming both, with `advice` saying what happens and what to do.
 */
export function parseRecord<T>(text: string, check: RecordCheck<T>, where: { readonly store: string; readonly key: string; readonly what: string; readonly advice: string }): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidClusterRecordError(where.store, where.key, where.what, 'it is not JSON', where.advice, error);
  }
  try {
    return check(value);
  } catch (error) {
    if (!(error instanceof RecordShapeError)) throw error;
    throw new InvalidClusterRecordError(where.store, where.key, where.what, error.message, where.advice, error);
  }
}
