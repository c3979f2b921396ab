/**
 * `tandem demo`: the server with the built-in online shop: a week of history,
 * live traffic and scheduled batches.
 *
 * @module
 */
import { readdir, rm } from 'node:fs/promises';
import { isDataDirectoryEntry } from '../../util/data-directory.ts';
import { demoConfig } from '../../demo/index.ts';
import { CliError } from '../cli-error.ts';
import { DemoTraffic } from '../demo-traffic.ts';
import { printBatch } from '../format-batch.ts';
import { nonNegativeInt, parseDuration, parsePort } from '../parse-flags.ts';
import { runServer, stopOnSignals, type RunningServer } from '../run-server.ts';
import { API_KEYS_VARIABLE, environmentApiKeys, internalKey } from '../server-access.ts';

export interface DemoOptions {
  data: string; port: string; host: string; batchEvery: string; rate: string; history: string; fresh?: boolean; allowUnauthenticated?: boolean;
}

export async function demo(options: DemoOptions): Promise<void> {
  if (options.fresh === true) await removeDemoData(options.data);
  const userKeys = environmentApiKeys();
  // With keys required, the demo's own traffic needs one too; it never leaves this process.
  const traffic = internalKey('demo-traffic', ['ingest']);
  const running = await runServer({
    config: demoConfig, dataDir: options.data, host: options.host, port: parsePort(options.port),
    batchEveryMs: parseDuration(options.batchEvery, '--batch-every'), logLevel: 'warn', onBatch: printBatch,
    extraApiKeys: userKeys.length > 0 ? [...userKeys, traffic.key] : [], allowUnauthenticated: options.allowUnauthenticated === true,
  });
  stopOnSignals(running);
  await startDemo(running, nonNegativeInt(options.rate, '--rate'), nonNegativeInt(options.history, '--history'), traffic.secret, userKeys.length > 0);
}

async function startDemo(running: RunningServer, rate: number, history: number, apiKey: string, keysRequired: boolean): Promise<void> {
  const traffic = new DemoTraffic(running.server, rate, apiKey);
  if (running.tandem.status().logEnd === 0 && history > 0) {
    await traffic.backfill(history);
    printBatch(await running.tandem.runBatch());
  }
  if (rate > 0) traffic.start();
  running.onStop(() => traffic.stop());
  const url = running.url;
  console.log([
    '',
    'Tandem demo is running: an online shop sending page views, cart adds and orders.',
    `  Story     its history grows to the live rate (${rate.toLocaleString('en-US')} events/s) in the batch layer; live events land in the speed layer; each batch run absorbs them.`,
    `  Dashboard ${url}/`,
    `  API       ${url}/v1/status   (OpenAPI at ${url}/openapi.json)`,
    `  Metrics   ${url}/metrics`,
    `  Try       npx tandem query '{"view":"revenue_by_country","groupBy":["country"],"granularity":"all","orderBy":[{"measure":"revenue","desc":true}]}' --url ${url}`,
    `            (revenue is in US dollars; revenue_local, grouped by currency, in each customer's own)`,
    ...(keysRequired ? [`  Keys      required (from ${API_KEYS_VARIABLE}): give one to the CLI with TANDEM_API_KEY, and to the dashboard when it asks`] : []),
    'Press Ctrl+C to stop.',
    '',
  ].join('\n'));
}

/** `--fresh` deletes only what looks like a Tandem data directory, never an arbitrary folder named by mistake. */
async function removeDemoData(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  const tandemOnly = entries.every(isDataDirectoryEntry);
  if (!tandemOnly) throw new CliError(`--fresh refuses to delete ${dir}: it holds files that Tandem did not write.`);
  await rm(dir, { recursive: true, force: true });
}
