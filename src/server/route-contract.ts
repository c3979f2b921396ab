/**
 * A route's contract, written once: the scope its key needs, the media types
 * of its body, its parameters, body and answers. {@link routeOptions} turns it
 * into the Fastify route options the server declares the route with, whose
 * `config` access control and the body checks read, and whose `schema`
 * `@fastify/swagger` reads into `/openapi.json`; so the document cannot say
 * other than the route does.
 *
 * The answers every route of a kind shares are added here, from the same
 * facts the server acts on: 401/403 from the scope (or 421/403 from the
 * loopback guard of a server without keys), 400/413/415 from the body's media
 * types, 503 `shutting_down` and 500 for every route.
 *
 * @module
 */
import type { FastifySchema, RouteShorthandOptions } from 'fastify';
import type { RouteScope } from './access-control.ts';
import { errorResponses, type ErrorNotes } from './error-responses.ts';
import type { BodyMediaType } from './media-types.ts';

/**
 * What a route takes and answers.
 *
 * @example
 * ```ts
 * const health: RouteContract = { operationId: 'health', summary: 'Liveness.', answer: { description: 'The server is up.', type: 'object' } };
 * ```
 */
export interface RouteContract {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  /** The scope a request's key needs; absent for a public route. */
  readonly scope?: RouteScope;
  /** The media types of the body; absent for a route that reads none. */
  readonly accepts?: readonly BodyMediaType[];
  readonly params?: object;
  /** The query string's parameters, as a JSON Schema of an object. */
  readonly querystring?: object;
  /** A JSON Schema, or `{ content: { <media type>: { schema } } }` for a body of several media types. */
  readonly body?: object;
  /** The body may be left out (it is required when given). */
  readonly bodyOptional?: boolean;
  /** The 200 answer: a JSON Schema with a `description`, or `{ description, content }`. */
  readonly answer: object;
  /** The error codes of this route's own work; those every route of its kind shares are added. */
  readonly errors?: readonly string[];
  /** Per status, what it means on this route. */
  readonly notes?: ErrorNotes;
}

/** Marks an operation whose body may be left out; openapi.ts turns it into `requestBody.required: false`. */
export const OPTIONAL_BODY = 'x-tandem-optional-body';

const BODY_NOTE = 'The body is UTF-8 (a charset other than utf-8 gets 415) and may be compressed with Content-Encoding gzip or deflate; the body limit counts the decompressed bytes.';

/**
 * The Fastify route options of a contract; `keys` says whether the server requires API keys.
 *
 * @example
 * ```ts
 * app.get('/healthz', routeOptions(health, access.enabled), async () => ({ ok: true }));
 * ```
 */
export function routeOptions(contract: RouteContract, keys: boolean): RouteShorthandOptions {
  const { scope, accepts } = contract;
  return {
    config: { ...(scope === undefined ? {} : { scope }), ...(accepts === undefined ? {} : { accepts }) },
    schema: routeSchema(contract, keys),
  };
}

function routeSchema(contract: RouteContract, keys: boolean): FastifySchema & Record<string, unknown> {
  const { scope, accepts } = contract;
  const description = [contract.description, accepts === undefined ? undefined : BODY_NOTE].filter((d) => d !== undefined).join(' ');
  const errors = [...guardCodes(scope, keys), ...(accepts === undefined ? [] : bodyCodes(accepts)), ...(contract.errors ?? []), 'shutting_down', 'internal'];
  return {
    operationId: contract.operationId,
    summary: contract.summary,
    ...(description === '' ? {} : { description }),
    ...(keys && scope !== undefined ? { security: [{ apiKey: [] }], 'x-tandem-scope': scope } : {}),
    ...(contract.params === undefined ? {} : { params: contract.params }),
    ...(contract.querystring === undefined ? {} : { querystring: contract.querystring }),
    ...(contract.body === undefined ? {} : { body: contract.body }),
    ...(contract.bodyOptional === true ? { [OPTIONAL_BODY]: true } : {}),
    response: { 200: contract.answer, ...errorResponses(errors, { ...guardNotes(scope, keys), ...contract.notes }) },
  };
}

/** What access control answers (with keys), or the loopback guard (without). */
function guardCodes(scope: RouteScope | undefined, keys: boolean): string[] {
  if (!keys) return ['host_not_allowed', 'cross_origin'];
  if (scope === undefined) return [];
  return scope === 'any' ? ['unauthorized'] : ['unauthorized', 'forbidden'];
}

function guardNotes(scope: RouteScope | undefined, keys: boolean): ErrorNotes {
  if (!keys) return { 403: 'A server without keys on a loopback address refuses requests from web pages of other sites (by their Origin).' };
  return scope === undefined || scope === 'any' ? {} : { 403: `The key lacks the '${scope}' scope.` };
}

/** What the body checks and parsers answer (media-types.ts, content-encoding.ts). */
function bodyCodes(accepts: readonly BodyMediaType[]): string[] {
  const codes = ['unsupported_media_type', 'unsupported_charset', 'unsupported_encoding', 'invalid_compression', 'body_too_large', 'malformed_body'];
  // JSON is parsed by Fastify's parser behind a UTF-8 check: `bad_request` is its refusal of JSON that does not parse.
  return accepts.includes('json') ? [...codes, 'invalid_utf8', 'bad_request'] : codes;
}
