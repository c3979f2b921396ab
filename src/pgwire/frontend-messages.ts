/**
 * The messages a client sends, read from their frames: the untyped first
 * message (a startup, an SSL or GSSAPI encryption request, or a cancel
 * request) and the typed ones after it. Read here rather than by a library
 * for the reason backend-messages.ts gives.
 *
 * @module
 */
import { PgProtocolError } from './pg-errors.ts';

/** The first message of a connection, by its request code. */
export type InitialMessage =
  | { readonly kind: 'startup'; readonly parameters: ReadonlyMap<string, string> }
  | { readonly kind: 'ssl' }
  | { readonly kind: 'gssenc' }
  | { readonly kind: 'cancel'; readonly processId: number; readonly secret: number };

/** A typed message after startup, decoded as far as the server needs it. */
export type FrontendMessage =
  | { readonly type: 'query'; readonly sql: string }
  | { readonly type: 'parse'; readonly name: string; readonly sql: string; readonly paramOids: readonly number[] }
  | { readonly type: 'bind'; readonly portal: string; readonly statement: string; readonly params: readonly (Buffer | null)[]; readonly paramFormats: readonly number[]; readonly resultFormats: readonly number[] }
  | { readonly type: 'describe'; readonly target: 'S' | 'P'; readonly name: string }
  | { readonly type: 'execute'; readonly portal: string; readonly maxRows: number }
  | { readonly type: 'close'; readonly target: 'S' | 'P'; readonly name: string }
  | { readonly type: 'sync' }
  | { readonly type: 'flush' }
  | { readonly type: 'password'; readonly password: string }
  | { readonly type: 'terminate' }
  | { readonly type: 'other'; readonly code: string };

const PROTOCOL_3 = 196_608;
const SSL_REQUEST = 80_877_103;
const GSSENC_REQUEST = 80_877_104;
const CANCEL_REQUEST = 80_877_102;

/** Reads a message body field by field; running past its end is a protocol violation. */
class Fields {
  #at = 0;
  constructor(private readonly body: Buffer) {}

  int16(): number {
    this.#need(2);
    const n = this.body.readInt16BE(this.#at);
    this.#at += 2;
    return n;
  }

  int32(): number {
    this.#need(4);
    const n = this.body.readInt32BE(this.#at);
    this.#at += 4;
    return n;
  }

  cstring(): string {
    const end = this.body.indexOf(0, this.#at);
    if (end < 0) throw new PgProtocolError('A string in the message is not terminated.');
    const text = this.body.toString('utf8', this.#at, end);
    this.#at = end + 1;
    return text;
  }

  bytes(length: number): Buffer {
    this.#need(length);
    const bytes = this.body.subarray(this.#at, this.#at + length);
    this.#at += length;
    return bytes;
  }

  byte(): string {
    return this.bytes(1).toString('latin1');
  }

  #need(length: number): void {
    if (length < 0 || this.#at + length > this.body.length) throw new PgProtocolError('The message is shorter than its fields.');
  }
}

/**
 * The first message of a connection, from its body (after the length).
 *
 * @example
 * ```ts
 * readInitial(body);   // { kind: 'startup', parameters: Map { 'user' => 'x', 'database' => 'tandem' } }
 * ```
 */
export function readInitial(body: Buffer): InitialMessage {
  const fields = new Fields(body);
  const code = fields.int32();
  if (code === SSL_REQUEST) return { kind: 'ssl' };
  if (code === GSSENC_REQUEST) return { kind: 'gssenc' };
  if (code === CANCEL_REQUEST) return { kind: 'cancel', processId: fields.int32(), secret: fields.int32() };
  if (code !== PROTOCOL_3) throw new PgProtocolError(`Protocol version ${code >> 16}.${code & 0xffff} is not supported; Tandem speaks protocol 3.0.`);
  const parameters = new Map<string, string>();
  for (let name = fields.cstring(); name !== ''; name = fields.cstring()) parameters.set(name, fields.cstring());
  return { kind: 'startup', parameters };
}

function int16List(fields: Fields): number[] {
  return Array.from({ length: fields.int16() }, () => fields.int16());
}

function readBind(fields: Fields): FrontendMessage {
  const portal = fields.cstring();
  const statement = fields.cstring();
  const paramFormats = int16List(fields);
  const params = Array.from({ length: fields.int16() }, () => {
    const length = fields.int32();
    return length < 0 ? null : fields.bytes(length);
  });
  return { type: 'bind', portal, statement, params, paramFormats, resultFormats: int16List(fields) };
}

function target(fields: Fields): 'S' | 'P' {
  const which = fields.byte();
  if (which !== 'S' && which !== 'P') throw new PgProtocolError(`Describe and Close name 'S' or 'P', not '${which}'.`);
  return which;
}

/**
 * A typed message, from its type byte and body.
 *
 * @example
 * ```ts
 * readMessage('Q', Buffer.from('SELECT 1\0'));   // { type: 'query', sql: 'SELECT 1' }
 * ```
 */
export function readMessage(type: string, body: Buffer): FrontendMessage {
  const fields = new Fields(body);
  switch (type) {
    case 'Q': return { type: 'query', sql: fields.cstring() };
    case 'P': return { type: 'parse', name: fields.cstring(), sql: fields.cstring(), paramOids: Array.from({ length: fields.int16() }, () => fields.int32()) };
    case 'B': return readBind(fields);
    case 'D': return { type: 'describe', target: target(fields), name: fields.cstring() };
    case 'E': return { type: 'execute', portal: fields.cstring(), maxRows: fields.int32() };
    case 'C': return { type: 'close', target: target(fields), name: fields.cstring() };
    case 'S': return { type: 'sync' };
    case 'H': return { type: 'flush' };
    case 'p': return { type: 'password', password: fields.cstring() };
    case 'X': return { type: 'terminate' };
    default: return { type: 'other', code: type };
  }
}
