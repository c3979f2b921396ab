/**
 * `tandem serve`: the HTTP server on a data directory, with batch cycles on a
 * schedule.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { ServerLimits } from '../../definitions/index.ts';
import type { ConnectionLimits } from '../../server/index.ts';
import { redactUrlList } from '../../util/redact-url.ts';
import { CliError } from '../cli-error.ts';
import { loadConfig } from '../load-config.ts';
import { parseDuration, parsePort, positiveInt } from '../parse-flags.ts';
import { runServer, stopOnSignals, type RunningServer } from '../run-server.ts';
import { environmentApiKeys } from '../server-access.ts';
import { PACKAGE_VERSION } from '../../util/package-version.ts';

export interface ServeOptions {
  config: string; data: string; port: string; host: string; batchEvery: string; maxPendingEvents: string; maxSpeedKeys: string; maxSpeedBytes: string; logLevel: string;
  bodyLimit?: string; maxLineBytes?: string; maxEventsPerRequest?: string; maxQueryRows?: string; queryTimeout?: string; historyLimit?: string;
  headersTimeout?: string; requestTimeout?: string; keepAliveTimeout?: string; maxConnections?: string; shutdownGrace?: string;
  allowUnauthenticated?: boolean;
  pgPort?: string; pgTlsCert?: string; pgTlsKey?: string;
  logFormat: string;
  nats?: string; node?: string; batchLease?: string; partitionLease?: string; readWait?: string;
}

export async function serve(options: ServeOptions): Promise<void> {
  const logFormat = chooseLogFormat(options.logFormat);
  const batchEveryMs = parseDuration(options.batchEvery, '--batch-every');
  const running = await runServer({
    config: await loadConfig(options.config), dataDir: options.data, host: options.host, port: parsePort(options.port),
    batchEveryMs, logLevel: options.logLevel, logFormat,
    maxPendingEvents: positiveInt(options.maxPendingEvents, '--max-pending-events'),
    maxSpeedKeys: positiveInt(options.maxSpeedKeys, '--max-speed-keys'),
    maxSpeedBytes: positiveInt(options.maxSpeedBytes, '--max-speed-bytes'),
    limits: limitOptions(options), connections: connectionOptions(options), extraApiKeys: environmentApiKeys(), allowUnauthenticated: options.allowUnauthenticated === true,
    pgPort: options.pgPort === undefined ? undefined : parsePort(options.pgPort, '--pg-port'), pgTls: await pgTls(options),
    nats: options.nats === undefined ? undefined : natsServers(options.nats), node: options.node,
    batchLeaseMs: options.batchLease === undefined ? undefined : parseDuration(options.batchLease, '--batch-lease'),
    partitionLeaseMs: options.partitionLease === undefined ? undefined : parseDuration(options.partitionLease, '--partition-lease'),
    readWaitMs: options.readWait === undefined ? undefined : parseDuration(options.readWait, '--read-wait'),
  });
  stopOnSignals(running);
  reloadOnHangup(running, options.config);
  if (logFormat === 'pretty') console.log(banner(running.url, options, batchEveryMs, running.pgPort));
  running.logger.info({ url: running.url }, `Tandem is serving at ${running.url}`);
}

/**
 * On SIGHUP, reads the config file again and applies its views: new and
 * changed ones are backfilled and switch in, missing ones are dropped. A
 * file that does not load, or changes event types, changes nothing and is
 * logged.
 */
function reloadOnHangup(running: RunningServer, file: string): void {
  process.on('SIGHUP', () => {
    running.logger.info({ file }, 'reloading the config\'s views (SIGHUP)');
    void loadConfig(file).then((config) => running.tandem.reloadConfig(config)).then((changes) => {
      if (changes.length === 0) running.logger.info({ file }, 'the config\'s views are the ones served: nothing to change');
      for (const change of changes) running.logger.info({ ...change }, `view ${change.view}: ${change.action}`);
    }, (error: unknown) => running.logger.error({ file, err: error }, `the config's views were not reloaded: ${error instanceof Error ? error.message : String(error)}`));
  });
}

