/**
 * Credentials written into NATS server URLs (`nats://user:pw@host:4222`, or a
 * bare token as in `nats://s3cret@host:4222`), turned into the connect
 * options that send them. nats.js keeps only the host and port of each
 * server URL, so without this a user's credentials were silently dropped
 * and the server answered "Authorization Violation".
 *
 * @module
 */
import { InvalidClusterOptionError } from './errors.ts';

/** Server addresses without credentials, and the credentials to connect with. */
export interface NatsCredentials {
  readonly servers: readonly string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
}

/**
 * Moves the user and password (or bare token) out of `servers`. Every URL
 * that carries credentials must carry the same, since one connection
 * authenticates once; a URL without any uses those of the others.
 *
 * @example
 * ```ts
 * natsCredentials(['nats://ada:pw@n1:4222', 'nats://n2:4222']);
 * // { servers: ['nats://n1:4222', 'nats://n2:4222'], user: 'ada', pass: 'pw' }
 * ```
 */
export function natsCredentials(servers: readonly string[]): NatsCredentials {
  let found: { user?: string; pass?: string; token?: string } | undefined;
  let foundKey: string | undefined;
  const bare = servers.map((server, index) => {
    const url = parse(server);
    if (url === undefined || (url.username === '' && url.password === '')) return server;
    const user = decode(url.username);
    const credentials = url.password === '' ? { token: user } : { user, pass: decode(url.password) };
    const key = JSON.stringify(credentials);
    if (foundKey !== undefined && foundKey !== key) {
      throw new InvalidClusterOptionError('servers', `NATS server ${index + 1} carries other credentials than an earlier one; give every server the same user and password (or token), since a node connects with one.`);
    }
    found = credentials;
    foundKey = key;
    url.username = '';
    url.password = '';
    return url.href.replace(/\/$/, '');
  });
  return { servers: bare, ...found };
}

/** A URL with a scheme NATS accepts (host:port alone has none, and no credentials). */
function parse(server: string): URL | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(server)) return undefined;
  try {
    return new URL(server);
  } catch {
    return undefined;
  }
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}
