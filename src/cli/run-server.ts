/**
 * Starts the engine and its HTTP server together, with the batch schedule,
 * and stops them in the right order: stop accepting, finish in-flight
 * requests, finish the running batch, close the log.
 *
 * @module
 */
import type { Logger } from 'pino';
import { compileConfig, type ApiKey, type ServerLimits, type TandemConfig } from '../definitions/index.ts';
import { BatchSchedule, createServer, type ConnectionLimits, type TandemServer } from '../server/index.ts';
import type { BatchSummary, ServedEngine } from '../engine/index.ts';
import { Tandem } from '../backends/local/index.ts';
import { PgWireServer } from '../pgwire/index.ts';
import { PACKAGE_VERSION } from '../util/package-version.ts';
import { checkBindSafety } from './server-access.ts';
import { createLogger } from './server-logger.ts';

export interface RunServerOptions {
  readonly config: TandemConfig;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly batchEveryMs: number;
  /** Request limits over the config's own. */
  readonly limits?: Partial<ServerLimits>;
  /** Keys added to the config's `server.apiKeys` (from the environment, or internal ones). */
  readonly extraApiKeys?: readonly ApiKey[];
  /** Serve without keys on a non-loopback address. */
  readonly allowUnauthenticated?: boolean;
  /** Backpressure limit: see `TandemOptions.maxPendingEvents`. */
  readonly maxPendingEvents?: number;
  /** Memory limit of the speed layer: see `TandemOptions.maxSpeedKeys`. */
  readonly maxSpeedKeys?: number;
  /** Memory limit of the speed layer, by estimated bytes: see `TandemOptions.maxSpeedBytes`. */
  readonly maxSpeedBytes?: number;
  /** Timeouts, the connection bound and the shutdown grace, over the defaults. */
  readonly connections?: Partial<ConnectionLimits>;
  /** Called after each scheduled batch publication. */
  readonly onBatch?: (summary: BatchSummary) => void;
  /** Log level; `silent` for tests. Default `info`. */
  readonly logLevel?: string;
  /** `json` lines (for log collectors), or `pretty`: one readable, coloured line per entry, for a terminal. Default `json`. */
  readonly logFormat?: 'json' | 'pretty';
  /** NATS server URLs: run as a node of the cluster the config's `cluster` section describes, instead of embedded. */
  readonly nats?: readonly string[];
  /** This node's name in the cluster (default: host and process id). */
  readonly node?: string;
  /** Cluster mode: how long the batch lease lasts without renewal. */
  readonly batchLeaseMs?: number;
  /** Cluster mode: how long a partition's ownership lease lasts without renewal. */
  readonly partitionLeaseMs?: number;
  /** Cluster mode: how long a query with `after` waits for this node to apply that position. */
  readonly readWaitMs?: number;
  /** Also answer the PostgreSQL wire protocol on this port (on `host`; 0 picks one); off when absent. */
  readonly pgPort?: number;
  /** A PEM certificate and key for the PostgreSQL port: clients may then connect with TLS. */
  readonly pgTls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

export interface RunningServer {
  readonly url: string;
  readonly tandem: ServedEngine;
  readonly server: TandemServer;
  readonly logger: Logger;
  /** The PostgreSQL endpoint's port, when `pgPort` was given. */
  readonly pgPort?: number;
  /** Registers work to stop first (e.g. traffic generators), before the server closes. */
  onStop(hook: () => void): void;
  stop(): Promise<void>;
}

export async function runServer(options: RunServerOptions): Promise<RunningServer> {
  const apiKeys = [...compileConfig(options.config).server.apiKeys, ...(options.extraApiKeys ?? [])];
  checkBindSafety(options.host, apiKeys, options.allowUnauthenticated === true);
  const logger = createLogger(options.logLevel ?? 'info', options.logFormat ?? 'json');
  const tandem = await openEngine(options, logger);
  const server = createServer({ tandem, logger, limits: options.limits, connections: options.connections, apiKeys, version: PACKAGE_VERSION });
  const schedule = new BatchSchedule(tandem, options.batchEveryMs, logger, options.onBatch);
  let address: string;
  let pg: PgWireServer | undefined;
  try {
    address = await server.app.listen({ host: options.host, port: options.port });
    if (options.pgPort !== undefined) {
      pg = await PgWireServer.start({
        tandem, host: options.host, port: options.pgPort, apiKeys, limits: options.limits, version: PACKAGE_VERSION, ...(options.pgTls === undefined ? {} : { tls: options.pgTls }),
        onError: (error) => logger.error({ err: error }, 'PostgreSQL statement failed'),
        onQuery: (view, seconds) => server.metrics.querySeconds.observe({ view }, seconds),
      });
    }
  } catch (error) {
    await server.app.close();
    await tandem.close();
    throw error;
  }
  schedule.start();
  let stopping: Promise<void> | undefined;
  const hooks: (() => void)[] = [];
  const stop = () => {
    stopping ??= (async () => {
      for (const hook of hooks) hook();
      schedule.stop();
      await pg?.close();
      await server.app.close();
      await tandem.close();
    })();
    return stopping;
  };
  return { url: address.replace('://[::1]', '://localhost'), tandem, server, logger, pgPort: pg?.port, stop, onStop: (hook) => void hooks.push(hook) };
}

/** The embedded engine, or a cluster node when NATS servers are given (its code and the NATS clients load only then). */
async function openEngine(options: RunServerOptions, logger: Logger): Promise<ServedEngine> {
  if (options.nats === undefined || options.nats.length === 0) {
    return Tandem.open({ dataDir: options.dataDir, config: options.config, logger, maxPendingEvents: options.maxPendingEvents, maxSpeedKeys: options.maxSpeedKeys, maxSpeedBytes: options.maxSpeedBytes });
  }
  const { ClusterNode } = await import('../backends/nats/index.ts');
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
  return ClusterNode.open({
    dataDir: options.dataDir, config: options.config, servers: options.nats, node: options.node, url, logger, leaseMs: options.batchLeaseMs, partitionLeaseMs: options.partitionLeaseMs, readWaitMs: options.readWaitMs,
    maxSpeedKeys: options.maxSpeedKeys, maxSpeedBytes: options.maxSpeedBytes,
  });
}

/** Stops the server on SIGINT/SIGTERM; a second signal exits at once. */
export function stopOnSignals(running: RunningServer): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(130);
    signalled = true;
    running.logger.info({ signal }, 'shutting down: finishing in-flight requests and closing the log');
    running.stop().then(() => process.exit(0), (error: unknown) => {
      running.logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
