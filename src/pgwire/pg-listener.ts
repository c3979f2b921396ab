/**
 * The PostgreSQL wire-protocol listener: a TCP server whose connections
 * speak protocol 3.0 over one engine's views.
 *
 * The framing and the protocol are Tandem's own (about 300 lines in
 * backend-messages.ts, frontend-messages.ts, message-framer.ts and
 * pg-connection.ts). The libraries weighed: `pg-protocol` (node-postgres,
 * maintained) parses only the server's messages and writes only the
 * client's, the opposite of what a server needs; `pg-gateway` 0.2.4 (its
 * latest release; 0.3 is still a beta) handles startup and authentication
 * but sends BackendKeyData only after ReadyForQuery (so cancel keys cannot
 * be given where clients read them), reads a CancelRequest as a startup
 * message of an unknown version, reports only `server_version`, and logs
 * and swallows errors on the console; it would have taken as much code to
 * work around; `pg-server` is an unmaintained proxy.
 *
 * @module
 */
import { randomInt } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { ApiKey, ServerLimits } from '../definitions/index.ts';
import type { ServedEngine } from '../engine/index.ts';
import { AccessControl, ForbiddenError } from '../server/index.ts';
import { SqlRunner } from '../sql/index.ts';
import { errorResponse } from './backend-messages.ts';
import { LiveCatalog } from './live-catalog.ts';
import { PgConnection } from './pg-connection.ts';
import { SERVER_VERSION } from './session-settings.ts';
import type { AnswerContext } from './statement-answer.ts';

/**
 * Options of the PostgreSQL listener.
 *
 * @example
 * ```ts
 * const options: PgWireOptions = { tandem, host: '127.0.0.1', port: 5433 };
 * ```
 */
export interface PgWireOptions {
  readonly tandem: ServedEngine;
  readonly host?: string;
  /** The TCP port; 0 picks a free one (see {@link PgWireServer.port}). */
  readonly port: number;
  /** API keys, replacing the config's `server.apiKeys`: with keys, the password must be one of them; without, every client is trusted. */
  readonly apiKeys?: readonly ApiKey[];
  /** Row and time limits of a query, over the config's `server.limits`. */
  readonly limits?: Partial<ServerLimits>;
  /** `version()` names this Tandem version. */
  readonly version?: string;
  /** Unexpected errors (not refusals of statements), for a log. */
  readonly onError?: (error: unknown) => void;
  /** Each statement over a view answered, with its view and seconds (the server's `tandem_query_duration_seconds`). */
  readonly onQuery?: (view: string, seconds: number) => void;
  /** The most connections open at once; more are refused. Default 256. */
  readonly maxConnections?: number;
  /** A certificate and its key (PEM): clients that ask for TLS (`sslmode=require`) get it; without, an SSL request is declined. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** How long a client may take from connecting to being authenticated before it is closed. Default 10 s. */
  readonly startupTimeoutMs?: number;
}

/**
 * A listening PostgreSQL endpoint. Every statement is answered as `POST
 * /v1/sql` answers it (the same runner, limits and scopes); catalog
 * statements from a small catalog of the views.
 *
 * @example
 * ```ts
 * const pg = await PgWireServer.start({ tandem, port: 5433 });
 * // psql -h 127.0.0.1 -p 5433 -U me -d tandem -c 'SELECT country, sum(revenue) FROM revenue_by_country GROUP BY 1'
 * await pg.close();
 * ```
 */
export class PgWireServer {
  readonly #connections = new Set<PgConnection>();
  readonly #sockets = new Set<Socket>();
  readonly #shared: Shared;
  private constructor(
    private readonly server: Server,
    private readonly runner: SqlRunner,
    private readonly catalog: LiveCatalog,
    private readonly options: PgWireOptions,
    private readonly tls: SecureContext | undefined,
  ) {
    this.#shared = sharedOf(options);
  }

