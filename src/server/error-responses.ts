/**
 * A route's error answers, as its schema's `response` entries: the codes it
 * may answer with, grouped by the status http-errors.ts gives each code. Each
 * answer is the shared `Error` schema with `code` narrowed to that group, so
 * a client generated from `/openapi.json` knows which codes to expect where.
 *
 * @module
 */
import { RETRY_AFTER, STATUS_BY_CODE } from './http-errors.ts';

/** The codes http-errors.ts answers with that no TandemError carries: Fastify's own refusals, and the catch-all. */
const OTHER_STATUS: Readonly<Record<string, number>> = { bad_request: 400, url_too_long: 414, internal: 500 };

/** What a status means when the route says nothing more specific. */
const MEANING: Readonly<Record<number, string>> = {
  400: 'The request is malformed, or names something this server does not have.',
  401: 'No API key, or one this server does not know; see WWW-Authenticate.',
  403: 'Refused.',
  404: 'Not found.',
  409: 'The request conflicts with what another node is doing.',
  413: 'The body, counted decompressed, is larger than the configured limit.',
  414: 'A name in the URL is too long.',
  415: 'A media type, a charset other than UTF-8, or a Content-Encoding other than gzip and deflate.',
  421: 'A server without keys on a loopback address answers only requests addressed to localhost, 127.0.0.1 or [::1].',
  500: 'The server failed to handle the request; its log has the detail.',
  502: 'Another node this server asked to do the work failed it, or answered with something this server could not read.',
  503: 'The server cannot answer now; retry later.',
  507: "The server's disk is full, so nothing was written; retry once space has been freed.",
};

/** A sentence per status that says more, on one route, than the status's own meaning. */
export type ErrorNotes = Readonly<Partial<Record<number, string>>>;

/** One `response` entry of a route schema. */
export interface ErrorResponse {
  readonly description: string;
  readonly headers?: Readonly<Record<string, object>>;
  readonly content: { readonly 'application/json': { readonly schema: object } };
}

/**
 * The status a code answers with, as http-errors.ts maps it.
 *
 * @example
 * ```ts
 * statusOf('batch_lease_held');   // 409
 * ```
 */
export function statusOf(code: string): number {
  const status = STATUS_BY_CODE[code] ?? OTHER_STATUS[code];
  // A misspelt code would document an answer the server never gives: refuse it when the server is built.
  if (status === undefined) throw new TypeError(`'${code}' is not an error code http-errors.ts maps to a status.`);
  return status;
}

/**
 * The error answers for `codes`, keyed by status.
 *
 * @example
 * ```ts
 * errorResponses(['disk_full', 'log_overloaded'], { 503: 'The log cannot accept writes now.' });
 * // { 503: { description, headers: { 'retry-after': … }, content: … }, 507: { … } }
 * ```
 */
export function errorResponses(codes: readonly string[], notes: ErrorNotes = {}): Record<number, ErrorResponse> {
  const byStatus = new Map<number, string[]>();
  for (const code of new Set(codes)) {
    const status = statusOf(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, group]) => [status, errorResponse(status, group, notes[status])]));
}

function errorResponse(status: number, codes: readonly string[], note: string | undefined): ErrorResponse {
  const headers = { ...retryAfter(codes), ...(status === 401 ? WWW_AUTHENTICATE : {}) };
  return {
    description: `${note ?? MEANING[status] ?? 'Refused.'} Codes: ${codes.map((c) => `\`${c}\``).join(', ')}.`,
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
    content: { 'application/json': { schema: { allOf: [{ $ref: 'Error#' }, codeIn(codes)] } } },
  };
}

/** Narrows the shared Error schema's `code` to the codes of one answer. */
function codeIn(codes: readonly string[]): object {
  return { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: codes } } } } };
}

function retryAfter(codes: readonly string[]): Record<string, object> {
  const waits = codes.filter((c) => RETRY_AFTER[c] !== undefined);
  if (waits.length === 0) return {};
  const always = waits.length === codes.length;
  const description = `Seconds to wait before retrying${always ? '' : `; sent with ${waits.map((c) => `\`${c}\``).join(', ')}`}.`;
  return { 'retry-after': { type: 'integer', minimum: 0, description } };
}

const WWW_AUTHENTICATE = { 'www-authenticate': { type: 'string', description: 'Bearer realm="tandem".' } };
