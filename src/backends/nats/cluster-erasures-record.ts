/**
 * The erasures record of a cluster (key `erasures` of the control bucket):
 * the erasures asked of any node and not done yet, and the audit of those
 * done. Neither holds the values erased: each erasure's values are a key of
 * their own (`erasure-values.<id>`), written once and securely erased (the
 * message overwritten in the servers' files) once the erasure is done, as a
 * value in a record rewritten by compare-and-set would stay in the bytes of
 * the revisions it replaced. The node that runs the
 * next batch cycle applies every pending one (`cluster-erasure.ts`), then
 * moves each into the audit. Every write is a compare-and-set on the key's
 * revision, so two nodes asking at once both count.
 *
 * @module
 */
import type { ErasureEntry } from '../../engine/engine-backend.ts';
import type { ErasureAudit } from '../../engine/engine-types.ts';
import type { KvRecordShape } from './kv-revisioned-store.ts';
import { fieldChecks, RecordShapeError, type RecordCheck } from './record-schemas.ts';

export const ERASURES_KEY = 'erasures';

/** The key of erasure `id`'s values. */
export const erasureValuesKey = (id: string): string => `erasure-values.${id}`;

/** What an erasure erases: field → value (or values), as asked. */
export interface ErasureValues {
  readonly where: Readonly<Record<string, unknown>>;
}

/** What a cycle found to erase, recorded before the archive changes: a cycle after a crash finds only what the first left. */
export interface ClusterErasureFound {
  readonly events: number;
  /** Archive objects written again without the erased events. */
  readonly files: number;
}

/** An erasure asked for and not done yet: its values are under {@link erasureValuesKey}. */
export interface PendingClusterErasure extends Pick<ErasureEntry, 'id' | 'by' | 'requestedAt'> {
  readonly eventType: string;
  readonly found?: ClusterErasureFound;
}

export interface ClusterErasuresRecord {
  readonly pending: readonly PendingClusterErasure[];
  /** The erasures done, oldest first: who, when, which type and fields, how many events and objects; never the values. */
  readonly audit: readonly ClusterErasureAudit[];
}

/**
 * An erasure done, as the record keeps it: the audit, and the batch version
 * that first served without its events (absent from records written before
 * it was kept). A node's erase waits for every live node to serve it.
 */
export interface ClusterErasureAudit extends ErasureAudit {
  readonly version?: number;
}

export const EMPTY_ERASURES_RECORD: ClusterErasuresRecord = { pending: [], audit: [] };

const { object, field, integer, string, array, at } = fieldChecks;

const erasuresRecordCheck: RecordCheck<ClusterErasuresRecord> = (value) => {
  const r = object(value, '');
  array(field(r, '', 'pending'), 'pending').forEach((entry, i) => {
    const path = at('pending', i);
    const e = object(entry, path);
    string(field(e, path, 'id'), at(path, 'id'), true);
    string(field(e, path, 'by'), at(path, 'by'));
    string(field(e, path, 'requestedAt'), at(path, 'requestedAt'), true);
    string(field(e, path, 'eventType'), at(path, 'eventType'), true);
    if (e.found !== undefined) {
      const found = object(e.found, at(path, 'found'));
      integer(field(found, at(path, 'found'), 'events'), at(at(path, 'found'), 'events'), 0);
      integer(field(found, at(path, 'found'), 'files'), at(at(path, 'found'), 'files'), 0);
    }
  });
  array(field(r, '', 'audit'), 'audit').forEach((entry, i) => {
    const path = at('audit', i);
    const a = object(entry, path);
    for (const name of ['id', 'by', 'requestedAt', 'completedAt', 'eventType'] as const) string(field(a, path, name), at(path, name));
    array(field(a, path, 'fields'), at(path, 'fields')).forEach((f, j) => string(f, at(at(path, 'fields'), j), true));
    integer(field(a, path, 'events'), at(path, 'events'), 0);
    integer(field(a, path, 'files'), at(path, 'files'), 0);
    if (a.version !== undefined) integer(a.version, at(path, 'version'), 1);
    if (a.frozen !== undefined) array(a.frozen, at(path, 'frozen')).forEach((f, j) => frozenCheck(f, at(at(path, 'frozen'), j)));
  });
  return r as unknown as ClusterErasuresRecord;
};

/** One view's frozen outcome in an audit (`FrozenErasure`): dropped rows (and events), or counted. */
function frozenCheck(value: unknown, path: string): void {
  const f = object(value, path);
  string(field(f, path, 'view'), at(path, 'view'), true);
  const outcome = string(field(f, path, 'outcome'), at(path, 'outcome'));
  if (outcome !== 'dropped' && outcome !== 'counted') throw new RecordShapeError(at(path, 'outcome'), "'dropped' or 'counted'");
  if (outcome === 'dropped') integer(field(f, path, 'rows'), at(path, 'rows'), 0);
  if (f.events !== undefined) integer(f.events, at(path, 'events'), 0);
}

export const ERASURE_VALUES_SHAPE: KvRecordShape<ErasureValues> = {
  check: (value) => {
    object(field(object(value, ''), '', 'where'), 'where');
    return value as ErasureValues;
  },
  what: 'erasure\'s values',
  advice: 'that erasure cannot be applied; ask for it again.',
};

export const ERASURES_RECORD_SHAPE: KvRecordShape<ClusterErasuresRecord> = {
  check: erasuresRecordCheck,
  what: 'erasures record',
  advice: 'erasures cannot be asked for or applied until it is valid again; fix it by hand (nats kv put), keeping the audit.',
};

/** `record` with `entry` asked for. */
export function withErasureAsked(record: ClusterErasuresRecord, entry: PendingClusterErasure): ClusterErasuresRecord {
  return { ...record, pending: [...record.pending, entry] };
}

/** `record` with what erasure `id` found recorded, unless an earlier try recorded it (a try after a crash finds only what the first left). */
export function withErasureFound(record: ClusterErasuresRecord, id: string, found: ClusterErasureFound): ClusterErasuresRecord {
  return { ...record, pending: record.pending.map((e) => (e.id === id && e.found === undefined ? { ...e, found } : e)) };
}

/** `record` with `audits` done: out of the pending list (their values with them), into the audit. */
export function withErasuresDone(record: ClusterErasuresRecord, audits: readonly ClusterErasureAudit[]): ClusterErasuresRecord {
  const ids = new Set(audits.map((a) => a.id));
  const logged = new Set(record.audit.map((a) => a.id));
  return { pending: record.pending.filter((e) => !ids.has(e.id)), audit: [...record.audit, ...audits.filter((a) => !logged.has(a.id))] };
}
