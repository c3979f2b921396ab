/**
 * Tandem's routes as a plain Node request handler, for an application on
 * `node:http` (or any framework that hands over `req` and `res`).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type ServerOptions } from './create-server.ts';

/** A `(req, res)` handler over Tandem's routes, and what closes what it opened (not the engine). */
export interface TandemHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

/**
 * Builds Tandem's routes (as {@link createServer} does, under `prefix` if
 * given) and resolves with a handler for an existing Node server: each
 * request it is given is answered by them, 404 `not_found` outside them.
 * Time limits and the most open connections stay the host server's.
 *
 * @example
 * ```ts
 * import { createServer as createHttpServer } from 'node:http';
 * import { createHandler } from 'tandem/server';
 *
 * const handle = await createHandler({ tandem, prefix: '/tandem' });
 * createHttpServer((req, res) => (req.url?.startsWith('/tandem/') ? handle(req, res) : myApp(req, res))).listen(3000);
 * // on shutdown: await tandem.drain(); await handle.close(); await tandem.close();
 * ```
 */
export async function createHandler(options: Omit<ServerOptions, 'connections'>): Promise<TandemHandler> {
  const { app } = createServer(options);
  await app.ready();
  const handle = ((req: IncomingMessage, res: ServerResponse) => app.routing(req, res)) as TandemHandler;
  handle.close = () => app.close();
  return handle;
}
