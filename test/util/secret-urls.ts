/**
 * Server addresses holding a secret, for the redaction properties. Every
 * secret holds `Q` or `Z` and nothing else does (user names, hosts and
 * paths are lower case; percent-escapes are hex), so any text that shows a
 * `Q` or a `Z` shows part of a secret, however little.
 */
import fc from 'fast-check';

/** Characters a password may hold beyond the markers: those URLs must escape, and some they may not hold raw. */
const SPECIAL = ['@', ':', '/', '?', '#', '%', ' ', ',', '&', '=', ';', '+', '\\', "'", '"', 'é', '😀', 'a', '7'];

/** A password or token: the markers at both ends and throughout. */
export const secret = fc.array(fc.constantFrom('Q', 'Z', ...SPECIAL), { maxLength: 20 }).map((units) => `Z${units.join('')}Q`);

/** A user name, percent-encoded as a URL holds it (it may need escapes too). */
export const userName = fc.array(fc.constantFrom('a', 'd', 'm', '0', '.', '_', '-', '@', ':', 'é', ' '), { minLength: 1, maxLength: 10 })
  .map((units) => encodeURIComponent(units.join('')));

export const scheme = fc.constantFrom('http://', 'https://', 'nats://', 'tls://', 'ws://');
export const host = fc.constantFrom('127.0.0.1:4222', 'db.example', '[::1]:7070', 'node-1.internal:80', 'localhost');
export const path = fc.constantFrom('', '/', '/v1/status', '/tandem/?view=v&x=1');
const SECRET_PARAMETERS = ['token', 'password', 'key', 'access_token', 'apiKey', 'api_key', 'secret', 'auth'];

/** Whether text shows any part of a secret made by {@link secret}. */
export function showsSecret(text: string): boolean {
  return /[QZ]/.test(text);
}

/**
 * How a secret is written into an address. `raw` leaves characters a URL
 * should escape as they are: users do type `http://ada:p@ss:w@host`.
 */
export type Writing = 'encoded' | 'raw';

/** A raw secret stays one piece of its address only if it holds none of `forbidden`. */
export function writes(text: string, writing: Writing, forbidden: readonly string[] = []): string | undefined {
  if (writing === 'encoded') return encodeURIComponent(text);
  return forbidden.some((c) => text.includes(c)) ? undefined : text;
}

/** An address with a secret in it, and the user name it must keep (when it has one). */
export interface SecretUrl {
  readonly url: string;
  readonly user?: string;
}

export interface SecretUrlOptions {
  /** Characters a raw secret may not hold in the context under test (a list's comma, a sentence's space). */
  readonly forbiddenRaw?: readonly string[];
  readonly schemes?: fc.Arbitrary<string>;
  readonly hosts?: fc.Arbitrary<string>;
}

/** An address with a password, a bare token or a secret query parameter. */
export function secretUrl({ forbiddenRaw = [], schemes = scheme, hosts = host }: SecretUrlOptions = {}): fc.Arbitrary<SecretUrl> {
  const writing = fc.constantFrom<Writing>('encoded', 'raw');
  const password = fc.tuple(schemes, userName, secret, writing, hosts, path).map(([s, user, pw, w, h, p]): SecretUrl | undefined => {
    const written = writes(pw, w, forbiddenRaw);
    return written === undefined ? undefined : { url: `${s}${user}:${written}@${h}${p}`, user };
  });
  // A bare token has no user name before a colon, so a raw one cannot hold a colon.
  const token = fc.tuple(schemes, secret, writing, hosts, path).map(([s, t, w, h, p]): SecretUrl | undefined => {
    const written = writes(t, w, [...forbiddenRaw, ':']);
    return written === undefined ? undefined : { url: `${s}${written}@${h}${p}` };
  });
  const parameter = fc.tuple(schemes, hosts, fc.constantFrom(...SECRET_PARAMETERS), secret, fc.constantFrom('?', '?x=1&', '#'))
    .map(([s, h, name, value, before]): SecretUrl => ({ url: `${s}${h}/v1/status${before}${name}=${encodeURIComponent(value)}` }));
  return fc.oneof(password, token, parameter).filter((u): u is SecretUrl => u !== undefined);
}
