/**
 * Compressed request bodies. gzip and deflate are decoded as they arrive; the
 * body limit counts the decoded bytes, and decoding stops at the limit, so a
 * small compressed body cannot expand into gigabytes of memory or of CPU time
 * (a "zip bomb" costs the server at most `limit` decoded bytes).
 *
 * @module
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { BodyTooLargeError, InvalidCompressionError, MalformedBodyError, UnsupportedEncodingError } from './errors.ts';

export type BodyEncoding = 'gzip' | 'deflate';

const ENCODINGS: ReadonlyMap<string, BodyEncoding> = new Map([['gzip', 'gzip'], ['x-gzip', 'gzip'], ['deflate', 'deflate']]);

/**
 * The body as the parsers should read it: `raw` itself when it is not
 * compressed, else a stream of its decoded bytes. Any other encoding is
 * refused before a byte of the body is read.
 */
export function decodeContent(raw: Readable, contentEncoding: string | undefined, limit: number): Readable {
  const name = contentEncoding?.trim().toLowerCase() ?? '';
  if (name === '' || name === 'identity') return raw;
  const encoding = ENCODINGS.get(name);
  if (encoding === undefined) throw new UnsupportedEncodingError(printable(name));
  return decodedBody(raw, encoding, limit);
}

/** Header text safe to quote in a message: printable ASCII, and short. */
export function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 64)}...` : clean;
}

/**
 * Decoded bytes, at most `limit` of them. `receivedEncodedLength` is the
 * name Fastify reads to check the bytes that arrived against Content-Length
 * (and against the body limit too).
 */
class DecodedBody extends Transform {
  receivedEncodedLength = 0;
  #decoded = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#decoded += chunk.length;
    if (this.#decoded > this.limit) callback(new BodyTooLargeError(this.limit, true));
    else callback(null, chunk);
  }
}

/**
 * Pipes `raw` through a decompressor into a bounded stream. Errors reach the
 * reader as typed errors (a corrupt stream, a body over the limit before or
 * after decoding); on any of them the decompressor is destroyed and `raw` is
 * left unread, so no more work is done for a body that is refused.
 */
export function decodedBody(raw: Readable, encoding: BodyEncoding, limit: number): Readable {
  const inflate = encoding === 'gzip' ? createGunzip() : createInflate();
  const body = new DecodedBody(limit);
  const countEncoded = (chunk: Buffer) => {
    body.receivedEncodedLength += chunk.length;
    if (body.receivedEncodedLength > limit) body.destroy(new BodyTooLargeError(limit));
  };
  const aborted = () => {
    if (!raw.readableEnded) body.destroy(new MalformedBodyError('The request ended before its body arrived in full.'));
  };
  body.once('close', () => {
    raw.off('data', countEncoded);
    raw.off('close', aborted);
    raw.unpipe(inflate);
    inflate.destroy();
  });
  // Whoever reads the body gets its errors; this listener only keeps an error after the reader has gone from crashing the process.
  body.on('error', () => {});
  inflate.on('error', () => body.destroy(new InvalidCompressionError(encoding)));
  raw.on('data', countEncoded);
  raw.once('close', aborted);
  raw.pipe(inflate).pipe(body);
  return body;
}
