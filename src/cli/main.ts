/**
 * The `tandem` command line.
 *
 * @module
 */
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { API_SCOPES, keyDigest, TandemError, type ServerLimits } from '../definitions/index.ts';
import { demoConfig } from '../demo/index.ts';
import { DataDirectoryLockedError, Tandem, type BatchSummary, type QueryResult } from '../serving/index.ts';
import type { LogRepair } from '../index.ts';
import { ApiClient, DEFAULT_URL } from './api-client.ts';
import { CliError } from './cli-error.ts';
import { DemoTraffic } from './demo-traffic.ts';
import { formatSummary, ingestFile } from './ingest-command.ts';
import { httpTarget, localTarget } from './ingest-target.ts';
import { loadConfig } from './load-config.ts';
import { PACKAGE_VERSION } from './package-version.ts';
import { parseDuration, parsePort } from './parse-duration.ts';
import { formatTable } from './print-table.ts';
import { detectFormat, openSource } from './record-source.ts';
import { runServer, stopOnSignals, type RunningServer } from './run-server.ts';
import { API_KEYS_VARIABLE, environmentApiKeys, generateKey, internalKey } from './server-access.ts';

const urlOption = () => new Option('--url <url>', 'URL of a running Tandem server').default(DEFAULT_URL);
const apiKeyOption = () => new Option('--api-key <key>', 'API key for a server that requires one (prefer TANDEM_API_KEY: arguments show in ps)').env('TANDEM_API_KEY');

