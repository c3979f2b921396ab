/**
 * `tandem ingest --history FILE... --data DIR --config FILE`: files loaded
 * straight into a data directory's master dataset (`Tandem.importHistory`),
 * with a progress bar, then published by one batch cycle. With `--nats`,
 * into a cluster; with neither, sent to the running server at `--url`
 * (`upload-history.ts`).
 *
 * @module
 */
import cliProgress from 'cli-progress';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { compileConfig } from '../../definitions/index.ts';
import type { BatchOptions, BatchSummary } from '../../engine/index.ts';
import { ApiClient, DEFAULT_URL } from '../api-client.ts';
import { retryTemporary } from '../retry-temporary.ts';
import { keylessWarning, Tandem, type HistoryImportSummary, type HistoryProgress } from '../../backends/local/index.ts';
import { CliError, TooManyRejectsError } from '../cli-error.ts';
import { formatHistorySummary, rejectionLines } from '../format-history.ts';
import { loadConfig } from '../load-config.ts';
import { nonNegativeInt } from '../parse-flags.ts';

export interface HistoryIngestOptions {
  event: string; data?: string; config?: string; maxRejects: string; progress: boolean; memoryLimit: string; url?: string; resume?: boolean;
  /** NATS servers of a cluster to import into (comma-separated); `url` names a node of it, which runs the batch cycle. */
  nats?: string; apiKey?: string;
}

export async function ingestHistory(files: readonly string[], options: HistoryIngestOptions): Promise<void> {
  const maxRejects = nonNegativeInt(options.maxRejects, '--max-rejects');
  if (options.nats !== undefined) return ingestClusterHistory(files, options, maxRejects);
  if (options.data === undefined) {
    if (options.resume === true) throw new CliError('--resume applies to --data and --nats: a server imports each uploaded file whole or not at all, so send the files it did not finish again.');
    const { uploadHistoryFiles } = await import('./upload-history.ts');
    return uploadHistoryFiles(files, { event: options.event, url: options.url ?? DEFAULT_URL, progress: options.progress, ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }) }, maxRejects);
  }
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

/**
 * `--history --nats URLS --config FILE [--url NODE]`: the files staged in the
 * cluster's object store from here and named in its log
 * (`backends/nats/cluster-history-import.ts`); the node at `--url` runs the
 * batch cycle that publishes them. The scratch files go to `--data`, or the
 * system's temporary directory.
 */
async function ingestClusterHistory(files: readonly string[], options: HistoryIngestOptions, maxRejects: number): Promise<void> {
  if (options.config === undefined) throw new CliError('--history needs --config to know the event types and the cluster.');
  const { importHistoryIntoCluster, HistoryPublishPendingError } = await import('../../backends/nats/cluster-history-import.ts');
  const catalog = compileConfig(await loadConfig(options.config));
  const servers = options.nats!.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => (s.includes('://') ? s : `nats://${s}`));
  if (servers.length === 0) throw new CliError('--nats needs at least one NATS server URL, such as nats://127.0.0.1:4222.');
  const client = new ApiClient(options.url!, options.apiKey);
  const runBatch = (body: BatchOptions) => retryTemporary(() => client.postJson<BatchSummary>('/v1/batch', body), 60_000);
  if (catalog.eventTypes.get(options.event)?.idempotencyKey === undefined && catalog.eventTypes.has(options.event)) console.log(keylessWarning(options.event));
  const bar = options.progress && process.stderr.isTTY ? createBar() : undefined;
  const target = { servers, catalog, dir: options.data ?? tmpdir(), runBatch };
  const summary = await withBar(bar, (onProgress) => importHistoryIntoCluster(target, options.event, files, { onProgress, memoryLimit: options.memoryLimit, resume: options.resume === true }))
    .catch((error: unknown) => {
      // Staged, not yet archived: the error's sentence says so, and the rows refused are worth printing before it.
      if (error instanceof HistoryPublishPendingError) for (const line of rejectionLines(error.staged)) console.log(line);
      throw error;
    });
  console.log(formatHistorySummary(summary));
  if (summary.rejected > maxRejects) throw new TooManyRejectsError(summary.rejected, maxRejects);
}

function importWithBar(tandem: Tandem, files: readonly string[], options: HistoryIngestOptions, bar: cliProgress.SingleBar | undefined): Promise<HistoryImportSummary> {
  return withBar(bar, (onProgress) => tandem.importHistory(options.event, files, { onProgress, memoryLimit: options.memoryLimit, resume: options.resume === true }));
}

/** Runs an import, drawing its progress on `bar`. */
async function withBar(bar: cliProgress.SingleBar | undefined, run: (onProgress: (p: HistoryProgress) => void) => Promise<HistoryImportSummary>): Promise<HistoryImportSummary> {
  const started = performance.now();
  bar?.start(1, 0, { rate: '0', file: '', phase: 'importing' });
  const onProgress = (p: HistoryProgress) => {
    const rate = Math.round(p.rowsDone / Math.max((performance.now() - started) / 1000, 1e-3)).toLocaleString('en-US');
    bar?.setTotal(Math.max(p.rowsKnown, 1));
    bar?.update(p.rowsDone, { rate, file: `${basename(p.file)} (${Math.min(p.fileIndex + 1, p.files)}/${p.files})`, phase: p.phase });
  };
  try {
    return await run(onProgress);
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
