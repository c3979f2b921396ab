/**
 * Bounds on connections, so that slow or stalled clients cannot hold the
 * server: time limits on receiving a request and on a client that stops
 * reading its answer, a limit on idle keep-alive connections and on open
 * connections, and a shutdown that closes what is still open after a grace
 * period instead of waiting on clients forever.
 *
 * @module
 */
import { STATUS_CODES, maxHeaderSize, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyHttpOptions, FastifyInstance } from 'fastify';
import type { TandemError } from '../definitions/index.ts';
import { HeadersTooLargeError, MalformedHttpError, RequestTimeoutError, ShuttingDownError } from './errors.ts';
import { httpError } from './http-errors.ts';

export interface ConnectionLimits {
  /** Time to receive a request's headers (node's `headersTimeout`); at most `requestTimeoutMs`. */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request, headers and body (node's `requestTimeout`): a stalled upload is cut with 408 after it. */
  readonly requestTimeoutMs: number;
  /** Longest an answer may wait on a client that does not read it. */
  readonly responseIdleTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  readonly keepAliveTimeoutMs: number;
  /** Most open connections; a connection beyond them is closed as soon as it is accepted. */
  readonly maxConnections: number;
  /** After `close()` begins, how long requests in flight may run before the connections still open are closed. */
  readonly closeGraceMs: number;
}

/**
 * A 16 MiB body takes 30 s at 4.5 Mbit/s, and a 1,000-event body (~150 KB)
 * takes it at 40 kbit/s; headers are small. Keep-alive stays above the 60 s
 * idle timeout of common load balancers, so that they, not the server, close
 * an idle connection (else a request racing the close fails). File
 * descriptors run to many thousands (Node raises its soft limit to the hard
 * one), so 1,000 connections leave room for the log and DuckDB. The grace
 * period outlasts the default query time limit (10 s).
 */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  responseIdleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 72_000,
  maxConnections: 1_000,
  closeGraceMs: 10_000,
};

/** Fills in defaults and checks each limit is a positive whole number. */
export function connectionLimits(given: Partial<ConnectionLimits> = {}): ConnectionLimits {
  const limits: Record<string, number> = { ...DEFAULT_CONNECTION_LIMITS };
  for (const [name, value] of Object.entries(given)) if (value !== undefined) limits[name] = value;
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`The connection limit ${name} must be a positive whole number, not ${String(value)}.`);
  }
  // Node refuses a headers timeout longer than the request timeout.
  const checked = limits as unknown as ConnectionLimits;
  return { ...checked, headersTimeoutMs: Math.min(checked.headersTimeoutMs, checked.requestTimeoutMs) };
}

/**
 * Fastify's options for these limits. Its `connectionTimeout` stays off: it
 * counts silence while a handler runs too, so it would cut a long batch run or
 * a slow query; the idle limit is armed only while an answer is written.
 * Node checks the header and request timeouts on an interval (30 s unless
 * told), so the interval here is a tenth of the shorter one, at most 1 s.
 */
export function connectionOptions(limits: ConnectionLimits, onTimeout: () => void): FastifyHttpOptions<Server> {
  const shortest = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: 0,
    // New requests during a shutdown get this server's own 503 (registerConnectionLimits), in the usual error shape.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(shortest / 10))) },
    clientErrorHandler: clientErrorHandler(limits, onTimeout),
  };
}

export interface ConnectionEvents {
  /** A connection was refused at `maxConnections`. */
  readonly onRefused: () => void;
  /** The grace period ran out with connections still open; they are being closed. */
  readonly onForcedClose: () => void;
}

/**
 * Sets the connection bound, arms the idle limit on every answer, refuses
 * new requests once closing began, and closes the connections still open
 * `closeGraceMs` after it began.
 */
export function registerConnectionLimits(app: FastifyInstance, limits: ConnectionLimits, events: ConnectionEvents): void {
  app.server.maxConnections = limits.maxConnections;
  app.server.on('drop', events.onRefused);
  let closing = false;
  let grace: NodeJS.Timeout | undefined;
  app.addHook('onRequest', (_request, _reply, done) => done(closing ? new ShuttingDownError() : undefined));
  app.addHook('onSend', (request, _reply, payload, done) => {
    armResponseIdle(request.raw.socket, limits.responseIdleTimeoutMs);
    done(null, payload);
  });
  app.addHook('preClose', (done) => {
    closing = true;
    grace = setTimeout(() => {
      events.onForcedClose();
      app.server.closeAllConnections();
    }, limits.closeGraceMs);
    grace.unref();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearTimeout(grace);
    done();
  });
}

/**
 * Closes the connection if the client reads nothing of the answer for `ms`.
 * Node resets the socket's timeout to keep-alive once the answer is written,
 * and clears it when the next request arrives, so it never cuts the server's
 * own work on a request.
 */
export function armResponseIdle(socket: Socket | null | undefined, ms: number): void {
  // app.inject's requests have a stand-in socket without timers.
  if (typeof socket?.setTimeout === 'function') socket.setTimeout(ms);
}

/**
 * Answers a request that node gave up on (a timeout, oversized headers, bytes
 * that are not HTTP) in the usual error shape, unless an answer has begun on
 * the connection, and closes the connection.
 */
function clientErrorHandler(limits: ConnectionLimits, onTimeout: () => void) {
  return (error: Error & { code?: string }, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    let refusal: TandemError;
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      onTimeout();
      refusal = new RequestTimeoutError(limits.headersTimeoutMs, limits.requestTimeoutMs);
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      refusal = new HeadersTooLargeError(maxHeaderSize);
    } else {
      refusal = new MalformedHttpError();
    }
    if (socket.writable && !answerStarted(socket)) socket.write(rawAnswer(refusal));
    socket.destroy(error);
  };
}

/** Whether the response in flight on a socket has sent its head; node keeps it in a private field, as its own client-error path reads it. */
function answerStarted(socket: Socket): boolean {
  return (socket as Socket & { _httpMessage?: { readonly headersSent: boolean } | null })._httpMessage?.headersSent === true;
}

function rawAnswer(error: TandemError): string {
  const { status, body } = httpError(error, 0);
  const json = JSON.stringify(body);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(json)}\r\nconnection: close\r\n\r\n${json}`;
}