function program(): Command {
  const cli = new Command('tandem')
    .description('Tandem: a Lambda Architecture engine. Durable ingest, batch views on DuckDB, a live speed layer, exact merged queries.')
    .version(PACKAGE_VERSION)
    .showHelpAfterError('(run with --help for usage)');

  cli.command('serve')
    .description('Run the HTTP server on a data directory, with batch cycles on a schedule.')
    .requiredOption('--config <file>', 'event types and views: a .json file, or a .ts/.js module exporting defineConfig(...)')
    .option('--data <dir>', 'data directory (log, master dataset, batch views)', './data')
    .option('--port <port>', 'TCP port', '7070')
    .option('--host <host>', 'address to bind; beyond loopback it needs API keys or --allow-unauthenticated', '127.0.0.1')
    .option('--batch-every <duration>', 'time between batch cycles, e.g. 30s, 5m', '60s')
    .option('--max-pending-events <n>', 'events that may wait for the disk before ingest answers 503 with Retry-After', '1000000')
    .option('--max-speed-keys <n>', 'keys the speed layer may hold: past half a batch starts early, at the limit ingest answers 503', '5000000')
    .option('--max-speed-bytes <bytes>', 'estimated heap bytes the speed layer may hold, dimension values included; works as --max-speed-keys', String(2 ** 30))
    .option('--body-limit <bytes>', 'largest request body (413 beyond; default 16 MiB, or server.limits.bodyBytes)')
    .option('--max-line-bytes <bytes>', 'largest NDJSON line; a longer one is rejected alone (default 1 MiB)')
    .option('--max-events-per-request <n>', 'most events in one request (413 beyond; default 100,000)')
    .option('--max-query-rows <n>', 'most rows in one query answer (400 beyond; default 100,000)')
    .option('--query-timeout <duration>', 'longest a query may run before it is stopped (503; default 10s)')
    .option('--allow-unauthenticated', 'serve without API keys on a non-loopback address')
    .option('--log-level <level>', 'pino log level', 'info')
    .addHelpText('after', `
API keys come from the config's server.apiKeys and from ${API_KEYS_VARIABLE} (a JSON array of the same entries);
clients send them as "Authorization: Bearer <key>". Make one with 'tandem keygen'.`)
    .action(async (options: ServeOptions) => {
      const running = await runServer({
        config: await loadConfig(options.config), dataDir: options.data, host: options.host, port: parsePort(options.port),
        batchEveryMs: parseDuration(options.batchEvery, '--batch-every'), logLevel: options.logLevel,
        maxPendingEvents: positiveInt(options.maxPendingEvents, '--max-pending-events'), maxSpeedKeys: positiveInt(options.maxSpeedKeys, '--max-speed-keys'),
        maxSpeedBytes: positiveInt(options.maxSpeedBytes, '--max-speed-bytes'),
        limits: limitOptions(options), extraApiKeys: environmentApiKeys(), allowUnauthenticated: options.allowUnauthenticated === true,
      });
      stopOnSignals(running);
      running.logger.info({ url: running.url }, `Tandem is serving at ${running.url}`);
    });

  cli.command('keygen')
    .description('Make a new API key and print it with the config entry that accepts it (the entry holds only its SHA-256 digest).')
    .option('--name <name>', 'a name for the key, shown in logs', 'client')
    .option('--scopes <scopes>', `what the key may do: a comma-separated list of ${API_SCOPES.join(', ')}`, 'ingest,query')
    .action((options: { name: string; scopes: string }) => {
      const scopes = options.scopes.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      const unknown = scopes.find((scope) => !(API_SCOPES as readonly string[]).includes(scope));
      if (unknown !== undefined || scopes.length === 0) throw new CliError(`--scopes takes a comma-separated list of ${API_SCOPES.join(', ')}${unknown === undefined ? '' : `, not '${unknown}'`}.`);
      if (options.name.length === 0 || options.name.length > 64) throw new CliError('--name must have 1 to 64 characters.');
      const secret = generateKey();
      const entry = { name: options.name, scopes, sha256: keyDigest(secret).toString('hex') };
      console.log(`key    ${secret}`);
      console.log(`entry  ${JSON.stringify(entry)}`);
      console.log(`\nPut the entry in the config's server.apiKeys (or ${API_KEYS_VARIABLE}); give the key to the client, e.g. TANDEM_API_KEY=<key>. It is not stored anywhere else.`);
    });

  cli.command('demo')
    .description('Run the server with the built-in online-shop demo: a week of history, live traffic and scheduled batches.')
    .option('--data <dir>', 'data directory for the demo', './data/demo')
    .option('--port <port>', 'TCP port', '7070')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--batch-every <duration>', 'time between batch cycles', '30s')
    .option('--rate <events>', 'live events per second', '200')
    .option('--history <events>', 'events of history to generate on first start', '50000')
    .option('--fresh', 'delete the demo data directory first')
    .option('--allow-unauthenticated', 'serve without API keys on a non-loopback address')
    .action(async (options: { data: string; port: string; host: string; batchEvery: string; rate: string; history: string; fresh?: boolean; allowUnauthenticated?: boolean }) => {
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
    });

  cli.command('ingest')
    .description('Ingest an NDJSON, CSV or Parquet file, into a running server (--url) or straight into a data directory (--data with --config).')
    .argument('<file>', 'the file to read')
    .requiredOption('--event <type>', 'event type of every row')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .option('--data <dir>', 'write into this data directory instead of a server (no server may be running on it)')
    .option('--config <file>', 'config for --data')
    .addOption(new Option('--format <format>', 'file format, when the extension does not say').choices(['ndjson', 'csv', 'parquet']))
    .option('--batch-size <n>', 'events per request', '1000')
    .option('--no-progress', 'do not draw a progress bar')
    .action(async (file: string, options: { event: string; url: string; apiKey?: string; data?: string; config?: string; format?: string; batchSize: string; progress: boolean }) => {
      const format = detectFormat(file, options.format);
      const batchSize = positiveInt(options.batchSize, '--batch-size');
      let target;
      if (options.data !== undefined) {
        if (options.config === undefined) throw new CliError('--data needs --config to know the event types.');
        target = await localTarget(options.data, await loadConfig(options.config));
      } else {
        target = httpTarget(new ApiClient(options.url, options.apiKey));
      }
      try {
        const source = await openSource(file, format, format === 'csv' ? await target.fields(options.event) : undefined);
        const summary = await ingestFile({
          source, target, eventType: options.event, batchSize, progress: options.progress && process.stderr.isTTY,
        });
        console.log(formatSummary(summary));
      } finally {
        await target.close();
      }
    });

  cli.command('batch')
    .description('Run a batch cycle now on a running server and wait until it is published.')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .action(async (options: { url: string; apiKey?: string }) => {
      printBatch(await new ApiClient(options.url, options.apiKey).postJson<BatchSummary>('/v1/batch', {}));
    });

  cli.command('query')
    .description(`Query a view, e.g. tandem query '{"view":"revenue_by_country","groupBy":["country"],"granularity":"all"}'`)
    .argument('<json>', 'the query as JSON')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .option('--json', 'print the answer as JSON')
    .action(async (text: string, options: { url: string; apiKey?: string; json?: boolean }) => {
      let query: unknown;
      try {
        query = JSON.parse(text);
      } catch {
        throw new CliError(`The query is not valid JSON; quote it, e.g. '{"view":"name"}'.`);
      }
      const result = await new ApiClient(options.url, options.apiKey).postJson<QueryResult>('/v1/query', query);
      if (options.json === true) return console.log(JSON.stringify(result, null, 2));
      console.log(formatTable(result.rows));
      const m = result.meta;
      console.log(`\n${result.rows.length} rows · batch v${m.batchVersion ?? '-'} below offset ${m.batchCutoff} · log end ${m.logEnd} · layer ${m.layer}`);
    });

  cli.command('status')
    .description('Show the state of a running server: log, batch and speed layer.')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .option('--json', 'print the raw status as JSON')
    .action(async (options: { url: string; apiKey?: string; json?: boolean }) => {
      const status = await new ApiClient(options.url, options.apiKey).get<StatusAnswer>('/v1/status');
      console.log(options.json === true ? JSON.stringify(status, null, 2) : formatStatus(status));
    });

  cli.command('repair')
    .description('Salvage a damaged event log (no server may be running on it): keep every readable event, leave out the unreadable ones, and move the damaged files to <data>/quarantine/.')
    .requiredOption('--data <dir>', 'the data directory to repair')
    .action(async (options: { data: string }) => {
      if (!existsSync(join(options.data, 'log'))) throw new CliError(`${options.data} holds no Tandem event log (no log/ directory).`);
      const repairs = await Tandem.repair(options.data).catch((error: unknown) => {
        if (error instanceof DataDirectoryLockedError) throw new CliError(`${options.data} is in use by ${error.pid === null ? 'another process' : `process ${error.pid}`}; stop it first, since repair needs the data directory to itself.`);
        throw error;
      });
      if (repairs.length === 0) return console.log(`Nothing to repair: every log segment in ${options.data} reads whole.`);
      for (const repair of repairs) console.log(formatRepair(repair));
      const lost = repairs.reduce((n, r) => n + r.lost.reduce((m, [from, to]) => m + to - from, 0), 0);
      console.log(lost === 0
        ? '\nNo acknowledged event was lost.'
        : `\n${lost.toLocaleString('en-US')} events could not be read and are left out of every view; the next batch run rebuilds the views without them.`);
    });

  return cli;
}

