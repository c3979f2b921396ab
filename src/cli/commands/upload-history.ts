/**
 * `tandem ingest --history FILE... --event T --url URL` (no `--data`, no
 * `--nats`): each file sent to the running server (`POST /v1/history`),
 * which imports and publishes it, one after another. The bar shows the
 * bytes sent, then the server's own progress, polled from `/v1/status`
 * (a key without the admin scope cannot read it: the bar then waits on the
 * answer). The summaries of the files are printed as one.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createClient, HistoryFileError, RequestTimeoutError, type HistoryImportSummary, type ServerStatus, type TandemClient } from '../../client/index.ts';
import { serverUrl } from '../api-client.ts';
import { CliError, TooManyRejectsError } from '../cli-error.ts';
import { formatHistorySummary } from '../format-history.ts';

export interface UploadHistoryOptions {
  readonly event: string;
  readonly url: string;
  readonly apiKey?: string;
  readonly progress: boolean;
}

const POLL_MS = 500;

/** Sends `files` one by one and prints their summary; fails past `maxRejects` rejected rows. */
export async function uploadHistoryFiles(files: readonly string[], options: UploadHistoryOptions, maxRejects: number): Promise<void> {
  const client = createClient({ url: serverUrl(options.url), ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }) });
  // Every file is checked before the first is sent: a typo in the last should not leave the others half done.
  for (const file of files) await stat(file).catch((error: unknown) => {
    throw new HistoryFileError(file, 'it does not exist', { cause: error });
  });
  const summaries: HistoryImportSummary[] = [];
  for (const [index, file] of files.entries()) {
    const bar = options.progress && process.stderr.isTTY ? new UploadBar(`${basename(file)} (${index + 1}/${files.length})`) : undefined;
    try {
      summaries.push(await uploadOne(client, options.event, file, bar).catch((error: unknown) => {
        throw error instanceof RequestTimeoutError ? uploadCutOff(file, error) : error;
      }));
    } finally {
      bar?.stop();
    }
  }
  const summary = combined(summaries);
  if (summary.warning !== undefined) console.log(summary.warning);
  console.log(formatHistorySummary(summary));
  if (summary.rejected > maxRejects) throw new TooManyRejectsError(summary.rejected, maxRejects);
}

/** Uploads one file, drawing bytes sent and then the server's import progress on `bar`. */
async function uploadOne(client: TandemClient, eventType: string, file: string, bar: UploadBar | undefined): Promise<HistoryImportSummary> {
  if (bar === undefined) return client.uploadHistory(eventType, file);
  let polling = true;
  const poll = async () => {
    while (polling) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const status: ServerStatus | undefined = await client.status().catch(() => undefined);
      if (status === undefined) return;
      if (polling && status.history !== undefined && status.history.phase !== 'uploading') bar.rows(status.history.phase, status.history.rowsDone, status.history.rowsKnown);
    }
  };
  const watching = poll();
  try {
    return await client.uploadHistory(eventType, file, { onBytes: (sent, total) => bar.bytes(sent, total) });
  } finally {
    polling = false;
    await watching;
  }
}

/** The server's request timeout cut an upload off: say which knob bounds it, and the way around it. */
function uploadCutOff(file: string, error: RequestTimeoutError): CliError {
  const seconds = Number.isFinite(error.requestMs) ? `${error.requestMs / 1000} s` : 'its limit';
  return new CliError(`The server cut the upload of ${basename(file)} off at its request timeout (${seconds}); start it with a longer --request-timeout, or import the file with the server stopped (--data and --config).`);
}

/** One summary of several imports, as one import of all the files would print. */
function combined(summaries: readonly HistoryImportSummary[]): HistoryImportSummary {
  const total = (key: 'rows' | 'imported' | 'duplicates' | 'rejected' | 'importSeconds' | 'batchSeconds') => summaries.reduce((n, s) => n + s[key], 0);
  const last = summaries.at(-1)!;
  const warning = summaries.find((s) => s.warning !== undefined)?.warning;
  return {
    eventType: last.eventType, files: summaries.flatMap((s) => s.files), skipped: [],
    rows: total('rows'), imported: total('imported'), duplicates: total('duplicates'), rejected: total('rejected'),
    importSeconds: total('importSeconds'), batchSeconds: total('batchSeconds'), batch: last.batch,
    ...(warning === undefined ? {} : { warning }),
  };
}

/** The bar of one file: bytes while it is sent, rows while the server imports it. */
class UploadBar {
  readonly #bar = new cliProgress.SingleBar({
    format: '{phase} |{bar}| {percentage}% | {value}/{total} {unit} | {file}',
    stream: process.stderr,
    hideCursor: true,
    formatValue: (value, _options, type) => (type === 'value' || type === 'total' ? value.toLocaleString('en-US') : String(value)),
  }, cliProgress.Presets.shades_classic);

  constructor(private readonly file: string) {
    this.#bar.start(1, 0, { phase: 'uploading', unit: 'bytes', file });
  }

  bytes(sent: number, total: number | undefined): void {
    this.#bar.setTotal(Math.max(total ?? sent, 1));
    this.#bar.update(sent, { phase: 'uploading', unit: 'bytes', file: this.file });
  }

  rows(phase: string, done: number, known: number): void {
    this.#bar.setTotal(Math.max(known, 1));
    this.#bar.update(done, { phase, unit: 'rows', file: this.file });
  }

  stop(): void {
    this.#bar.stop();
  }
}
