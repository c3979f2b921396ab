/**
 * The data directory's layout, written down once: every layer asks here
 * where its part lives, and each part's own files are its own business
 * (segments in `log/`, Parquet and manifests in `master/`, versions in
 * `batch/`).
 *
 *   <root>/log/          the event log's segments, until a batch absorbs them
 *   <root>/master/       the master dataset: Parquet files and segment manifests
 *   <root>/batch/        published batch versions and the CURRENT pointer
 *   <root>/quarantine/   damaged log segments that a repair set aside
 *   <root>/keys/         a snapshot of the idempotency keys, read back at open
 *   <root>/backfill/     a changed view's batch files while they are computed, before its switch
 *   <root>/erasure/      erasures under way (with their values, until done) and the audit log of those done
 *   <root>/uploads/      a history file sent to a running server, while it arrives and is imported
 *   <root>/views.json    the views as changed while serving, their versions, and changes under way
 *   <root>/schema.json   how each stored event type's fields were written
 *   <root>/LOCK          held by the engine that has the directory open
 *
 * @module
 */
import { join } from 'node:path';

export interface DataDirectory {
  readonly root: string;
  readonly log: string;
  readonly master: string;
  readonly batch: string;
  readonly quarantine: string;
  readonly keys: string;
  readonly backfill: string;
  readonly erasure: string;
  readonly uploads: string;
  readonly schemaFile: string;
  readonly viewsFile: string;
  readonly lockFile: string;
}

const SUBDIRECTORIES = ['log', 'master', 'batch', 'quarantine', 'keys', 'backfill', 'erasure', 'uploads'] as const;
const FILES = { schemaFile: 'schema.json', viewsFile: 'views.json', lockFile: 'LOCK' } as const;

export function dataDirectory(root: string): DataDirectory {
  return {
    root,
    log: join(root, 'log'), master: join(root, 'master'), batch: join(root, 'batch'), quarantine: join(root, 'quarantine'),
    keys: join(root, 'keys'), backfill: join(root, 'backfill'), erasure: join(root, 'erasure'), uploads: join(root, 'uploads'),
    schemaFile: join(root, FILES.schemaFile), viewsFile: join(root, FILES.viewsFile), lockFile: join(root, FILES.lockFile),
  };
}

/** Whether a name at the top of a directory is one Tandem writes (`LOCK.*` are a lock's claim files). */
export function isDataDirectoryEntry(name: string): boolean {
  return (SUBDIRECTORIES as readonly string[]).includes(name) || Object.values(FILES).includes(name as never) || name.startsWith('LOCK.');
}

/** The subdirectories that hold data, for a report of their sizes. */
export const DATA_SUBDIRECTORIES: readonly ('log' | 'master' | 'batch')[] = ['log', 'master', 'batch'];
