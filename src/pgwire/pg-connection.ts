/**
 * One client connection: the startup (SSL refused, password checked), then
 * the simple protocol (a Query message of one or more statements) and the
 * extended one (Parse, Bind, Describe, Execute, Close, Sync), one message
 * at a time in the order they came. After an error in the extended protocol
 * every message up to the next Sync is skipped, as PostgreSQL does.
 *
 * @module
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { ApiKey } from '../definitions/index.ts';
import * as wire from './backend-messages.ts';
import { readInitial, readMessage, type FrontendMessage, type InitialMessage } from './frontend-messages.ts';
import { MessageFramer, type Frame } from './message-framer.ts';
import {
  errorFields, isUnexpected, PgAuthenticationError, PgCancelledError, PgProtocolError, PgStartupTimeoutError, PgTransactionAbortedError, PgUnsupportedError,
} from './pg-errors.ts';
import { parameterCount, paramValue } from './bind-parameters.ts';
import { binaryCell, binaryParam } from './binary-format.ts';
import { OID } from './pg-types.ts';
import { PreparedStatements, type Portal } from './prepared-statements.ts';
import { sessionCommand } from './session-commands.ts';
import { SessionSettings } from './session-settings.ts';
import { splitStatements } from './split-statements.ts';
import { answerStatement, type AnswerContext, type StatementAnswer } from './statement-answer.ts';

/**
 * What a connection needs of its server.
 *
 * @example
 * ```ts
 * const deps: ConnectionDeps = { answer: (user, database, settings) => context, authenticate: () => 'trust', cancel: () => {}, processId: 1, secret: 42, version: '…', onError: () => {} };
 * ```
 */
export interface ConnectionDeps {
  /** The server's certificate and key, when it offers TLS. */
  readonly tls?: SecureContext;
  /** How long a client may take to start up and authenticate: a connection that never does holds no slot for long. */
  readonly startupTimeoutMs: number;
  readonly processId: number;
  readonly secret: number;
  /** `version()`'s answer. */
  readonly version: string;
  /** `trust` when the server has no keys; else the key a password is, or undefined for none. */
  readonly authenticate: (password: string | undefined) => ApiKey | 'trust' | 'password' | undefined;
  /** What statements are answered with, for this connection's user, database, settings and key. */
  readonly context: (session: { user: string; database: string; settings: SessionSettings; key: ApiKey | 'trust'; deallocate: (name: string) => void }) => AnswerContext;
  /** A cancel request arrived on this connection (which then closes): cancel the statement of the connection it names. */
  readonly cancel: (processId: number, secret: number) => void;
  /** An unexpected error, for the server's log. */
  readonly onError: (error: unknown) => void;
}




/**
 * The protocol state of one connection over a socket.
 *
 * @example
 * ```ts
 * server.on('connection', (socket) => new PgConnection(socket, deps));
 * ```
 */
export class PgConnection {
  readonly #framer = new MessageFramer();
  readonly #named = new PreparedStatements();
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;
  #phase: 'initial' | 'password' | 'ready' | 'closed' = 'initial';
  #startup: ReadonlyMap<string, string> = new Map();
  #context: AnswerContext | undefined;
  #transaction: wire.TransactionStatus = 'I';
  #skipping = false;
  #cancel: ((error: Error) => void) | undefined;
  /** The TCP socket, or the TLS socket over it once an SSL request was accepted. */
  private socket: Socket;
  readonly #onData = (chunk: Buffer) => this.#receive(chunk);
  readonly #startupTimer: NodeJS.Timeout;

