/**
 * What a request body may be: the media types each route declares, in UTF-8,
 * plain or compressed with gzip or deflate. The headers are checked before
 * any of the body is read, so a refused body costs nothing.
 *
 * Only `application/x-ndjson` and `application/json` are taken. A web page
 * can send `text/plain`, form and multipart bodies to any site without the
 * browser asking that site first (no CORS preflight), so taking them would
 * let any page the operator opens write events to a server without keys.
 *
 * Bodies are read as bytes, never decoded lossily: a byte that is not UTF-8
 * would become U+FFFD, and two different idempotency keys would become one.
 *
 * @module
 */
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeContent, printable } from './content-encoding.ts';
import { InvalidUtf8Error, UnsupportedCharsetError, UnsupportedMediaTypeError } from './errors.ts';

/** A body format a route takes. */
export type BodyMediaType = 'ndjson' | 'json';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The media types of the route's body; a route without it reads no body. */
    accepts?: readonly BodyMediaType[];
  }
}

const MEDIA_TYPES: ReadonlyMap<string, BodyMediaType> = new Map([['application/x-ndjson', 'ndjson'], ['application/json', 'json']]);
const UTF8_NAMES: ReadonlySet<string> = new Set(['utf-8', 'utf8']);

/** Replaces Fastify's parsers (which include text/plain and decode lossily) with strict ones, and checks every body's headers. */
export function registerBodyParsers(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    if (!isUtf8(body as Buffer)) return done(new InvalidUtf8Error(), undefined);
    return parseJson(request, body.toString('utf8'), done);
  });
  // NDJSON stays bytes here: events-body.ts splits it into lines and rejects a line that is not UTF-8 alone.
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
  app.addHook('preParsing', async (request, _reply, payload) => checkBody(request, payload, bodyLimit));
}

/**
 * Refuses a body the route does not take (415): a media type it does not
 * declare, a body without a Content-Type, a charset other than UTF-8, or an
 * encoding other than gzip and deflate. Returns the stream to parse.
 */
export function checkBody(request: FastifyRequest, payload: Readable, bodyLimit: number): Readable {
  const accepts = request.routeOptions.config.accepts;
  if (accepts === undefined) return payload;
  const { headers } = request;
  const hasBody = headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
  const contentType = headers['content-type'];
  if (contentType === undefined) {
    if (hasBody) throw new UnsupportedMediaTypeError(undefined, wanted(accepts));
    return payload;
  }
  const { mediaType, charset } = parseContentType(contentType);
  const format = MEDIA_TYPES.get(mediaType);
  if (format === undefined || !accepts.includes(format)) throw new UnsupportedMediaTypeError(printable(mediaType), wanted(accepts));
  if (charset !== undefined) throw new UnsupportedCharsetError(printable(charset));
  return hasBody ? decodeContent(payload, headers['content-encoding'], bodyLimit) : payload;
}

function wanted(accepts: readonly BodyMediaType[]): string {
  return accepts.includes('ndjson')
    ? 'events as application/x-ndjson (one JSON event per line) or application/json (an array)'
    : 'a JSON body as application/json';
}

/** The media type, lower-cased, and the first charset parameter that is not UTF-8, if any. */
export function parseContentType(header: string): { readonly mediaType: string; readonly charset: string | undefined } {
  const semicolon = header.indexOf(';');
  if (semicolon === -1) return { mediaType: header.trim().toLowerCase(), charset: undefined };
  let charset: string | undefined;
  for (const parameter of header.slice(semicolon + 1).split(';')) {
    const equals = parameter.indexOf('=');
    if (equals === -1 || parameter.slice(0, equals).trim().toLowerCase() !== 'charset') continue;
    const value = parameter.slice(equals + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (!UTF8_NAMES.has(value)) charset ??= value;
  }
  return { mediaType: header.slice(0, semicolon).trim().toLowerCase(), charset };
}
