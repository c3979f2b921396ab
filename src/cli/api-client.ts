/**
 * The CLI's client for a running server. Network failures and error answers
 * become one-line {@link CliError}s carrying the server's own message.
 *
 * @module
 */
import { CliError } from './cli-error.ts';
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
  const wrong = () => new CliError(`--url (or ${URL_VARIABLE}) must be a server address such as http://127.0.0.1:7070 or 127.0.0.1:7070, not '${text}'.`);
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw wrong();
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`--url (or ${URL_VARIABLE}) must use http or https, not ${url.protocol.slice(0, -1)}: '${text}'.`);
  }
  if (url.hostname === '') throw wrong();
  return url.href;
}

export class ApiClient {
  readonly baseUrl: string;

  /** `baseUrl` is read by {@link serverUrl}; `apiKey` is sent as a bearer token when the server requires keys. */
  constructor(baseUrl: string, private readonly apiKey?: string) {
    this.baseUrl = serverUrl(baseUrl);
  }

  get<T>(path: string): Promise<T> {
    return this.#request<T>(path, { method: 'GET' });
  }

  postJson<T>(path: string, body: unknown): Promise<T> {
    return this.#request<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  postNdjson<T>(path: string, lines: string): Promise<T> {
    return this.#request<T>(path, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines });
  }

  async #request<T>(path: string, init: RequestInit): Promise<T> {
    const url = new URL(path, this.baseUrl);
    const headers = new Headers(init.headers);
    if (this.apiKey !== undefined) headers.set('authorization', `Bearer ${this.apiKey}`);
    let response: Response;
    try {
      response = await fetch(url, { ...init, headers });
    } catch (error) {
      throw networkError(this.baseUrl, error);
    }
    const text = await response.text();
    if (response.status === 401) throw new CliError(`The server at ${this.baseUrl} needs a valid API key; pass one with --api-key or TANDEM_API_KEY.`);
    const retryAfter = Number(response.headers.get('retry-after'));
    if ((response.status === 503 || response.status === 507) && retryAfter > 0) throw new TemporaryFailure(`The server answered ${response.status}: ${serverMessage(text)}`, retryAfter * 1000);
    if (!response.ok) throw new CliError(`The server answered ${response.status}: ${serverMessage(text)}`);
    return JSON.parse(text) as T;
  }
}

function networkError(baseUrl: string, error: unknown): CliError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED' || cause?.code === 'ENOTFOUND' || cause?.code === 'EHOSTUNREACH') {
    return new CliError(`Cannot reach a Tandem server at ${baseUrl}; start one with 'tandem serve' or pass --url.`);
  }
  const reason = cause?.message ?? (error as Error).message;
  return new CliError(`The request to ${baseUrl} failed: ${reason.replace(/\.$/, '')}.`);
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
