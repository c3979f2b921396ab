/**
 * Server-Sent Events for live status: every client gets the same snapshot,
 * built once per tick, so a room full of dashboards costs one status read a
 * second, not one per client (no polling storms).
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, RouteShorthandOptions } from 'fastify';
import { armResponseIdle } from './connection-limits.ts';

const TICK_MS = 1000;

export class StatusStream {
  readonly #clients = new Set<FastifyReply>();
  #timer: NodeJS.Timeout | undefined;

  /** `idleMs`: how long a client may go without reading before its stream is closed (a snapshot waits on it every second). */
  constructor(private readonly snapshot: () => Promise<unknown>, private readonly idleMs: number) {}

  /** Declares the stream's route at `path`, with its scope and schema in `options` (route-schemas.ts). */
  register(app: FastifyInstance, path: string, options: RouteShorthandOptions): void {
    app.get(path, options, (request, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
      });
      reply.raw.write('retry: 2000\n\n');
      armResponseIdle(request.raw.socket, this.idleMs);
      this.#clients.add(reply);
      void this.#sendTo([reply]);
      request.raw.on('close', () => this.#clients.delete(reply));
      this.#timer ??= setInterval(() => void this.#sendTo([...this.#clients]), TICK_MS);
    });
    // SSE connections never go idle; end them before Fastify waits for open connections to finish.
    app.addHook('preClose', (done) => {
      this.close();
      done();
    });
  }

  /** Pushes a snapshot now (e.g. right after a batch publishes). */
  push(): void {
    void this.#sendTo([...this.#clients]);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const client of this.#clients) client.raw.end();
    this.#clients.clear();
  }

  async #sendTo(clients: readonly FastifyReply[]): Promise<void> {
    if (clients.length === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const message = `event: status\ndata: ${JSON.stringify(await this.snapshot())}\n\n`;
    for (const client of clients) if (!client.raw.writableEnded) client.raw.write(message);
  }
}
