/**
 * What the embedded backend needs of its event log: one offset sequence,
 * segments sealed at a cutoff. Its implementation is {@link LocalEventLog},
 * segments on local disk.
 *
 * The seam between the embedded engine and cluster mode is not here but one
 * level up, at `EngineBackend` (`src/engine/engine-backend.ts`): the cluster's
 * log (`backends/nats/cluster-log.ts`) is a sequence per partition, with
 * positions rather than offsets and a duplicate rule applied as each node
 * reads rather than as events are written, so it is a different shape, and
 * each backend owns its own log behind the one engine core.
 *
 * @module
 */
import type { EventColumns } from '../definitions/index.ts';
import type { IdempotencyIndex } from './idempotency-index.ts';

export interface AppendOutcome {
  /** Offset of the first stored event; events got consecutive offsets. */
  readonly firstOffset: number;
  readonly stored: number;
  /** Indexes (in the events passed) of events dropped because their idempotency key was already in the log. */
  readonly duplicates: readonly number[];
}

/** A sealed segment: offsets `[base, end)`. */
export interface SealedSegment {
  readonly base: number;
  readonly end: number;
}

export interface EventLog {
  /** One past the last durable offset. */
  readonly end: number;
  /** The first offset still in the log (released segments aside). */
  readonly firstOffset: number;
  /** Sealed segments not yet released, oldest first. */
  readonly sealedSegments: readonly SealedSegment[];
  /** The idempotency keys of the events stored so far (or within each type's window). */
  readonly keys: IdempotencyIndex;
  /** Durably appends events, dropping those whose idempotency key is stored; resolves once they are durable. */
  append(eventType: string, events: EventColumns): Promise<AppendOutcome>;
  /** Claims `count` offsets for a history import of `eventType` (a frame with no rows); resolves with the first. */
  reserve(eventType: string, count: number): Promise<number>;
  /** Seals the log where it ends now and resolves with that offset: every offset below it is durable and in a sealed segment. */
  seal(): Promise<number>;
  /** Visits every event still in the log, in offset order, indexing the keys of those at or past `keysFrom`. */
  replay(visit: (eventType: string, events: EventColumns, firstOffset: number) => void, keysFrom?: number): Promise<void>;
  /** Drops the sealed segments below `cutoff`, which a published batch has absorbed. */
  releaseBefore(cutoff: number): Promise<void>;
  /** Finishes in-flight appends and closes. */
  close(): Promise<void>;
}
