/**
 * A server without API keys on a loopback address trusts whoever reaches it,
 * meaning this machine's programs. Web pages reach it too, through the
 * operator's browser: a page of another site can post to it (a request
 * forgery), and a page whose host name the attacker re-points at 127.0.0.1
 * (DNS rebinding) can even read its answers. So such a server answers only
 * requests whose Host names this machine (421 otherwise) and, when a browser
 * says which page sent a request (Origin), only pages of this machine (403).
 *
 * Servers with keys are protected by their keys; a keyless server bound
 * beyond loopback was exposed on purpose (`--allow-unauthenticated`).
 *
 * @module
 */
import { BlockList, isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CrossOriginError, HostNotAllowedError } from './errors.ts';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether an IP address, in any of its spellings (IPv6 with or without brackets, IPv4-mapped), is a loopback address. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const version = isIP(bare);
  return version !== 0 && LOOPBACK.check(bare, version === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Whether a host name names this machine: `localhost` or a loopback address.
 * Names under `.localhost` are not taken: only some browsers and resolvers
 * keep them off DNS, where an attacker on the network could answer for them.
 */
export function isLoopbackName(hostname: string): boolean {
  return hostname.toLowerCase() === 'localhost' || isLoopbackAddress(hostname);
}

const HOST = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::\d{1,5})?$/i;

/** A Host header naming this machine, with or without a port; none at all (HTTP/1.0, never a browser) is taken too. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const name = HOST.exec(host)?.[1];
  return name !== undefined && isLoopbackName(name);
}

/** An Origin header of a page on this machine; `null` (a sandboxed or local-file page) is not one. */
export function isLoopbackOrigin(origin: string): boolean {
  if (!URL.canParse(origin)) return false;
  const url = new URL(origin);
  return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackName(url.hostname);
}

/**
 * Checks Host and Origin on every request while the server has no keys and
 * listens on loopback, or does not listen at all (`app.inject`, which only
 * this process can call). What it listens on is read from the socket once.
 */
export function registerLoopbackGuard(app: FastifyInstance, onDenied: (reason: 'host' | 'origin') => void): void {
  let guarding: boolean | undefined;
  const active = () => {
    if (guarding !== undefined) return guarding;
    const address = app.server.address();
    if (address === null) return true;
    // A Unix socket is out of a browser's reach.
    guarding = typeof address === 'object' && isLoopbackAddress(address.address);
    return guarding;
  };
  app.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
    if (!active()) return done();
    if (!isLoopbackHost(request.headers.host)) {
      onDenied('host');
      return done(new HostNotAllowedError());
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !isLoopbackOrigin(origin)) {
      onDenied('origin');
      return done(new CrossOriginError());
    }
    done();
  });
}
