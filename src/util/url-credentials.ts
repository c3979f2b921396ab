/**
 * A user and password written into a server's URL (`http://ada:pw@host/`),
 * moved into an `Authorization: Basic` header. `fetch` refuses a URL that
 * holds credentials, yet someone who writes one expects them sent, as curl
 * and browsers do; and a URL without them can be printed as it is.
 *
 * @module
 */

/**
 * A URL split into the address to request and the header its credentials make.
 *
 * @example
 * ```ts
 * const { url, authorization } = takeCredentials(new URL('http://ada:pw@host/'));
 * url.href;        // 'http://host/'
 * authorization;   // 'Basic YWRhOnB3'
 * ```
 */
export interface UrlCredentials {
  /** The URL without user and password. */
  readonly url: URL;
  /** `Basic` and the base64 of `user:password` (UTF-8), or undefined when the URL held neither. */
  readonly authorization?: string;
}

/**
 * Takes the user and password out of `url`, decoding their percent-escapes
 * as RFC 7617 expects the header's text to be the plain `user:password`.
 *
 * @example
 * ```ts
 * takeCredentials(new URL('https://host:7070/')).authorization;   // undefined
 * ```
 */
export function takeCredentials(url: URL): UrlCredentials {
  if (url.username === '' && url.password === '') return { url };
  const userPass = `${decode(url.username)}:${decode(url.password)}`;
  const bare = new URL(url.href);
  bare.username = '';
  bare.password = '';
  return { url: bare, authorization: `Basic ${base64(userPass)}` };
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    // A lone `%` the parser let through stays as it was written.
    return component;
  }
}

/** UTF-8 bytes in base64, with what both Node and browsers have (the client runs in either). */
function base64(text: string): string {
  return btoa(Array.from(new TextEncoder().encode(text), (byte) => String.fromCharCode(byte)).join(''));
}
