/**
 * `tandem ingest FILE --event TYPE`: streams a file into Tandem in batches,
 * several in flight (the log group-commits them together), with a progress
 * bar and a summary.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import { CliError } from './cli-error.ts';
import { countOf } from './count-of.ts';
import type { BatchOutcome, IngestTarget } from './ingest-target.ts';
import type { RecordSource } from './record-source.ts';

export interface IngestSummary {
  readonly events: number;
  readonly accepted: number;
  /** Accepted events newly stored (duplicates of stored keys excluded); null when some batch's count was not known. */
  readonly stored: number | null;
  readonly duplicates: number;
  readonly rejected: number;
  /** Undeclared fields the event type ignored: left out of every event that had them. */
  readonly ignoredFields: readonly string[];
  /** The first rejections, with their line (or row) number in the file, counted from 1. */
  readonly firstRejections: readonly { readonly line: number; readonly error: string }[];
  /** What `line` counts: file lines (NDJSON, CSV), rows (Parquet) or elements (a JSON array). */
  readonly unit: 'line' | 'row' | 'element';
  readonly seconds: number;
}

const IN_FLIGHT = 4;
const SHOWN_REJECTIONS = 10;

export async function ingestFile(options: {
  source: RecordSource; target: IngestTarget; eventType: string; batchSize: number; progress: boolean;
}): Promise<IngestSummary> {
  const { source, target, eventType } = options;
  const bar = options.progress ? createBar(source) : undefined;
  bar?.start(source.total, 0, { rate: '0' });
  const started = performance.now();
  const totals = { events: 0, accepted: 0, stored: 0 as number | null, duplicates: 0, rejected: 0, progress: 0 };
  let lowest: { line: number; error: string }[] = [];
  const ignored = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const record = (start: number, outcome: BatchOutcome, step: number) => {
    for (const name of outcome.ignoredFields ?? []) ignored.add(name);
    totals.accepted += outcome.accepted;
    // A server from before `stored` answers without it: unknown, as a cluster batch that could not count.
    const stored = outcome.stored ?? null;
    totals.stored = totals.stored === null || stored === null ? null : totals.stored + stored;
    totals.duplicates += outcome.duplicates;
    totals.rejected += outcome.rejected.length;
    // Batches finish out of order: keep the lowest line numbers seen so far, not the first to arrive.
    const lines = outcome.rejected.map((r) => ({ line: start + r.index + source.firstLine, error: r.error }));
    lowest = [...lowest, ...lines].sort((a, b) => a.line - b.line).slice(0, SHOWN_REJECTIONS);
    totals.progress += step;
    const seconds = (performance.now() - started) / 1000;
    bar?.update(totals.progress, { rate: Math.round(totals.accepted / Math.max(seconds, 1e-3)).toLocaleString('en-US') });
  };

  try {
    for await (const batch of source.batches(options.batchSize)) {
      const start = totals.events;
      totals.events += batch.lines.length;
      // Lines the reader rejected are blank for the target, which skips them; their rejections join its own.
      const unread = batch.rejected ?? [];
      if (batch.lines.every((line) => line === '')) {
        record(start, { accepted: 0, stored: 0, duplicates: 0, rejected: unread }, batch.progress);
        continue;
      }
      const sent = target.send(eventType, batch.lines).then((outcome) => {
        record(start, { ...outcome, rejected: [...unread, ...outcome.rejected] }, batch.progress);
      }, (error: unknown) => {
        failure ??= error;
      });
      const tracked: Promise<void> = sent.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
      if (failure !== undefined) break;
    }
    await Promise.all(inFlight);
  } finally {
    bar?.stop();
  }
  if (failure !== undefined) {
    const reason = failure instanceof Error ? failure.message : String(failure);
    throw new CliError(`${reason.replace(/\.$/, '')}; ${countOf(totals.accepted, 'event')} ${totals.accepted === 1 ? 'was' : 'were'} accepted before the failure.`);
  }
  return {
    events: totals.events, accepted: totals.accepted, stored: totals.stored, duplicates: totals.duplicates, rejected: totals.rejected,
    ignoredFields: [...ignored].sort(), firstRejections: lowest, unit: source.lineLabel, seconds: (performance.now() - started) / 1000,
  };
}

/** "12 stored, " or, when some batch could not tell (a cluster reader too slow to count), "stored unknown, ". */
function storedPart(summary: IngestSummary): string {
  return summary.stored === null ? 'how many are new is not known, ' : `${summary.stored.toLocaleString('en-US')} stored, `;
}

function createBar(source: RecordSource): cliProgress.SingleBar {
  const unit = source.unit === 'bytes' ? ' bytes' : ' rows';
  return new cliProgress.SingleBar({
    format: `ingesting |{bar}| {percentage}% | {value}/{total}${unit} | {rate} events/s | ETA {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
}

export function formatSummary(summary: IngestSummary): string {
  const rate = Math.round(summary.accepted / Math.max(summary.seconds, 1e-3)).toLocaleString('en-US');
  const lines = [
    `${countOf(summary.events, 'event')} read: ${summary.accepted.toLocaleString('en-US')} accepted ` +
    `(${storedPart(summary)}${summary.duplicates.toLocaleString('en-US')} already stored), ${summary.rejected.toLocaleString('en-US')} rejected, ` +
    `in ${summary.seconds.toFixed(1)} s (${rate} events/s).`,
  ];
  if (summary.ignoredFields.length > 0) {
    const names = summary.ignoredFields.map((name) => `'${name}'`).join(', ');
    lines.push(`Ignored fields the event type does not declare, left out of every event: ${names}.`);
  }
  for (const r of summary.firstRejections) lines.push(`  ${summary.unit} ${r.line}: ${r.error}`);
  if (summary.rejected > summary.firstRejections.length) lines.push(`  … and ${summary.rejected - summary.firstRejections.length} more.`);
  return lines.join('\n');
}
