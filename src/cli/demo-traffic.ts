/**
 * Feeds the demo server: a growing history at start, then live traffic
 * through the server's own HTTP routes (so metrics and rates count it).
 *
 * @module
 */
import { ShopGenerator, type ShopEvents } from '../demo/index.ts';
import type { TandemServer } from '../server/index.ts';

export class DemoTraffic {
  // Seeded from the clock: a restarted demo sends new ids, not the last run's (which would all be duplicates).
  readonly #generator = new ShopGenerator({ seed: Date.now() % 2 ** 32 });
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** `apiKey` lets the traffic through when the server requires keys; it is ignored otherwise. */
  constructor(private readonly server: TandemServer, private readonly eventsPerSecond: number, private readonly apiKey: string) {}

  /** Ingests `count` events of growing history that meets the live rate now (see {@link ShopGenerator.growingHistory}). */
  async backfill(count: number): Promise<void> {
    const now = Date.now();
    // Without live traffic there is no rate to grow to: spread the history over the past week.
    if (this.eventsPerSecond === 0) return this.#send(this.#generator.backfill(count, now - 7 * 86_400_000, now));
    const chunk = 5000;
    // Each chunk is a share of the same curve: the rate each would reach alone is scaled by its share.
    for (let done = 0; done < count; done += chunk) {
      const size = Math.min(chunk, count - done);
      await this.#send(this.#generator.growingHistory(size, now, (this.eventsPerSecond * size) / count));
    }
  }

  start(): void {
    const tickMs = 200;
    const perTick = Math.max(1, Math.round((this.eventsPerSecond * tickMs) / 1000));
    const tick = () => {
      this.#send(this.#generator.live(perTick)).catch(() => undefined).finally(() => {
        if (this.#stopped) return;
        this.#timer = setTimeout(tick, tickMs);
        this.#timer.unref();
      });
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #send(events: ShopEvents): Promise<void> {
    await Promise.all(Object.entries(events).filter(([, list]) => list.length > 0).map(([type, list]) =>
      this.server.app.inject({
        method: 'POST', url: `/v1/events/${type}`,
        headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${this.apiKey}` },
        payload: list.map((e) => JSON.stringify(e)).join('\n'),
      })));
  }
}
