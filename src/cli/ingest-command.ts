/**
 * `tandem ingest FILE --event TYPE`: streams a file into Tandem in batches,
 * several in flight (the log group-commits them together), with a progress
 * bar and a summary.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import type { RejectedEvent } from '../serving/index.ts';
import type { IngestTarget } from './ingest-target.ts';
import type { RecordSource } from './record-source.ts';

export interface IngestSummary {
  readonly events: number;
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: number;
  /** The first rejections, with their line (or row) number in the file, counted from 1. */
  readonly firstRejections: readonly { readonly line: number; readonly error: string }[];
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
  let events = 0;
  let accepted = 0;
  let duplicates = 0;
  let progress = 0;
  const rejections: { line: number; error: string }[] = [];
  let rejectedCount = 0;
  const inFlight = new Set<Promise<void>>();

  const record = (start: number, outcome: { accepted: number; duplicates: number; rejected: readonly RejectedEvent[] }, step: number) => {
    accepted += outcome.accepted;
    duplicates += outcome.duplicates;
    rejectedCount += outcome.rejected.length;
    for (const r of outcome.rejected) if (rejections.length < SHOWN_REJECTIONS) rejections.push({ line: start + r.index + 1, error: r.error });
    progress += step;
    const seconds = (performance.now() - started) / 1000;
    bar?.update(progress, { rate: Math.round(accepted / Math.max(seconds, 1e-3)).toLocaleString('en-US') });
  };

  try {
    for await (const batch of source.batches(options.batchSize)) {
      const start = events;
      events += batch.lines.length;
      const sent: Promise<void> = target.send(eventType, batch.lines).then((outcome) => record(start, outcome, batch.progress));
      const tracked = sent.finally(() => inFlight.delete(tracked));
      tracked.catch(() => undefined); // the failure surfaces through Promise.race/all below, not as an unhandled rejection
      inFlight.add(tracked);
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    bar?.stop();
  }
  rejections.sort((a, b) => a.line - b.line);
  return { events, accepted, duplicates, rejected: rejectedCount, firstRejections: rejections, seconds: (performance.now() - started) / 1000 };
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
    `${summary.events.toLocaleString('en-US')} events read: ${summary.accepted.toLocaleString('en-US')} accepted ` +
    `(${summary.duplicates.toLocaleString('en-US')} already stored), ${summary.rejected.toLocaleString('en-US')} rejected, ` +
    `in ${summary.seconds.toFixed(1)} s (${rate} events/s).`,
  ];
  for (const r of summary.firstRejections) lines.push(`  line ${r.line}: ${r.error}`);
  if (summary.rejected > summary.firstRejections.length) lines.push(`  … and ${summary.rejected - summary.firstRejections.length} more.`);
  return lines.join('\n');
}