function formatRepair(repair: LogRepair): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const what = repair.lost.length === 0
    ? 'cut off a torn tail'
    : `lost offsets ${repair.lost.map(([from, to]) => `${n(from)}–${n(to - 1)}`).join(', ')}`;
  const kept = repair.quarantined === null ? '' : `; the original is kept at ${repair.quarantined}`;
  return `${repair.file}: ${what} (${repair.reasons.join('; ')})${kept}`;
}

interface ServeOptions {
  config: string; data: string; port: string; host: string; batchEvery: string; maxPendingEvents: string; maxSpeedKeys: string; maxSpeedBytes: string; logLevel: string;
  bodyLimit?: string; maxLineBytes?: string; maxEventsPerRequest?: string; maxQueryRows?: string; queryTimeout?: string;
  allowUnauthenticated?: boolean;
}

/** Limits given on the command line; those not given come from the config or the defaults. */
function limitOptions(options: ServeOptions): Partial<ServerLimits> {
  const int = (text: string | undefined, flag: string) => (text === undefined ? undefined : positiveInt(text, flag));
  return {
    bodyBytes: int(options.bodyLimit, '--body-limit'),
    lineBytes: int(options.maxLineBytes, '--max-line-bytes'),
    eventsPerRequest: int(options.maxEventsPerRequest, '--max-events-per-request'),
    queryRows: int(options.maxQueryRows, '--max-query-rows'),
    queryTimeoutMs: options.queryTimeout === undefined ? undefined : parseDuration(options.queryTimeout, '--query-timeout'),
  };
}

