/**
 * `tandem ingest`: an NDJSON, CSV or Parquet file into a running server, or
 * straight into a data directory.
 *
 * @module
 */
import { ApiClient } from '../api-client.ts';
import { CliError, TooManyRejectsError } from '../cli-error.ts';
import { formatSummary, ingestFile } from '../ingest-command.ts';
import { keylessWarning } from '../../backends/local/index.ts';
import { fieldsOf, httpTarget, localTarget } from '../ingest-target.ts';
import { loadConfig } from '../load-config.ts';
import { nonNegativeInt, positiveInt } from '../parse-flags.ts';
import { detectFormat, inputSize, openSource } from '../record-source.ts';

export interface IngestOptions {
  event: string; url: string; apiKey?: string; data?: string; config?: string; format?: string; batchSize: string; maxRejects: string; progress: boolean;
}

export async function ingest(file: string, options: IngestOptions): Promise<void> {
  const format = detectFormat(file, options.format);
  const batchSize = positiveInt(options.batchSize, '--batch-size');
  const maxRejects = nonNegativeInt(options.maxRejects, '--max-rejects');
  await inputSize(file);
  let target;
  if (options.data !== undefined) {
    if (options.config === undefined) throw new CliError('--data needs --config to know the event types.');
    target = await localTarget(options.data, await loadConfig(options.config));
  } else {
    target = httpTarget(new ApiClient(options.url, options.apiKey));
  }
  try {
    const schema = await target.schema(options.event);
    // Shared with --history: the same file loaded twice doubles a keyless type's data either way.
    if (schema !== undefined && schema.idempotencyKey === undefined) console.log(keylessWarning(options.event));
    const source = await openSource(file, format, format === 'csv' && schema !== undefined ? fieldsOf(schema) : undefined);
    const summary = await ingestFile({
      source, target, eventType: options.event, batchSize, progress: options.progress && process.stderr.isTTY,
    });
    console.log(formatSummary(summary));
    if (summary.rejected > maxRejects) throw new TooManyRejectsError(summary.rejected, maxRejects);
  } finally {
    await target.close();
  }
}
