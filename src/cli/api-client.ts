/**
 * The CLI's client for a running server. Network failures and error answers
 * become one-line {@link CliError}s carrying the server's own message. A
 * user and password in the URL are sent as Basic auth (for a proxy in
 * front of the server) and never printed.
 *
 * @module
 */
import { redactUrl, redactUrlsInText } from '../util/redact-url.ts';
import { takeCredentials } from '../util/url-credentials.ts';
import { CliError, ServerAnswerError } from './cli-error.ts';
import { TemporaryFailure } from './retry-temporary.ts';

export const DEFAULT_URL = 'http://127.0.0.1:7070';

/** Where a client command's server URL comes from when `--url` is not given. */
export const URL_VARIABLE = 'TANDEM_URL';

/**
 * A server address as users type it: a full URL, or a host and port
 * without a scheme (`127.0.0.1:7181`, `localhost:7070`), taken as http.
 * Anything else is refused with a sentence that says what was expected.
 */
export function serverUrl(text: string): string {
  const trimmed = text.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  // The text is echoed redacted: an address that does not parse may still hold a password.
  const wrong = () => new CliError(`--url (or ${URL_VARIABLE}) must be a server address such as http://127.0.0.1:7070 or 127.0.0.1:7070, not '${redactUrl(text)}'.`);
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw wrong();
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`--url (or ${URL_VARIABLE}) must use http or https, not ${url.protocol.slice(0, -1)}: '${redactUrl(text)}'.`);
  }
  if (url.hostname === '') throw wrong();
  return url.href;
}

/**
 * Requests to one server, with its answers and failures as one-line errors.
 *
 * @example
 * ```ts
 * const client = new ApiClient(process.env.TANDEM_URL ?? DEFAULT_URL, process.env.TANDEM_API_KEY);
 * const status = await client.get<{ logEnd: number }>('/v1/status');
 * ```
 */
export class ApiClient {
  /** The server's URL without user and password: what requests go to. */
  readonly baseUrl: string;
  /** The URL as messages show it: the user name kept, the password masked. */
  readonly #shownUrl: string;
  readonly #authorization: string | undefined;
  readonly #basicAuth: boolean;

  /**
   * `baseUrl` is read by {@link serverUrl}; `apiKey` is sent as a bearer
   * token when the server requires keys, a user and password in the URL as
   * Basic auth. A request has one `Authorization` header, so not both.
   */
  constructor(baseUrl: string, apiKey?: string) {
    const href = serverUrl(baseUrl);
    const { url, authorization } = takeCredentials(new URL(href));
    this.baseUrl = url.href;
    this.#shownUrl = redactUrl(href);
    this.#basicAuth = authorization !== undefined;
    if (this.#basicAuth && apiKey !== undefined) {
      throw new CliError(`--url (or ${URL_VARIABLE}) ${this.#shownUrl} holds a user and password, sent as Basic auth, and an API key is given, sent as a bearer token; a request has one Authorization header, so drop one of them.`);
    }
    this.#authorization = apiKey === undefined ? authorization : `Bearer ${apiKey}`;
  }

  get<T>(path: string): Promise<T> {
    return this.#request<T>(path, { method: 'GET' });
  }

  postJson<T>(path: string, body: unknown): Promise<T> {
    return this.#request<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  putJson<T>(path: string, body: unknown): Promise<T> {
    return this.#request<T>(path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  delete<T>(path: string): Promise<T> {
    return this.#request<T>(path, { method: 'DELETE' });
  }

  postNdjson<T>(path: string, lines: string): Promise<T> {
    return this.#request<T>(path, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines });
  }

  async #request<T>(path: string, init: RequestInit): Promise<T> {
    const url = new URL(path, this.baseUrl);
    const headers = new Headers(init.headers);
    if (this.#authorization !== undefined) headers.set('authorization', this.#authorization);
    let response: Response;
    try {
      response = await fetch(url, { ...init, headers });
    } catch (error) {
      throw networkError(this.#shownUrl, error);
    }
    const text = await response.text();
    if (response.status === 401) throw this.#unauthorized();
    const retryAfter = Number(response.headers.get('retry-after'));
    if ((response.status === 503 || response.status === 507) && retryAfter > 0) throw new TemporaryFailure(`The server answered ${response.status}: ${serverMessage(text)}`, retryAfter * 1000);
    if (!response.ok) throw new ServerAnswerError(response.status, serverCode(text), `The server answered ${response.status}: ${serverMessage(text)}`);
    return JSON.parse(text) as T;
  }

  #unauthorized(): CliError {
    if (this.#basicAuth) return new CliError(`The server at ${this.#shownUrl} refused the user and password in the URL (401).`);
    return new CliError(`The server at ${this.#shownUrl} needs a valid API key; pass one with --api-key or TANDEM_API_KEY.`);
  }
}

/** `shownUrl` is already redacted; undici's own text may hold a URL too, so it is redacted here. */
function networkError(shownUrl: string, error: unknown): CliError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED' || cause?.code === 'ENOTFOUND' || cause?.code === 'EHOSTUNREACH') {
    return new CliError(`Cannot reach a Tandem server at ${shownUrl}; start one with 'tandem serve' or pass --url.`);
  }
  const reason = redactUrlsInText(cause?.message ?? (error as Error).message);
  return new CliError(`The request to ${shownUrl} failed: ${reason.replace(/\.$/, '')}.`);
}

/** The `code` of an error answer (`{ "error": { "code": ... } }`), or undefined when it has none. */
function serverCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

function serverMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: string } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text.slice(0, 200);
}