/** The PostgreSQL port's certificate and key, read from their files; both or neither. */
async function pgTls(options: ServeOptions): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (options.pgTlsCert === undefined && options.pgTlsKey === undefined) return undefined;
  if (options.pgTlsCert === undefined || options.pgTlsKey === undefined) throw new CliError('--pg-tls-cert and --pg-tls-key go together: give the certificate and its key.');
  const read = (file: string, flag: string) => readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`${flag} names '${file}', which cannot be read (${error.code ?? error.message}).`);
  });
  return { cert: await read(options.pgTlsCert, '--pg-tls-cert'), key: await read(options.pgTlsKey, '--pg-tls-key') };
}

/** `auto` is readable lines on a terminal and JSON lines otherwise (a log collector, a pipe, a file). */
function chooseLogFormat(flag: string): 'json' | 'pretty' {
  if (flag === 'json' || flag === 'pretty') return flag;
  if (flag !== 'auto') throw new CliError(`--log-format must be auto, pretty or json, not '${flag}'.`);
  return process.stdout.isTTY ? 'pretty' : 'json';
}

/** What a person starting the server wants to see first: where it is, and what it runs on. */
function banner(url: string, options: ServeOptions, batchEveryMs: number, pgPort: number | undefined): string {
  const cluster = options.nats === undefined ? '' : `\n  Cluster   node ${options.node ?? '(named by host and process)'} on ${redactUrlList(options.nats)}`;
  return [
    '',
    `Tandem ${PACKAGE_VERSION} is serving ${options.config} from ${options.data}, with a batch cycle every ${formatDuration(batchEveryMs)}.`,
    `  Dashboard ${url}/`,
    `  API       ${url}/v1/status   (OpenAPI at ${url}/openapi.json)`,
    `  Metrics   ${url}/metrics${cluster}`,
    ...(pgPort === undefined ? [] : [`  SQL       psql -h ${options.host} -p ${pgPort} -U me -d tandem   (PostgreSQL wire protocol; with API keys, the password is a key)`]),
    `  CLI       export TANDEM_URL=${url}   then: tandem status, tandem query, tandem ingest`,
    'Press Ctrl+C to stop.',
    '',
  ].join('\n');
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** `--nats a,b,c`: URLs, each with or without its `nats://` scheme. */
function natsServers(list: string): string[] {
  const servers = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => (s.includes('://') ? s : `nats://${s}`));
  if (servers.length === 0) throw new CliError('--nats needs at least one NATS server URL, such as nats://127.0.0.1:4222.');
  return servers;
}

/** Connection limits given on the command line; those not given keep their defaults. */
function connectionOptions(options: ServeOptions): Partial<ConnectionLimits> {
  const duration = (text: string | undefined, flag: string) => (text === undefined ? undefined : parseDuration(text, flag));
  const limits: Partial<Record<keyof ConnectionLimits, number | undefined>> = {
    headersTimeoutMs: duration(options.headersTimeout, '--headers-timeout'),
    requestTimeoutMs: duration(options.requestTimeout, '--request-timeout'),
    keepAliveTimeoutMs: duration(options.keepAliveTimeout, '--keep-alive-timeout'),
    closeGraceMs: duration(options.shutdownGrace, '--shutdown-grace'),
    maxConnections: options.maxConnections === undefined ? undefined : positiveInt(options.maxConnections, '--max-connections'),
  };
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
}

/** Limits given on the command line; those not given come from the config or the defaults. */
function limitOptions(options: ServeOptions): Partial<ServerLimits> {
  const int = (text: string | undefined, flag: string) => (text === undefined ? undefined : positiveInt(text, flag));
  return {
    bodyBytes: int(options.bodyLimit, '--body-limit'),
    lineBytes: int(options.maxLineBytes, '--max-line-bytes'),
    eventsPerRequest: int(options.maxEventsPerRequest, '--max-events-per-request'),
    queryRows: int(options.maxQueryRows, '--max-query-rows'),
    historyBytes: int(options.historyLimit, '--history-limit'),
    queryTimeoutMs: options.queryTimeout === undefined ? undefined : parseDuration(options.queryTimeout, '--query-timeout'),
  };
}
