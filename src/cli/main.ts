/**
 * The `tandem` command line. This module defines the commands and their
 * flags only; each command's work is imported when it runs, so `--help` and
 * the client commands start without loading DuckDB or the server.
 *
 * @module
 */
import { inspect } from 'node:util';
import { Command, Option } from 'commander';
import { TandemError } from '../definitions/errors.ts';
import { redactUrlsInText } from '../util/redact-url.ts';
import { API_SCOPES } from '../definitions/server-config.ts';
import { ANSWER_FORMATS } from './answer-format.ts';
import { DEFAULT_URL, URL_VARIABLE } from './api-client.ts';
import { CliError } from './cli-error.ts';
import { PACKAGE_VERSION } from '../util/package-version.ts';
import { API_KEYS_VARIABLE } from './server-access.ts';
import type { DemoOptions } from './commands/demo.ts';
import type { IngestOptions } from './commands/ingest.ts';
import type { HistoryIngestOptions } from './commands/ingest-history.ts';
import type { ServeOptions } from './commands/serve.ts';
import type { QueryOptions, ServerOptions } from './commands/server-commands.ts';
import type { SqlOptions } from './commands/sql.ts';
import type { ApplyOptions } from './commands/view.ts';
import type { EraseOptions } from './commands/erase.ts';

