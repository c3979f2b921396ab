/**
 * The commands that talk to a running server: `batch`, `query` and `status`
 * (its summary is `format-status.ts`'s). They load nothing but the HTTP client and the printers, so they start at once.
 *
 * @module
 */
import type { QueryMeta, QueryResult } from '../../serving/index.ts';
import type { BatchSummary } from '../../engine/index.ts';
import { formatAnswer, type AnswerFormat } from '../answer-format.ts';
import { ApiClient } from '../api-client.ts';
import { CliError } from '../cli-error.ts';
import { countOf } from '../count-of.ts';
import { formatStatus, type StatusAnswer } from '../format-status.ts';
import { retryTemporary } from '../retry-temporary.ts';
import { printBatch, servedBatch } from '../format-batch.ts';
import { explainUnknownView } from '../unknown-view.ts';

export interface ServerOptions {
  url: string;
  apiKey?: string;
}

/**
 * How long `tandem batch` waits out temporary refusals in all: a cluster's
 * batch node that restarted refuses cycles until the lease of its previous
 * process expires (within one lease time), and a cycle asked again joins
 * the one running, so a wait is safe.
 */
const BATCH_RETRY_MS = 60_000;

export async function batch(options: ServerOptions & { full?: boolean; seal?: boolean }): Promise<void> {
  const body = { ...(options.full === true ? { full: true } : {}), ...(options.seal === true ? { seal: true } : {}) };
  const client = new ApiClient(options.url, options.apiKey);
  const summary = await retryTemporary(() => client.postJson<BatchSummary>('/v1/batch', body), BATCH_RETRY_MS, (refused) => {
    console.error(`${refused.message} Asking again in ${Math.ceil(refused.retryAfterMs / 1000)} s.`);
  });
  printBatch(summary);
}

export interface QueryOptions extends ServerOptions {
  format: AnswerFormat;
  /** The old spelling of `--format json`, kept for scripts that use it. */
  json?: boolean;
  /** `--time-zone`: the query's `timeZone`, over any the JSON names. */
  timeZone?: string;
}

export async function query(text: string, options: QueryOptions): Promise<void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`The query is not valid JSON; quote it, e.g. '{"view":"name"}'.`);
  }
  // A query that is no object is refused by the server, which says so better than a merge would.
  if (options.timeZone !== undefined && parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) parsed = { ...parsed, timeZone: options.timeZone };
  const client = new ApiClient(options.url, options.apiKey);
  const result = await client.postJson<QueryResult>('/v1/query', parsed).catch(async (error: unknown) => {
    throw await explainUnknownView(client, parsed, error);
  });
  const format = options.json === true ? 'json' : options.format;
  const printed = formatAnswer(result, format);
  if (printed !== '') console.log(printed);
  // Only the table, read by people, gets the note; the other formats are read by programs.
  if (format === 'table') printMeta(result.rows.length, result.meta);
}

/** The lines under an answer's table: its row count and where it came from. */
export function printMeta(rows: number, m: QueryMeta): void {
  const zone = m.timeZone === undefined || m.timeZone === 'UTC' ? '' : ` · time zone ${m.timeZone}`;
  // A cluster's logEnd sums sequences, which count messages (many events each): it is named so.
  const end = m.owners === undefined ? `log end ${m.logEnd}` : `${countOf(m.logEnd, 'message')} applied`;
  console.log(`\n${countOf(rows, 'row')} · ${servedBatch(m)} · ${end} · layer ${m.layer}${zone}`);
  const missing = m.missingPartitions ?? [];
  if (missing.length > 0) console.log(`partial answer: no node could give the recent events of partition${missing.length === 1 ? '' : 's'} ${missing.join(', ')} (allowPartial)`);
}

export async function status(options: ServerOptions & { json?: boolean }): Promise<void> {
  const answer = await new ApiClient(options.url, options.apiKey).get<StatusAnswer>('/v1/status');
  console.log(options.json === true ? JSON.stringify(answer, null, 2) : formatStatus(answer));
}
