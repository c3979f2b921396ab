/**
 * The views record of a cluster (key `views` of the control bucket): the
 * view changes asked of any node and not yet in a published version, the
 * config files' views already applied, the last version number of each
 * view dropped, and how far the cycle switching changes in is. The node that runs the next batch
 * cycle reads it, switches the changes in with the version it publishes
 * (`version-definitions.ts`), then takes them out of it. Every write is a
 * compare-and-set on the key's revision, so two nodes asking at once both
 * count.
 *
 * @module
 */
import { viewsDigest, type ViewJson } from '../../definitions/index.ts';
import type { KvRecordShape } from './kv-revisioned-store.ts';
import { fieldChecks, RecordShapeError, type RecordCheck } from './record-schemas.ts';

export const VIEWS_KEY = 'views';

/** Config digests remembered: far more than the config files a rolling change goes through. */
const CONFIGS_KEPT = 64;

/** One view's change asked for: a definition to serve, or null to drop the view. */
export interface PendingClusterChange {
  readonly view: ViewJson | null;
  /** The version the view has once switched in (for a drop, the version dropped). */
  readonly version: number;
  readonly requestedAt: string;
  /** The node that was asked. */
  readonly by: string;
  /**
   * The batch version being computed with it: set before the cycle seals, so
   * a cancel then is refused, while that cycle may still publish it (see
   * `ClusterViewChanges`): the batch node takes the mark out when its cycle
   * fails, and a mark of a lease term ended counts as none.
   */
  readonly switching?: number;
  /** The lease term of the cycle that set {@link switching} (absent in marks written before terms were recorded). */
  readonly term?: number;
  /** Why the last cycle that carried it failed; kept until a cycle switches it in or it is cancelled. */
  readonly error?: string;
}

/**
 * How far the cycle switching changes in is, written (throttled) by the
 * batch node as it computes, so that every node's status shows it. Counts
 * are reads: each view the cycle computes reads every archived file (and
 * its events) once.
 */
export interface SwitchProgress {
  /** The batch version and lease term of the cycle, as its changes' marks name them. */
  readonly version: number;
  readonly term: number;
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly eventsDone: number;
  readonly eventsTotal: number;
  /** Milliseconds left at the cycle's rate so far, as of {@link at}; null until something is done. */
  readonly etaMs: number | null;
  /** When it was written (ISO). */
  readonly at: string;
}

export interface ClusterViewsRecord {
  readonly pending: Readonly<Record<string, PendingClusterChange>>;
  /**
   * {@link viewsDigest} of the views of every config file a node opened or
   * reloaded with: a config applied once is not applied again by a node
   * restarted with it, so an old file on one node cannot undo a change.
   */
  readonly configs: readonly string[];
  /**
   * The version number each dropped view last had: a view added again under
   * its name gets a higher one, never one an earlier definition answered
   * with. (Absent in records written before drops were remembered.)
   */
  readonly dropped?: Readonly<Record<string, number>>;
  /** How far the cycle switching changes in is; absent between such cycles. */
  readonly progress?: SwitchProgress;
}

export const EMPTY_VIEWS_RECORD: ClusterViewsRecord = { pending: {}, configs: [] };

const { object, field, integer, string, array, nullable, at } = fieldChecks;

const viewsRecordCheck: RecordCheck<ClusterViewsRecord> = (value) => {
  const r = object(value, '');
  for (const [name, entry] of Object.entries(object(field(r, '', 'pending'), 'pending'))) {
    const path = at('pending', name);
    const e = object(entry, path);
    nullable(field(e, path, 'view'), () => {
      const view = object(e.view, at(path, 'view'));
      if (view.name !== name) throw new RecordShapeError(at(at(path, 'view'), 'name'), `'${name.slice(0, 64)}', its key`);
    });
    integer(field(e, path, 'version'), at(path, 'version'), 0);
    string(field(e, path, 'requestedAt'), at(path, 'requestedAt'), true);
    string(field(e, path, 'by'), at(path, 'by'));
    if (e.switching !== undefined) integer(e.switching, at(path, 'switching'), 1);
    if (e.term !== undefined) integer(e.term, at(path, 'term'));
    if (e.error !== undefined) string(e.error, at(path, 'error'));
  }
  array(field(r, '', 'configs'), 'configs').forEach((d, i) => string(d, at('configs', i), true));
  if (r.dropped !== undefined) for (const [name, v] of Object.entries(object(r.dropped, 'dropped'))) integer(v, at('dropped', name));
  if (r.progress !== undefined) progressCheck(object(r.progress, 'progress'));
  return r as unknown as ClusterViewsRecord;
};

function progressCheck(p: Record<string, unknown>): void {
  for (const key of ['version', 'term', 'filesDone', 'filesTotal', 'eventsDone', 'eventsTotal']) integer(field(p, 'progress', key), at('progress', key));
  nullable(field(p, 'progress', 'etaMs'), () => integer(p.etaMs, at('progress', 'etaMs')));
  string(field(p, 'progress', 'at'), at('progress', 'at'), true);
}

export const VIEWS_RECORD_SHAPE: KvRecordShape<ClusterViewsRecord> = {
  check: viewsRecordCheck,
  what: 'views record',
  advice: 'view changes cannot be asked for or switched in until it is valid again; delete it (nats kv del) to drop the changes asked for, the views served stay.',
};

/** `record` with `change` asked for `name` (undefined: none asked any more). */
export function withPending(record: ClusterViewsRecord, name: string, change: PendingClusterChange | undefined): ClusterViewsRecord {
  const pending = { ...record.pending };
  if (change === undefined) delete pending[name];
  else pending[name] = change;
  return { ...record, pending };
}

/** `record` remembering that view `name` was dropped at version `version` (the higher number kept). */
export function withDropped(record: ClusterViewsRecord, name: string, version: number): ClusterViewsRecord {
  const before = record.dropped?.[name] ?? 0;
  return version <= before ? record : { ...record, dropped: { ...record.dropped, [name]: version } };
}

/** `record` with `progress` as the switching cycle's (undefined: no such cycle runs). */
export function withProgress(record: ClusterViewsRecord, progress: SwitchProgress | undefined): ClusterViewsRecord {
  if (progress === undefined && record.progress === undefined) return record;
  const { progress: _before, ...rest } = record;
  return progress === undefined ? rest : { ...rest, progress };
}

/** `record` remembering that a config with `views` was applied. */
export function withConfig(record: ClusterViewsRecord, views: readonly ViewJson[]): ClusterViewsRecord {
  const digest = viewsDigest(views);
  if (record.configs.includes(digest)) return record;
  return { ...record, configs: [...record.configs, digest].slice(-CONFIGS_KEPT) };
}

/** Whether a config with `views` was applied already. */
export function appliedConfig(record: ClusterViewsRecord, views: readonly ViewJson[]): boolean {
  return record.configs.includes(viewsDigest(views));
}
