/**
 * What `tandem ingest --history` prints once an import is done, whichever
 * way it went (a data directory, a cluster, or a running server).
 *
 * @module
 */
import { basename } from 'node:path';
import type { HistoryImportSummary } from '../engine/index.ts';
import type { HistoryFileOutcome } from '../master/index.ts';
import { countOf } from './count-of.ts';

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
  return [...lines, ...rejectionLines(s.files)].join('\n');
}

/**
 * The first rows each file refused, with the live rules' sentence: also
 * what a cluster import prints when its files are staged but the cycle
 * publishing them failed.
 *
 * @example
 * ```ts
 * for (const line of rejectionLines(summary.files)) console.log(line);
 * ```
 */
export function rejectionLines(files: readonly Pick<HistoryFileOutcome, 'file' | 'rejected' | 'firstRejections'>[]): string[] {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines: string[] = [];
  for (const file of files) {
    for (const r of file.firstRejections) lines.push(`  ${basename(file.file)} row ${n(r.row)}: ${r.error}`);
    if (file.rejected > file.firstRejections.length) lines.push(`  … and ${n(file.rejected - file.firstRejections.length)} more in ${basename(file.file)}.`);
  }
  return lines;
}
