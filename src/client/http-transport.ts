/**
 * One request to the server, with temporary refusals waited out: a 503 or
 * 507 (or a proxy's 429) that carries `Retry-After` is sent again after the
 * wait it asks for, until the call's wait budget would be passed. Every
 * other error answer becomes a typed error.
 *
 * @module
 */
import { redactUrl } from '../util/redact-url.ts';
import { takeCredentials } from '../util/url-credentials.ts';
import { ServerUnreachableError, TandemHttpError } from './client-errors.ts';
import { DEFAULT_MAX_WAIT_MS, type ClientOptions, type RetryOptions } from './client-options.ts';
import { errorFromAnswer, readErrorAnswer, type RequestContext } from './error-from-answer.ts';
import { MIN_WAIT_MS, RETRYABLE_STATUSES, retryAfterMs, sleep } from './retry-after.ts';

/**
 * One call to the API.
 *
 * @example
 * ```ts
 * const request: ApiRequest = { method: 'POST', path: 'v1/query', body: { mediaType: 'application/json', text: '{"view":"v"}' }, context: { query: { view: 'v' } } };
 * ```
 */
export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to the base URL, without a leading slash: `v1/query`. */
  readonly path: string;
  /** Text, or a stream (a file upload), which is sent once: a refusal of it is thrown, never waited out and sent again. */
  readonly body?: { readonly mediaType: 'application/json' | 'application/x-ndjson'; readonly text: string } | { readonly mediaType: string; readonly stream: ReadableStream<Uint8Array> };
  /** What was asked, to fill in the fields of an error. */
  readonly context?: RequestContext;
}

/**
 * Sends API requests to one server with `fetch`. A user and password in the
 * URL go in an `Authorization: Basic` header (`fetch` refuses a URL holding
 * them), and out of {@link HttpTransport.baseUrl} and every error.
 *
 * @example
 * ```ts
 * const transport = new HttpTransport({ url: 'http://127.0.0.1:7070', apiKey });
 * const status = await transport.send<ServerStatus>({ method: 'GET', path: 'v1/status' });
 * ```
 */
export class HttpTransport {
  /** The base URL, ending in `/`, without user and password. */
  readonly baseUrl: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #fetch: typeof fetch;
  readonly #retry: RetryOptions | false;

  constructor(options: ClientOptions) {
    const { url: base, authorization } = takeCredentials(parseUrl(options.url));
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.baseUrl = base.href;
    this.#headers = {
      accept: 'application/json',
      ...credentialHeader(authorization, options),
      ...options.headers,
      ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
    };
    // Looked up per call, not bound now: a fetch patched after the client was made (a test's mock) is used.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#retry = options.retry ?? {};
  }

  /** Sends the request, waiting out temporary refusals, and returns the parsed JSON answer. */
  async send<T>(request: ApiRequest, signal?: AbortSignal): Promise<T> {
    let waited = 0;
    for (let attempt = 1; ; attempt++) {
      const { status, headers, text } = await this.#exchange(request, signal);
      if (status >= 200 && status < 300) return this.#parse<T>(status, text);
      const answer = readErrorAnswer(status, text);
      const waitMs = request.body !== undefined && 'stream' in request.body ? undefined : this.#waitFor(status, headers, waited);
      if (waitMs === undefined) throw errorFromAnswer(status, answer, request.context);
      if (this.#retry !== false) this.#retry.onRetry?.({ status, code: answer.code, waitMs, attempt });
      await sleep(waitMs, signal);
      waited += waitMs;
    }
  }

  async #exchange(request: ApiRequest, signal: AbortSignal | undefined): Promise<{ status: number; headers: Headers; text: string }> {
    const headers: Record<string, string> = { ...this.#headers };
    if (request.body !== undefined) headers['content-type'] = request.body.mediaType;
    try {
      const body = request.body === undefined ? undefined : 'stream' in request.body ? request.body.stream : request.body.text;
      // `duplex` lets fetch send a stream as it reads it; Node's types for RequestInit do not name it yet.
      const init = { method: request.method, headers, body, signal, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit;
      const response = await this.#fetch(new URL(request.path, this.baseUrl), init);
      return { status: response.status, headers: response.headers, text: await response.text() };
    } catch (error) {
      // The caller's abort is the caller's to see as it is.
      if (signal?.aborted) throw signal.reason;
      throw new ServerUnreachableError(this.baseUrl, error);
    }
  }

  #parse<T>(status: number, text: string): T {
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new TandemHttpError('unexpected_answer', status, `The server answered ${status} with a body that is not JSON: ${text.trim().slice(0, 200)}`);
    }
  }

  /** How long to wait before sending again, or undefined to give up now. */
  #waitFor(status: number, headers: Headers, waited: number): number | undefined {
    if (this.#retry === false || !RETRYABLE_STATUSES.has(status)) return undefined;
    const asked = retryAfterMs(headers.get('retry-after'));
    if (asked === undefined) return undefined;
    const waitMs = Math.max(asked, MIN_WAIT_MS);
    return waited + waitMs > (this.#retry.maxWaitMs ?? DEFAULT_MAX_WAIT_MS) ? undefined : waitMs;
  }
}

/** The server's URL; Node's own error would carry the text, password and all, in its `input`. */
function parseUrl(url: string | URL): URL {
  try {
    return new URL(url);
  } catch {
    throw new TypeError(`url must be an absolute URL such as http://127.0.0.1:7070, not '${redactUrl(String(url))}'.`);
  }
}

/**
 * The URL's credentials as a header, refused beside an API key or an
 * `authorization` header of the caller's: a request carries one, and
 * sending either silently would hide that the other was dropped.
 */
function credentialHeader(authorization: string | undefined, options: ClientOptions): Record<string, string> {
  if (authorization === undefined) return {};
  const header = Object.keys(options.headers ?? {}).some((name) => name.toLowerCase() === 'authorization');
  if (options.apiKey !== undefined || header) {
    throw new TypeError('The url holds a user and password, sent as Basic auth, and an API key or authorization header is given as well; a request has one Authorization header, so drop one of them.');
  }
  return { authorization };
}
