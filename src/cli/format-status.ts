/**
 * What `tandem status` prints: the three layers at a glance, and in cluster
 * mode each partition. Sizes are counted in events; a cluster's sequences
 * count messages, which may carry many events each, so they are printed
 * only beside them, as a detail.
 *
 * @module
 */
import { countOf } from './count-of.ts';

/** The fields of `/v1/status` the summary reads. */
export interface StatusAnswer {
  logEnd: number; sealedSegments: number; ingestRate: number; batchRunning: boolean;
  batch: { version: number; cutoff: number; ageMs: number; durationMs: number } | null;
  speed: { events: number; keys: number };
  memory: { rssBytes: number };
  retention?: { horizons: Record<string, string>; retiredFiles: number; retiredEvents: number; awaitingDeletion: number };
  history?: { eventType: string; phase: string; file: string; bytesReceived: number; rowsDone: number; rowsKnown: number };
  cluster?: ClusterAnswer;
}

/** The fields of a cluster's status the summary reads (`events` and `archiveBytes` absent from a node of an earlier release). */
export interface ClusterAnswer {
  name: string; node: string;
  events?: number | null; archiveBytes?: number | null;
  partitions: { partition: number; applied: number; owner?: string | null; events?: number | null; archivedEvents?: number; archiveBytes?: number | null }[];
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');

/**
 * The summary of a status answer, one line per layer, then a cluster's partitions.
 *
 * @example
 * ```ts
 * console.log(formatStatus(await client.get<StatusAnswer>('/v1/status')));
 * // master dataset  log end 1,200 · 40 events/s · 0 sealed segments awaiting batch …
 * ```
 */
export function formatStatus(s: StatusAnswer): string {
  return [
    s.cluster === undefined ? masterLine(s) : clusterMasterLine(s, s.cluster),
    s.batch === null
      ? `batch layer     no version yet${s.batchRunning ? ' (first run in progress)' : ''}`
      : `batch layer     v${s.batch.version} · cutoff ${n(s.batch.cutoff)} · ${(s.batch.ageMs / 1000).toFixed(0)} s old · its cycle took ${(s.batch.durationMs / 1000).toFixed(2)} s from seal to publish${s.batchRunning ? ' · running' : ''}`,
    `speed layer     ${countOf(s.speed.events, 'event')} · ${countOf(s.speed.keys, 'key')}${s.cluster === undefined ? ` · lag ${countOf(s.logEnd - (s.batch?.cutoff ?? 0), 'offset')} behind batch` : ' (on this node)'}`,
    ...(s.retention === undefined ? [] : [retentionLine(s.retention)]),
    ...(s.history === undefined ? [] : [historyLine(s.history)]),
    `process         ${(s.memory.rssBytes / 2 ** 20).toFixed(0)} MiB resident`,
    ...(s.cluster === undefined ? [] : partitionLines(s.cluster)),
  ].join('\n');
}

function masterLine(s: StatusAnswer): string {
  return `master dataset  log end ${n(s.logEnd)} · ${n(s.ingestRate)} events/s · ${countOf(s.sealedSegments, 'sealed segment')} awaiting batch`;
}

/** A cluster's master dataset: its events, the archive's share and size, and the messages they came in. */
function clusterMasterLine(s: StatusAnswer, c: ClusterAnswer): string {
  const archived = c.partitions.reduce((sum, p) => sum + (p.archivedEvents ?? 0), 0);
  return `master dataset  ${eventsOf(c.events)} · ${n(s.ingestRate)} events/s · archive ${countOf(archived, 'event')} in ${size(c.archiveBytes)} · ${countOf(s.logEnd, 'message')} applied`;
}

/** One line per partition: its events, the archive's share, the messages applied, and its owner. */
function partitionLines(c: ClusterAnswer): string[] {
  return [
    `cluster         ${c.name} · this node ${c.node}`,
    ...c.partitions.map((p) => `  partition ${String(p.partition).padEnd(4)}${eventsOf(p.events)} · archive ${countOf(p.archivedEvents ?? 0, 'event')} in ${size(p.archiveBytes)} · ${countOf(p.applied, 'message')} applied · owner ${p.owner ?? 'none'}`),
  ];
}

function eventsOf(events: number | null | undefined): string {
  return events === null || events === undefined ? 'events not known yet' : countOf(events, 'event');
}

/** Bytes in KiB, MiB or GiB, as a person reads them; '?' while unknown. */
export function size(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '? bytes';
  if (bytes < 1024) return countOf(bytes, 'byte');
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A history file sent to the server: its bytes while it arrives, then its rows. */
function historyLine(h: NonNullable<StatusAnswer['history']>): string {
  const done = h.phase === 'uploading' ? `${size(h.bytesReceived)} received` : `${n(h.rowsDone)} of ${countOf(h.rowsKnown, 'row')}`;
  return `history import  ${h.file} into ${h.eventType} · ${h.phase} · ${done}`;
}

/** Each event type's horizon, and what retention took out of the master dataset. */
function retentionLine(r: NonNullable<StatusAnswer['retention']>): string {
  const horizons = Object.entries(r.horizons).map(([type, at]) => `${type} before ${at.slice(0, 16).replace('T', ' ')}`).join(', ');
  return `retention       ${horizons === '' ? 'none now' : horizons} · ${countOf(r.retiredEvents, 'event')} in ${countOf(r.retiredFiles, 'file')} retired${r.awaitingDeletion > 0 ? `, ${n(r.awaitingDeletion)} awaiting deletion` : ''}`;
}
