/**
 * The shapes of the server's answers that the engine's own types do not
 * already describe.
 *
 * @module
 */
import type { EventTypeJson, ViewJson } from '../definitions/definition-types.ts';
import type { DiskUsage } from '../server/disk-usage.ts';
import type { HistoryUploadStatus } from '../server/history-progress.ts';
import type { EngineStatus, ViewChangeStatus } from '../engine/engine-types.ts';

/**
 * `GET /v1/status`: the engine's status, plus the server's version, ingest
 * rate, memory and disk use, and a history upload under way.
 *
 * @example
 * ```ts
 * const { logEnd, batch, ingestRate } = await client.status();
 * ```
 */
export interface ServerStatus extends EngineStatus {
  /** The server's package version. */
  readonly version: string;
  /** Events accepted per second over the last 10 s. */
  readonly ingestRate: number;
  readonly memory: { readonly rssBytes: number; readonly heapUsedBytes: number };
  readonly disk: DiskUsage;
  /** Present while a history file sent with `uploadHistory` is received, imported or published. */
  readonly history?: HistoryUploadStatus;
}

/**
 * `GET /v1/views`: the event types and views the server runs, in the JSON
 * config form.
 *
 * @example
 * ```ts
 * const { views } = await client.views();
 * console.log(views.map((v) => v.name));
 * ```
 */
export interface ServerDefinitions {
  readonly eventTypes: readonly EventTypeJson[];
  readonly views: readonly ViewJson[];
  /** Each view's version: raised whenever its definition changes. */
  readonly versions: Readonly<Record<string, number>>;
  /** View changes being backfilled; the definition served answers until each switches in. */
  readonly changes: readonly ViewChangeStatus[];
}
