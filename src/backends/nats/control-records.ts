/**
 * The two records of a cluster's control bucket (`<cluster>_control`), as a
 * node reads them: their shapes, and what a node says when one is not valid.
 *
 * @module
 */
import type { StoredTypes } from '../../log/index.ts';
import type { ControlRecord } from './batch-control.ts';
import type { KvRecordShape } from './kv-revisioned-store.ts';
import { controlRecordCheck, storedTypesCheck } from './record-schemas.ts';

/** The batch control record of a cluster of `partitions` partitions. */
export function controlRecordShape(partitions: number): KvRecordShape<ControlRecord> {
  return {
    check: controlRecordCheck(partitions),
    what: 'batch control record',
    advice: 'batch cycles pause and every node keeps serving the version it has, until a node that serves a version rebuilds the record from it (the first to read it does so at once).',
  };
}

export const STORED_TYPES_SHAPE: KvRecordShape<StoredTypes> = {
  check: storedTypesCheck,
  what: 'stored-schema record',
  advice: 'nodes cannot check their config against the stored events, so they refuse to start and to ingest new event types; restore it, or delete it (nats kv del) to have the next node record its config\'s fields again.',
};
