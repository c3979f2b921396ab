/**
 * Where `tandem ingest` sends its batches: a running server over HTTP, or an
 * engine opened on a data directory in this process (no server needed).
 *
 * @module
 */
import { parseNdjsonLines, requestRejections } from '../server/index.ts';
import { SpeedLayerFullError, type RejectedEvent } from '../engine/index.ts';
import { Tandem } from '../backends/local/index.ts';
import { DiskFullError, LogOverloadedError } from '../log/index.ts';
import { compileConfig, type EventTypeSchema, type Field, type TandemConfig } from '../definitions/index.ts';
import type { ApiClient } from './api-client.ts';
import { retryTemporary, TemporaryFailure } from './retry-temporary.ts';

export interface BatchOutcome {
  readonly accepted: number;
  /** Accepted events newly stored; null when a cluster reader could not count the duplicates in time. */
  readonly stored: number | null;
  readonly duplicates: number;
  /** Indexes are positions within the batch. */
  readonly rejected: readonly RejectedEvent[];
  /** Undeclared fields left out of the batch's events (an event type that ignores them). */
  readonly ignoredFields?: readonly string[];
}

export interface IngestTarget {
  /** The event type as the target compiled it, or undefined when the target does not know the type. */
  schema(eventType: string): Promise<EventTypeSchema | undefined>;
  send(eventType: string, lines: readonly string[]): Promise<BatchOutcome>;
  close(): Promise<void>;
}

export function httpTarget(client: ApiClient): IngestTarget {
  return {
    async schema(eventType) {
      const { eventTypes } = await client.get<{ eventTypes: unknown[] }>('/v1/views');
      const definition = eventTypes.find((e) => (e as { name?: unknown }).name === eventType);
      return definition === undefined ? undefined : compileConfig({ eventTypes: [definition], views: [] }).eventTypes.get(eventType);
    },
    send: (eventType, lines) => retryTemporary(() => client.postNdjson<BatchOutcome>(`/v1/events/${encodeURIComponent(eventType)}`, lines.join('\n'))),
    close: async () => {},
  };
}

export async function localTarget(dataDir: string, config: TandemConfig): Promise<IngestTarget> {
  const tandem = await Tandem.open({ dataDir, config });
  return {
    schema: async (eventType) => tandem.catalog.eventTypes.get(eventType),
    async send(eventType, lines) {
      const parsed = parseNdjsonLines(lines);
      const result = await retryTemporary(() => tandem.ingest(eventType, parsed.events).catch((error: unknown) => {
        // In this process there is no schedule: when the speed layer is full, its batch run is what frees it.
        if (error instanceof SpeedLayerFullError) throw new TemporaryFailure(error.message, 50);
        if (error instanceof LogOverloadedError || error instanceof DiskFullError) throw new TemporaryFailure(error.message, error instanceof DiskFullError ? 10_000 : 100);
        throw error;
      }));
      return { accepted: result.accepted, stored: result.stored, duplicates: result.duplicates, rejected: requestRejections(parsed, result.rejected), ignoredFields: result.ignoredFields };
    },
    close: () => tandem.close(),
  };
}

/** An event type's fields by name, as the CSV reader wants them. */
export function fieldsOf(schema: EventTypeSchema): ReadonlyMap<string, Field> {
  return new Map(schema.fields.map((f) => [f.name, f]));
}