interface StatusAnswer {
  logEnd: number; sealedSegments: number; ingestRate: number; batchRunning: boolean;
  batch: { version: number; cutoff: number; ageMs: number; durationMs: number } | null;
  speed: { events: number; keys: number };
  memory: { rssBytes: number };
}

function formatStatus(s: StatusAnswer): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  return [
    `master dataset  log end ${n(s.logEnd)} · ${n(s.ingestRate)} events/s · ${s.sealedSegments} sealed segments awaiting batch`,
    s.batch === null
      ? `batch layer     no version yet${s.batchRunning ? ' (first run in progress)' : ''}`
      : `batch layer     v${s.batch.version} · cutoff ${n(s.batch.cutoff)} · ${(s.batch.ageMs / 1000).toFixed(0)} s old · last run ${(s.batch.durationMs / 1000).toFixed(1)} s${s.batchRunning ? ' · running' : ''}`,
    `speed layer     ${n(s.speed.events)} events · ${n(s.speed.keys)} keys · lag ${n(s.logEnd - (s.batch?.cutoff ?? 0))} offsets behind batch`,
    `process         ${(s.memory.rssBytes / 2 ** 20).toFixed(0)} MiB resident`,
  ].join('\n');
}

function printBatch(summary: BatchSummary): void {
  console.log(`batch v${summary.version} published: ${summary.events.toLocaleString('en-US')} events below offset ${summary.cutoff} in ${(summary.durationMs / 1000).toFixed(2)} s`);
}

async function startDemo(running: RunningServer, rate: number, history: number, apiKey: string, keysRequired: boolean): Promise<void> {
  const traffic = new DemoTraffic(running.server, rate, apiKey);
  if (running.tandem.status().logEnd === 0 && history > 0) {
    await traffic.backfill(history, 7);
    printBatch(await running.tandem.runBatch());
  }
  if (rate > 0) traffic.start();
  running.onStop(() => traffic.stop());
  const url = running.url;
  console.log([
    '',
    'Tandem demo is running: an online shop sending page views, cart adds and orders.',
    `  Dashboard ${url}/`,
    `  API       ${url}/v1/status   (OpenAPI at ${url}/openapi.json)`,
    `  Metrics   ${url}/metrics`,
    `  Try       npx tandem query '{"view":"revenue_by_country","groupBy":["country"],"granularity":"all","orderBy":[{"measure":"revenue","desc":true}]}' --url ${url}`,
    ...(keysRequired ? [`  Keys      required (from ${API_KEYS_VARIABLE}): give one to the CLI with TANDEM_API_KEY, and to the dashboard when it asks`] : []),
    'Press Ctrl+C to stop.',
    '',
  ].join('\n'));
}

/** `--fresh` deletes only what looks like a Tandem data directory, never an arbitrary folder named by mistake. */
async function removeDemoData(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  // LOCK.* are a lock's claim files, left only by a crash while it was being taken.
  const tandemOnly = entries.every((name) => ['log', 'master', 'batch', 'quarantine', 'schema.json', 'LOCK'].includes(name) || name.startsWith('LOCK.'));
  if (!tandemOnly) throw new CliError(`--fresh refuses to delete ${dir}: it holds files that Tandem did not write.`);
  await rm(dir, { recursive: true, force: true });
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} must be a positive integer, not '${text}'.`);
  return n;
}

function nonNegativeInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${flag} must be zero or a positive integer, not '${text}'.`);
  return n;
}

/** Runs the CLI; user mistakes print one line and exit 1, never a stack trace. */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await program().parseAsync(argv as string[]);
  } catch (error) {
    process.exitCode = 1;
    if (error instanceof TandemError) return console.error(`tandem: ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') return console.error('tandem: the port is already in use; pick another with --port.');
    if (process.env.TANDEM_DEBUG !== undefined) throw error;
    console.error(`tandem: ${String((error as Error).message ?? error).split('\n')[0]} (set TANDEM_DEBUG=1 for details)`);
  }
}