const urlOption = () => new Option('--url <url>', 'URL of a running Tandem server, or its host:port; a user:password in it is sent as Basic auth (for a proxy)').env(URL_VARIABLE).default(DEFAULT_URL);
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
    .option('--history-limit <bytes>', 'largest history file POST /v1/history takes, streamed to disk (413 beyond; default 10 GiB, or server.limits.historyBytes)')
    .option('--headers-timeout <duration>', 'time for a request\'s headers to arrive (408 beyond; default 10s)')
    .option('--request-timeout <duration>', 'time for a whole request, body included, to arrive (408 beyond; default 30s)')
    .option('--keep-alive-timeout <duration>', 'how long an idle keep-alive connection stays open (default 72s)')
    .option('--max-connections <n>', 'most open connections; more are closed on accept (default 1,000)')
    .option('--shutdown-grace <duration>', 'on SIGTERM, how long requests in flight may finish before connections close (default 10s)')
    .option('--allow-unauthenticated', 'serve without API keys on a non-loopback address')
    .option('--pg-port <port>', 'also answer the PostgreSQL wire protocol on this port (psql, Grafana, Metabase; off by default), on --host')
    .option('--pg-tls-cert <file>', 'with --pg-tls-key: a PEM certificate, so PostgreSQL clients may connect with TLS (sslmode=require)')
    .option('--pg-tls-key <file>', 'the PEM private key of --pg-tls-cert')
    .option('--nats <urls>', 'run as a node of a cluster on these NATS JetStream servers (comma-separated); the config needs a "cluster" section')
    .option('--node <name>', 'this node\'s name in the cluster, unique among its nodes (default: host and process id)')
    .option('--batch-lease <duration>', 'cluster mode: how long the batch lease lasts unrenewed before another node may take it (default 15s)')
    .option('--partition-lease <duration>', 'cluster mode: how long a partition\'s ownership lease lasts unrenewed before another node takes the partition (default 6s)')
    .option('--read-wait <duration>', 'cluster mode: how long a query with "after" waits for this node to apply it before answering 503 (default 2s)')
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--log-format <format>', 'auto (readable on a terminal, JSON lines otherwise), pretty or json', 'auto')
    .addHelpText('after', `
API keys come from the config's server.apiKeys and from ${API_KEYS_VARIABLE} (a JSON array of the same entries);
clients send them as "Authorization: Bearer <key>". Make one with 'tandem keygen'.`)
    .action(async (options: ServeOptions) => (await import('./commands/serve.ts')).serve(options));

  cli.command('keygen')
    .description('Make a new API key and print it with the config entry that accepts it (the entry holds only its SHA-256 digest).')
    .option('--name <name>', 'a name for the key, shown in logs', 'client')
    .option('--scopes <scopes>', `what the key may do: a comma-separated list of ${API_SCOPES.join(', ')}`, 'ingest,query')
    .action(async (options: { name: string; scopes: string }) => (await import('./commands/keygen.ts')).keygen(options));

  cli.command('demo')
    .description('Run the server with the built-in online-shop demo: a week of history, live traffic and scheduled batches.')
    .option('--data <dir>', 'data directory for the demo', './data/demo')
    .option('--port <port>', 'TCP port', '7070')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--batch-every <duration>', 'time between batch cycles', '30s')
    .option('--rate <events>', 'live events per second', '10')
    .option('--history <events>', 'events of history on first start, growing to the live rate (about 5.6 hours of it at the defaults)', '200000')
    .option('--fresh', 'delete the demo data directory first')
    .option('--allow-unauthenticated', 'serve without API keys on a non-loopback address')
    .action(async (options: DemoOptions) => (await import('./commands/demo.ts')).demo(options));

  cli.command('ingest')
    .description('Ingest an NDJSON, CSV or Parquet file, into a running server (--url) or straight into a data directory (--data with --config).')
    .argument('<files...>', 'the file to read (with --history, one or more)')
    .requiredOption('--event <type>', 'event type of every row')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .option('--data <dir>', 'write into this data directory instead of a server (no server may be running on it)')
    .option('--config <file>', 'config for --data')
    .addOption(new Option('--format <format>', 'file format, when the extension does not say').choices(['ndjson', 'csv', 'parquet']))
    .option('--batch-size <n>', 'events per request', '1000')
    .option('--max-rejects <n>', 'rejected rows allowed before the exit status says failure (1); the valid rows are stored either way', '0')
    .option('--no-progress', 'do not draw a progress bar')
    .option('--history', 'load the files straight into the master dataset as Parquet (no log, no speed layer), then publish them with one batch cycle: of --data (server stopped), of the cluster with --nats, or else of the running server at --url, to which each file is uploaded')
    .option('--memory-limit <size>', 'with --history --data or --nats: DuckDB memory limit of the import, past which it spills to the data directory', '1GB')
    .option('--resume', 'with --history --data or --nats: skip files an earlier import committed whole (same path, size and time), to finish an import a crash cut short')
    .option('--nats <urls>', 'with --history: import into the cluster on these NATS servers (comma-separated) instead of --data; --config gives its "cluster" section, and the node at --url runs the batch cycle')
    .addHelpText('after', `
A .json file may hold one JSON array of events instead of one event per line.
History imports (--history):
  --history FILE... --event T --url URL                   upload each file to a running server (a key with the ingest scope)
  --history FILE... --event T --data DIR --config FILE    into a data directory, its server stopped
  --history FILE... --event T --nats URLS --config FILE --url NODE    into a cluster
Exit status: 0 when every row was stored (or already was), 1 when more rows were rejected than --max-rejects allows
or the ingest failed.`)
    .action(async (files: string[], options: IngestOptions & HistoryIngestOptions & { history?: boolean }) => {
      if (options.history === true) return (await import('./commands/ingest-history.ts')).ingestHistory(files, options);
      if (files.length > 1) throw new CliError('tandem ingest reads one file; pass --history to load several into a data directory.');
      return (await import('./commands/ingest.ts')).ingest(files[0]!, options);
    });

  cli.command('batch')
    .description('Run a batch cycle now on a running server and wait until it is published (in a cluster, ask any node: the node holding the batch lease runs it).')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .option('--full', 'recompute every view from the whole master dataset, instead of adding what is new to the published views')
    .option('--seal', 'absorb every event up to the log end now, instead of stopping at the end of the last log segment already in Parquet')
    .action(async (options: ServerOptions & { full?: boolean; seal?: boolean }) => (await import('./commands/server-commands.ts')).batch(options));

  cli.command('query')
    .description(`Query a view, e.g. tandem query '{"view":"revenue_by_country","groupBy":["country"],"granularity":"all"}'`)
    .argument('<json>', 'the query as JSON')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .addOption(new Option('--format <format>', 'table; json (the whole answer); csv, tsv or ndjson (the rows) for spreadsheets and scripts').choices(ANSWER_FORMATS).default('table'))
    .addOption(new Option('--json', 'the same as --format json').conflicts('format'))
    .option('--time-zone <zone>', 'an IANA time zone, e.g. Europe/Berlin: days, weeks, months, quarters and years are its local ones (the query\'s "timeZone")')
    .action(async (text: string, options: QueryOptions) => (await import('./commands/server-commands.ts')).query(text, options));

  cli.command('sql')
    .description(`Answer one SQL SELECT over a view, e.g. tandem sql "SELECT country, sum(revenue) FROM revenue_by_country GROUP BY country"`)
    .argument('<statement>', 'one SELECT; each view is a table of time, its dimensions and its measures')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .addOption(new Option('--format <format>', 'table; json (the whole answer); csv, tsv or ndjson (the rows) for spreadsheets and scripts').choices(ANSWER_FORMATS).default('table'))
    .option('-p, --param <value>', 'the value of $1, then $2, …: a number, true, false, null or "quoted text" as JSON, else the text itself (repeat it)', (value: string, list: string[] = []) => [...list, value])
    .action(async (statement: string, options: SqlOptions) => (await import('./commands/sql.ts')).sql(statement, options));

  cli.command('status')
    .description('Show the state of a running server: log, batch and speed layer.')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .option('--json', 'print the raw status as JSON')
    .action(async (options: ServerOptions & { json?: boolean }) => (await import('./commands/server-commands.ts')).status(options));

  const view = cli.command('view').description('Change the views of a running server: the old definition answers until the new one is backfilled from the master dataset.');
  view.command('apply')
    .description('Add or change the views a JSON file defines (one view, a list, or a config\'s "views") and wait until they answer.')
    .argument('<file>', 'a JSON file of view definitions')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .option('--no-wait', 'return once the server accepted the change, without waiting for its backfill')
    .option('--no-progress', 'do not draw a progress bar while waiting')
    .action(async (file: string, options: ApplyOptions) => (await import('./commands/view.ts')).apply(file, options));
  view.command('drop')
    .description('Drop a view at once; the next batch version leaves it out.')
    .argument('<name>', 'the view')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .action(async (name: string, options: ServerOptions) => (await import('./commands/view.ts')).drop(name, options));
  view.command('cancel')
    .description('Cancel the change of a view under way; the definition served stays.')
    .argument('<name>', 'the view')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .action(async (name: string, options: ServerOptions) => (await import('./commands/view.ts')).cancel(name, options));
  view.command('list')
    .description('List the views with their versions and the changes being backfilled.')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .option('--json', 'print the definitions as JSON')
    .action(async (options: ServerOptions & { json?: boolean }) => (await import('./commands/view.ts')).list(options));

  cli.command('erase')
    .description('Erase one event type\'s events whose fields equal the values given, from every layer of a running server (scope admin); --list prints the audit log.')
    .option('--event <type>', 'the event type to erase from')
    .option('--where <field=value>', 'a field and the value erased events hold; repeat for more fields (all must match) or for more values of one field (any matches)', (pair: string, all: string[]) => [...all, pair], [] as string[])
    .option('--yes', 'erase without asking to confirm')
    .option('--list', 'print the erasures done: who, when, which type and fields, how many events (never the values)')
    .option('--json', 'with --list: print the audit records as JSON')
    .addOption(urlOption())
    .addOption(apiKeyOption())
    .action(async (options: EraseOptions) => (await import('./commands/erase.ts')).erase(options));

  cli.command('repair')
    .description('Salvage a damaged event log (no server may be running on it): keep every readable event, leave out the unreadable ones, and move the damaged files to <data>/quarantine/.')
    .requiredOption('--data <dir>', 'the data directory to repair')
    .action(async (options: { data: string }) => (await import('./commands/repair.ts')).repair(options));

  return cli;
}

/**
 * Runs the CLI; user mistakes print one line and exit 1, never a stack trace.
 * Whatever is printed passes through {@link redactUrlsInText}: an error from
 * any layer (a NATS client's, undici's) may quote a URL with its password.
 */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await program().parseAsync(argv as string[]);
  } catch (error) {
    process.exitCode = 1;
    if (error instanceof TandemError) return console.error(`tandem: ${redactUrlsInText(error.message)}`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') return console.error('tandem: the port is already in use; pick another with --port.');
    if (process.env.TANDEM_DEBUG !== undefined) return console.error(redactUrlsInText(inspect(error)));
    console.error(`tandem: ${redactUrlsInText(String((error as Error).message ?? error).split('\n')[0]!)} (set TANDEM_DEBUG=1 for details)`);
  }
}
