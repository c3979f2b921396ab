/**
 * Cuts the bytes of a connection into messages. The first message has no
 * type byte (a startup, SSL or cancel request); every later one has.
 *
 * @module
 */
import { PgProtocolError } from './pg-errors.ts';

/**
 * The longest message taken: a statement of the most SQL a query may hold
 * (100,000 characters, up to 4 bytes each), with room for its parameters.
 */
export const MAX_MESSAGE_BYTES = 1 << 20;

/**
 * One framed message: its type (empty for the untyped first) and its body.
 *
 * @example
 * ```ts
 * const message: Frame = { type: 'Q', body: Buffer.from('SELECT 1\0') };
 * ```
 */
export interface Frame {
  readonly type: string;
  readonly body: Buffer;
}

/**
 * Collects chunks and hands out whole messages.
 *
 * @example
 * ```ts
 * const framer = new MessageFramer();
 * for (const frame of framer.push(chunk)) handle(frame);
 * ```
 */
export class MessageFramer {
  #pending: Buffer = Buffer.alloc(0);
  /** The next message is the untyped first one (again after an SSL request is answered). */
  untyped = true;

  /** The whole messages the chunk completes; a part of one is kept for the next chunk. */
  push(chunk: Buffer): Frame[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: Frame[] = [];
    for (let frame = this.#next(); frame !== undefined; frame = this.#next()) frames.push(frame);
    return frames;
  }

  #next(): Frame | undefined {
    const head = this.untyped ? 4 : 5;
    if (this.#pending.length < head) return undefined;
    const type = this.untyped ? '' : this.#pending.toString('latin1', 0, 1);
    const length = this.#pending.readInt32BE(head - 4);
    if (length < 4 || length > MAX_MESSAGE_BYTES) {
      throw new PgProtocolError(`A message declares ${length} bytes; messages must be 4 to ${MAX_MESSAGE_BYTES.toLocaleString('en-US')} bytes long.`);
    }
    const end = head - 4 + length;
    if (this.#pending.length < end) return undefined;
    const body = this.#pending.subarray(head, end);
    this.#pending = this.#pending.subarray(end);
    // The first message is untyped, and only an SSL or GSSAPI request is followed by another untyped one (the connection sets this back).
    this.untyped = false;
    return { type, body };
  }
}
