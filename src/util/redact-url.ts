/**
 * Server addresses as they may be printed or logged: the password of a
 * URL's userinfo, a bare token standing in for it (`nats://token@host`),
 * and query parameters named like secrets (`?token=`, `password=`, `key=`)
 * become `***`. The scheme, the user name, the host and the path stay, so a
 * message still says which server and which user it was about.
 *
 * Redaction works on the text, not on a parsed URL: it must also cover
 * addresses that do not parse (they are the ones error messages echo), and
 * keep the rest exactly as the user wrote it. The userinfo is taken to end
 * at the address's last `@`, wherever it is: a raw `/`, `?` or `#` in a
 * password makes a URL that parses with the secret in its path, query or
 * fragment, and a server's address has no other `@`. Hiding too much beats
 * showing a secret.
 *
 * @module
 */

const MASK = '***';
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** Query and fragment parameters whose values are secrets by their names. */
const SECRET_PARAMETER = /token|pass|pwd|secret|key|auth|credential|signature/i;
const PARAMETER = /([?&#;])([^=&#;?]*)=([^&#;]*)/g;
/**
 * A URL inside free text: from its scheme to the next space. Not to a quote:
 * a password may hold one raw, and a closing quote taken in changes nothing.
 */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/\S*/gi;
/** Where one URL of a list in free text ends: a comma before the next scheme. */
const NEXT_URL = /,(?=\s*[a-z][a-z0-9+.-]*:\/\/)/i;

/**
 * One server address (a URL, or `user:pw@host:port` without a scheme) with
 * its secrets masked.
 *
 * @example
 * ```ts
 * redactUrl('http://ada:s3cret@db.example:7070/');    // 'http://ada:***@db.example:7070/'
 * redactUrl('nats://t0ken@10.0.0.1:4222');             // 'nats://***@10.0.0.1:4222'
 * redactUrl('https://host/v1/status?token=abc&x=1');   // 'https://host/v1/status?token=***&x=1'
 * ```
 */
export function redactUrl(text: string): string {
  const scheme = SCHEME.exec(text)?.[0] ?? '';
  return scheme + redactParameters(redactUserinfo(text.slice(scheme.length)));
}

/**
 * A comma-separated list of addresses (as `--nats` takes them), each
 * redacted by {@link redactUrl}. A comma inside a password must be written
 * `%2C` there, since the list is split on every comma.
 *
 * @example
 * ```ts
 * redactUrlList('nats://u:pw@n1:4222,t0ken@n2:4222');   // 'nats://u:***@n1:4222,***@n2:4222'
 * ```
 */
export function redactUrlList(text: string): string {
  return text.split(',').map((item) => item.replace(/\S[^]*/, redactUrl)).join(',');
}

/**
 * Every URL with a scheme inside free text (an error message, a stack)
 * redacted. A list inside the text is split only before a scheme, so a raw
 * comma in a password hides more of the text rather than less.
 *
 * @example
 * ```ts
 * redactUrlsInText('Could not connect to nats://u:pw@n1:4222: connection refused.');
 * // 'Could not connect to nats://u:***@n1:4222: connection refused.'
 * ```
 */
export function redactUrlsInText(text: string): string {
  return text.replace(URL_IN_TEXT, (found) => found.split(NEXT_URL).map(redactUrl).join(','));
}

/**
 * A copy of a plain value (an error serialized for a log line) with
 * {@link redactUrlsInText} applied to every string in it. Only arrays and
 * plain objects are walked, a few levels deep: a class instance (a
 * connection an error points to) is left as it is, and a cycle ends.
 *
 * @example
 * ```ts
 * redactUrlsDeep({ message: 'no server at nats://u:pw@n1', servers: ['nats://u:pw@n1'] });
 * // { message: 'no server at nats://u:***@n1', servers: ['nats://u:***@n1'] }
 * ```
 */
export function redactUrlsDeep<T>(value: T, depth = 4): T {
  if (typeof value === 'string') return redactUrlsInText(value) as T;
  if (depth === 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item: unknown) => redactUrlsDeep(item, depth - 1)) as T;
  if (value.constructor !== Object && value.constructor !== undefined) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactUrlsDeep(v, depth - 1)])) as T;
}

/**
 * `rest` is the address after its scheme; its userinfo, up to the last `@`,
 * is masked. The user name is what comes before the first colon, as the
 * URL parser reads it; a userinfo without one is a bare token.
 */
function redactUserinfo(rest: string): string {
  const at = rest.lastIndexOf('@');
  if (at < 0) return rest;
  const colon = rest.slice(0, at).indexOf(':');
  return `${colon < 0 ? '' : rest.slice(0, colon + 1)}${MASK}${rest.slice(at)}`;
}

function redactParameters(rest: string): string {
  return rest.replace(PARAMETER, (whole, separator: string, name: string) =>
    (SECRET_PARAMETER.test(decodeName(name)) ? `${separator}${name}=${MASK}` : whole));
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    return name;
  }
}