  /** Opens the catalog and starts listening. */
  static async start(options: PgWireOptions): Promise<PgWireServer> {
    // Built first and once, so a certificate that does not parse fails the start, not a client's handshake.
    const tls = options.tls === undefined ? undefined : createSecureContext({ cert: options.tls.cert, key: options.tls.key });
    const catalog = await LiveCatalog.open(options.tandem);
    const runner = new SqlRunner(options.tandem);
    const server = createServer();
    const pg = new PgWireServer(server, runner, catalog, options, tls);
    server.on('connection', (socket) => pg.#accept(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: options.host ?? '127.0.0.1', port: options.port }, () => resolve());
      });
    } catch (error) {
      await Promise.all([runner.close(), catalog.close()]);
      throw error;
    }
    return pg;
  }

  /** The port it listens on (the one picked, for port 0). */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops listening, ends every connection, and closes the catalog and the SQL parser. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.#connections) connection.terminate({ severity: 'FATAL', code: '57P01', message: 'terminating connection: the Tandem server is shutting down' });
    for (const socket of this.#sockets) socket.destroySoon();
    await closed;
    await Promise.all([this.runner.close(), this.catalog.close()]);
  }

  #accept(socket: Socket): void {
    if (this.#sockets.size >= (this.options.maxConnections ?? 256)) {
      socket.on('error', () => {});
      socket.end(errorResponse({ severity: 'FATAL', code: '53300', message: 'sorry, too many clients already: the Tandem server holds its most PostgreSQL connections.' }));
      socket.destroySoon();
      return;
    }
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    const connection = new PgConnection(socket, this.#deps());
    this.#connections.add(connection);
    socket.on('close', () => this.#connections.delete(connection));
  }

  /** A connection's own cancel key, and what it shares with the others. */
  #deps(): ConstructorParameters<typeof PgConnection>[1] {
    const { access, limits, version } = this.#shared;
    return {
      ...(this.tls === undefined ? {} : { tls: this.tls }),
      startupTimeoutMs: this.options.startupTimeoutMs ?? 10_000,
      processId: randomInt(1, 2 ** 31 - 1),
      secret: randomInt(0, 2 ** 31 - 1),
      version,
      authenticate: (password) => authenticate(access, password),
      cancel: (processId, secret) => {
        for (const connection of this.#connections) if (connection.owns(processId, secret)) connection.cancel();
      },
      onError: this.options.onError ?? (() => {}),
      context: (session): AnswerContext => ({
        runner: this.runner, catalog: this.catalog, settings: session.settings, limits, user: session.user, database: session.database, version,
        deallocate: session.deallocate,
        observe: this.options.onQuery ?? (() => {}),
        mayQuery: () => {
          if (session.key !== 'trust' && !session.key.scopes.has('query')) throw new ForbiddenError('query', "This API key may not query views; that needs a key with the 'query' scope.");
        },
      }),
    };
  }
}

/** What every connection shares: the keys, the query limits and `version()`'s answer. */
interface Shared {
  readonly access: AccessControl;
  readonly limits: { readonly maxRows: number; readonly timeoutMs: number };
  readonly version: string;
}

function sharedOf(options: PgWireOptions): Shared {
  const { tandem } = options;
  const serverLimits = { ...tandem.catalog.server.limits, ...definedOnly(options.limits ?? {}) };
  return {
    access: new AccessControl(options.apiKeys ?? tandem.catalog.server.apiKeys),
    limits: { maxRows: serverLimits.queryRows, timeoutMs: serverLimits.queryTimeoutMs },
    version: `PostgreSQL ${SERVER_VERSION} (Tandem ${options.version ?? '0.0.0'}) on Node.js ${process.version}, 64-bit`,
  };
}

/** `trust` without keys; `password` to ask for one; else the key the password is, or undefined. */
function authenticate(access: AccessControl, password: string | undefined): ApiKey | 'trust' | 'password' | undefined {
  if (!access.enabled) return 'trust';
  if (password === undefined) return 'password';
  try {
    return access.identify(`Bearer ${password}`);
  } catch {
    return undefined;
  }
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
