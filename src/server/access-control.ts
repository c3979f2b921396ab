/**
 * API keys and scopes. Each route declares the scope it needs in its Fastify
 * route config (`{ config: { scope: 'ingest' } }`); routes without one (the
 * dashboard's static files, `/healthz`) are public. With no
 * keys configured every route is open, which is why the CLI refuses to bind
 * a keyless server to a non-loopback address.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { keyDigest, type ApiKey, type ApiScope } from '../definitions/index.ts';
import { ForbiddenError, UnauthorizedError } from './errors.ts';

/** `any`: any valid key, whatever its scopes (e.g. reading the view definitions). */
export type RouteScope = ApiScope | 'any';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a request's API key needs for this route; absent for public routes. */
    scope?: RouteScope;
  }
}

const WHAT_SCOPE_ALLOWS: Readonly<Record<ApiScope, string>> = {
  ingest: 'send events',
  query: 'query views',
  admin: 'run batches or read status and metrics',
};

export class AccessControl {
  constructor(private readonly keys: readonly ApiKey[]) {}

  /** Whether any key is configured; without keys nothing is checked. */
  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /**
   * The key presented in an `Authorization: Bearer` header. Every configured
   * digest is compared, matched or not, so the time taken says nothing about
   * which key came close.
   */
  identify(authorization: string | undefined): ApiKey {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (token === undefined) throw new UnauthorizedError('This server needs an API key: send it as the header "Authorization: Bearer <key>".');
    const digest = keyDigest(token);
    let found: ApiKey | undefined;
    for (const key of this.keys) if (timingSafeEqual(digest, key.digest)) found ??= key;
    if (found === undefined) throw new UnauthorizedError('The API key is not valid for this server.');
    return found;
  }

  /** Throws unless the request's key may use a route that needs `scope`. */
  check(request: FastifyRequest, scope: RouteScope): void {
    const key = this.identify(request.headers.authorization);
    if (scope === 'any' || key.scopes.has(scope)) return;
    throw new ForbiddenError(scope, `This API key may not ${WHAT_SCOPE_ALLOWS[scope]}; that needs a key with the '${scope}' scope.`);
  }

  /** Checks every request against its route's declared scope, before the body is read. */
  register(app: FastifyInstance, onDenied: (reason: 'unauthorized' | 'forbidden') => void): void {
    if (!this.enabled) return;
    app.addHook('onRequest', async (request) => {
      const scope = request.routeOptions.config.scope;
      if (scope === undefined) return;
      try {
        this.check(request, scope);
      } catch (error) {
        onDenied(error instanceof ForbiddenError ? 'forbidden' : 'unauthorized');
        throw error;
      }
    });
  }
}
