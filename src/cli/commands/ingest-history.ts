/**
 * `tandem ingest --history FILE... --data DIR --config FILE`: files loaded
 * straight into a data directory's master dataset (`Tandem.importHistory`),
 * with a progress bar, then published by one batch cycle.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import { basename } from 'node:path';
import { HistoryImportUnsupportedError, keylessWarning, Tandem, type HistoryImportSummary, type HistoryProgress } from '../../backends/local/index.ts';
import { CliError, TooManyRejectsError } from '../cli-error.ts';
import { countOf } from '../count-of.ts';
import { loadConfig } from '../load-config.ts';
import { nonNegativeInt } from '../parse-flags.ts';

export interface HistoryIngestOptions {
  event: string; data?: string; config?: string; maxRejects: string; progress: boolean; memoryLimit: string; url?: string; resume?: boolean;
}

export async function ingestHistory(files: readonly string[], options: HistoryIngestOptions): Promise<void> {
  const maxRejects = nonNegativeInt(options.maxRejects, '--max-rejects');
  if (options.data === undefined) throw new HistoryImportUnsupportedError();
  if (options.config === undefined) throw new CliError('--history needs --config to know the event types.');
  const tandem = await Tandem.open({ dataDir: options.data, config: await loadConfig(options.config) });
  try {
    if (tandem.catalog.eventTypes.get(options.event)?.idempotencyKey === undefined && tandem.catalog.eventTypes.has(options.event)) {
      console.log(keylessWarning(options.event));
    }
    const bar = options.progress && process.stderr.isTTY ? createBar() : undefined;
    const summary = await importWithBar(tandem, files, options, bar);
    console.log(formatHistorySummary(summary));
    if (summary.rejected > maxRejects) throw new TooManyRejectsError(summary.rejected, maxRejects);
  } finally {
    await tandem.close();
  }
}

async function importWithBar(tandem: Tandem, files: readonly string[], options: HistoryIngestOptions, bar: cliProgress.SingleBar | undefined): Promise<HistoryImportSummary> {
  const started = performance.now();
  bar?.start(1, 0, { rate: '0', file: '', phase: 'importing' });
  const onProgress = (p: HistoryProgress) => {
    const rate = Math.round(p.rowsDone / Math.max((performance.now() - started) / 1000, 1e-3)).toLocaleString('en-US');
    bar?.setTotal(Math.max(p.rowsKnown, 1));
    bar?.update(p.rowsDone, { rate, file: `${basename(p.file)} (${Math.min(p.fileIndex + 1, p.files)}/${p.files})`, phase: p.phase });
  };
  try {
    return await tandem.importHistory(options.event, files, { onProgress, memoryLimit: options.memoryLimit, resume: options.resume === true });
  } finally {
    bar?.stop();
  }
}

function createBar(): cliProgress.SingleBar {
  return new cliProgress.SingleBar({
    format: '{phase} |{bar}| {percentage}% | {value}/{total} rows | {rate} rows/s | {file}',
    stream: process.stderr,
    hideCursor: true,
  }, cliProgress.Presets.shades_classic);
}

/**
 * The summary printed after an import.
 *
 * @example
 * ```ts
 * console.log(formatHistorySummary(await tandem.importHistory('order', ['2023.parquet'])));
 * ```
 */
export function formatHistorySummary(s: HistoryImportSummary): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const rate = n(Math.round(s.rows / Math.max(s.importSeconds, 1e-3)));
  const lines = [
    `${countOf(s.rows, 'row')} read from ${countOf(s.files.length, 'file')}: ${n(s.imported)} imported ` +
    `(${n(s.duplicates)} already stored), ${n(s.rejected)} rejected, in ${s.importSeconds.toFixed(1)} s (${rate} rows/s); ` +
    `published as batch version ${s.batch.version} in ${s.batchSeconds.toFixed(1)} s.`,
  ];
  if (s.skipped.length > 0) lines.push(`Skipped, imported whole before (--resume): ${s.skipped.map((f) => basename(f)).join(', ')}.`);
  for (const file of s.files) {
    for (const r of file.firstRejections) lines.push(`  ${basename(file.file)} row ${n(r.row)}: ${r.error}`);
    if (file.rejected > file.firstRejections.length) lines.push(`  … and ${n(file.rejected - file.firstRejections.length)} more in ${basename(file.file)}.`);
  }
  return lines.join('\n');
}