  constructor(socket: Socket, private readonly deps: ConnectionDeps) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('error', () => this.#close());
    socket.on('close', () => this.#close());
    this.#startupTimer = setTimeout(() => this.terminate(errorFields(new PgStartupTimeoutError(deps.startupTimeoutMs), 'FATAL')), deps.startupTimeoutMs);
    this.#startupTimer.unref();
  }

  get processId(): number {
    return this.deps.processId;
  }

  /** Whether a cancel request's key is this connection's. */
  owns(processId: number, secret: number): boolean {
    return processId === this.deps.processId && secret === this.deps.secret;
  }

  /** Cancels the statement running now, if any: it answers 57014 at once, and its result is dropped. */
  cancel(): void {
    this.#cancel?.(new PgCancelledError());
  }

  /** Ends the connection, telling the client why when it is at a message boundary. */
  terminate(fields?: wire.ErrorFields): void {
    if (this.#phase === 'closed') return;
    if (fields !== undefined) this.#send(wire.errorResponse(fields));
    this.#close();
    // Closed once the error is written, without waiting for a client that may never close its side.
    this.socket.end();
    this.socket.destroySoon();
  }

  #close(): void {
    clearTimeout(this.#startupTimer);
    this.#phase = 'closed';
    this.cancel();
  }

  #send(...messages: Buffer[]): void {
    if (messages.length > 0 && this.socket.writable) this.socket.write(messages.length === 1 ? messages[0]! : Buffer.concat(messages));
  }

  #receive(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.#framer.push(chunk);
    } catch (error) {
      this.terminate(errorFields(error, 'FATAL'));
      return;
    }
    for (const frame of frames) this.#enqueue(frame);
  }

  /** Messages are handled one after another; a client far ahead is paused until the queue drains. */
  #enqueue(frame: Frame): void {
    this.#pending += 1;
    if (this.#pending > 256) this.socket.pause();
    this.#queue = this.#queue.then(() => this.#handle(frame)).catch((error: unknown) => {
      if (isUnexpected(error)) this.deps.onError(error);
      this.terminate(errorFields(error, 'FATAL'));
    }).finally(() => {
      this.#pending -= 1;
      if (this.#pending <= 16 && this.socket.isPaused()) this.socket.resume();
    });
  }

  async #handle(frame: Frame): Promise<void> {
    if (this.#phase === 'closed') return;
    if (this.#phase === 'initial') return this.#initial(readInitial(frame.body));
    const message = readMessage(frame.type, frame.body);
    if (this.#phase === 'password') return this.#password(message);
    return this.#ready(message);
  }

  #initial(message: InitialMessage): void {
    switch (message.kind) {
      case 'ssl':
        this.#framer.untyped = true;
        if (this.deps.tls !== undefined) return this.#startTls(this.deps.tls);
        // No certificate: the client goes on in the clear or gives up, as its sslmode says.
        this.socket.write(Buffer.from('N'));
        return;
      case 'gssenc':
        this.#framer.untyped = true;
        this.socket.write(Buffer.from('N'));
        return;
      case 'cancel':
        this.deps.cancel(message.processId, message.secret);
        this.terminate();
        return;
      case 'startup':
        this.#startup = message.parameters;
        if (!message.parameters.has('user')) return this.terminate({ severity: 'FATAL', code: '28000', message: 'The startup message names no user; any user name will do, with an API key as the password.' });
        return this.#authenticate(undefined);
    }
  }

  /**
   * Answers an SSL request with `S` and reads everything after it through
   * TLS. The client sends its handshake only after reading `S`, so no byte
   * of it can reach the plain socket's reader first.
   */
  #startTls(context: SecureContext): void {
    const plain = this.socket;
    plain.write(Buffer.from('S'));
    plain.off('data', this.#onData);
    const secure = new TLSSocket(plain, { isServer: true, secureContext: context });
    secure.on('data', this.#onData);
    secure.on('error', () => this.terminate());
    this.socket = secure;
  }

  #authenticate(password: string | undefined): void {
    const key = this.deps.authenticate(password);
    if (key === 'password') {
      this.#phase = 'password';
      this.#send(wire.authenticationCleartextPassword());
      return;
    }
    if (key === undefined) return this.terminate(errorFields(new PgAuthenticationError(this.#startup.get('user') ?? ''), 'FATAL'));
    this.#begin(key);
  }

  #password(message: FrontendMessage): void {
    if (message.type !== 'password') throw new PgProtocolError('The server asked for a password; the client sent another message.');
    this.#authenticate(message.password);
  }

  /** Authenticated: report the settings and the cancel key, and wait for statements. */
  #begin(key: ApiKey | 'trust'): void {
    const user = this.#startup.get('user')!;
    const settings = new SessionSettings(user, this.#startup);
    this.#context = this.deps.context({ user, database: this.#startup.get('database') ?? user, settings, key, deallocate: (name) => this.#named.deallocate(name) });
    this.#phase = 'ready';
    clearTimeout(this.#startupTimer);
    this.#send(
      wire.authenticationOk(),
      ...settings.reported().map(([name, value]) => wire.parameterStatus(name, value)),
      wire.backendKeyData(this.deps.processId, this.deps.secret),
      wire.readyForQuery('I'),
    );
  }

  async #ready(message: FrontendMessage): Promise<void> {
    if (message.type === 'terminate') return this.terminate();
    if (message.type === 'sync') {
      this.#skipping = false;
      this.#named.endUnnamedPortal();
      this.#send(wire.readyForQuery(this.#transaction));
      return;
    }
    if (message.type === 'query') return this.#simpleQuery(message.sql);
    if (this.#skipping || message.type === 'flush') return;
    try {
      await this.#extended(message);
    } catch (error) {
      this.#fail(error);
      this.#skipping = true;
    }
  }

  #fail(error: unknown): void {
    if (isUnexpected(error)) this.deps.onError(error);
    if (this.#transaction === 'T') this.#transaction = 'E';
    this.#send(wire.errorResponse(errorFields(error)));
  }

  /** A Query message: each statement answered in turn; the first error ends the rest. */
  async #simpleQuery(sql: string): Promise<void> {
    this.#named.endUnnamedPortal();
    try {
      for (const statement of splitStatements(sql)) {
        const answer = await this.#answer(statement, []);
        if (answer.empty) this.#send(wire.emptyQueryResponse());
        else this.#send(...this.#rows(answer, answer.rows, true), wire.commandComplete(answer.tag));
      }
    } catch (error) {
      this.#fail(error);
    }
    this.#send(wire.readyForQuery(this.#transaction));
  }

  /** Answers a statement, unless the client cancels it first. */
  async #answer(sql: string, params: readonly unknown[]): Promise<StatementAnswer> {
    if (this.#transaction === 'E' && !/^\s*(ROLLBACK|ABORT|COMMIT|END)\b/i.test(sql)) {
      throw new PgTransactionAbortedError();
    }
    const cancelled = new Promise<never>((_, reject) => { this.#cancel = reject; });
    try {
      const answer = await Promise.race([answerStatement(sql, params, this.#context!), cancelled]);
      this.#noteTransaction(answer);
      return answer;
    } finally {
      this.#cancel = undefined;
      cancelled.catch(() => {});
    }
  }

  #noteTransaction(answer: StatementAnswer): void {
    if (answer.transaction === 'begin') this.#transaction = 'T';
    if (answer.transaction === 'end') this.#transaction = 'I';
    for (const [name, value] of answer.reports) this.#send(wire.parameterStatus(name, value));
  }

  /** RowDescription (when asked) and the DataRows of an answer. */
  #rows(answer: StatementAnswer, rows: readonly (readonly (string | Buffer | null)[])[], describe: boolean): Buffer[] {
    if (answer.columns === undefined) return [];
    return [...(describe ? [wire.rowDescription(answer.columns)] : []), ...rows.map((row) => wire.dataRow(row))];
  }

  async #extended(message: FrontendMessage): Promise<void> {
    switch (message.type) {
      case 'parse':
        this.#named.parse(message.name, message.sql, message.paramOids);
        return this.#send(wire.parseComplete());
      case 'bind': return this.#bind(message);
      case 'describe': return message.target === 'S' ? this.#describeStatement(message.name) : this.#describePortal(message.name);
      case 'execute': return this.#execute(message.portal, message.maxRows);
      case 'close':
        this.#named.close(message.target, message.name);
        return this.#send(wire.closeComplete());
      case 'password': throw new PgProtocolError('A password message arrived after authentication.');
      default: throw new PgUnsupportedError(`The protocol message '${message.type === 'other' ? message.code : message.type}' is not supported (no COPY, no function calls).`);
    }
  }

  #bind(message: Extract<FrontendMessage, { type: 'bind' }>): void {
    const { paramOids } = this.#named.statement(message.statement);
    const params = message.params.map((bytes, i) => {
      const oid = paramOids[i] ?? 0;
      return bytes !== null && formatOf(message.paramFormats, i) === 1 ? binaryParam(bytes, oid) : paramValue(bytes, oid);
    });
    this.#named.bind(message.portal, message.statement, params, message.resultFormats);
    this.#send(wire.bindComplete());
  }

  /** A portal's answer, computed once: Describe needs its columns before Execute sends its rows. */
  #portalAnswer(portal: Portal): Promise<StatementAnswer> {
    portal.answer ??= this.#answer(portal.prepared.sql, portal.params);
    return portal.answer;
  }

  async #describePortal(name: string): Promise<void> {
    const portal = this.#named.portal(name);
    const answer = await this.#portalAnswer(portal);
    this.#send(answer.columns === undefined ? wire.noData() : wire.rowDescription(answer.columns, answer.columns.map((_, i) => formatOf(portal.resultFormats, i))));
  }

  /**
   * Describe of a statement before its parameters are bound: their types
   * (text where the client gave none) and the columns, from answering it
   * with every parameter null (only a SELECT or SHOW, which change
   * nothing). One that cannot be answered so (a time compared with null)
   * describes its columns as none.
   */
  async #describeStatement(name: string): Promise<void> {
    const prepared = this.#named.statement(name);
    const count = Math.max(prepared.paramOids.length, parameterCount(prepared.sql));
    const oids = Array.from({ length: count }, (_, i) => prepared.paramOids[i] || OID.text);
    const kind = sessionCommand(prepared.sql).kind;
    const answer = kind === 'select' || kind === 'show' ? await this.#answer(prepared.sql, oids.map(() => null)).catch(() => undefined) : undefined;
    this.#send(wire.parameterDescription(oids), answer?.columns === undefined ? wire.noData() : wire.rowDescription(answer.columns));
  }

  async #execute(name: string, maxRows: number): Promise<void> {
    const portal = this.#named.portal(name);
    const answer = await this.#portalAnswer(portal);
    if (answer.empty) return this.#send(wire.emptyQueryResponse());
    const end = maxRows > 0 ? Math.min(answer.rows.length, portal.sent + maxRows) : answer.rows.length;
    const rows = encodeRows(answer, answer.rows.slice(portal.sent, end), portal.resultFormats);
    portal.sent = end;
    if (end < answer.rows.length) return this.#send(...this.#rows(answer, rows, false), wire.portalSuspended());
    this.#send(...this.#rows(answer, rows, false), wire.commandComplete(answer.tag));
  }
}

/** The format of item `i` from a Bind's list of format codes: none means text, one means all alike. */
function formatOf(formats: readonly number[], i: number): number {
  return formats.length === 0 ? 0 : formats.length === 1 ? formats[0]! : formats[i] ?? 0;
}

/** An answer's rows with each column in the format the portal asked for. */
function encodeRows(answer: StatementAnswer, rows: readonly (readonly (string | null)[])[], formats: readonly number[]): (string | Buffer | null)[][] {
  const columns = answer.columns ?? [];
  if (!columns.some((_, i) => formatOf(formats, i) === 1)) return rows.map((row) => [...row]);
  return rows.map((row) => row.map((cell, i) => (cell === null || formatOf(formats, i) !== 1 ? cell : binaryCell(cell, columns[i]!.oid))));
}
