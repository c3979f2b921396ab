/**
 * Hostile query shapes against the real server in its own process: extreme
 * and adjacent time bounds, lists of one name repeated many times, and
 * rankings over many groups. Every query must answer (200, 400 or 503
 * `query_timeout`) within its timeout plus slack, and `/healthz`, polled
 * from this process all along, must keep answering: a query that stalls the
 * server's event loop fails both checks.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { shopConfig } from '../support/shop-config.ts';
import { startCli, type LongRunning } from '../support/spawn-cli.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const SERVING = /serving at (http:\/\/\S+?)"/;
const TIMEOUT_MS = 300;
/** Generous, for a shared 2-core machine; a stalled loop takes seconds to forever. */
const SLACK_MS = 5_000;
const GROUPS = 40_000;

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let server: LongRunning;

before(async () => {
  temp = await makeTempDir('tandem-hostile-');
  const config = join(temp.dir, 'tandem.config.json');
  await writeFile(config, JSON.stringify(shopConfig));
  const args = ['serve', '--config', config, '--data', join(temp.dir, 'data'), '--port', '0', '--batch-every', '1h', '--query-timeout', `${TIMEOUT_MS}ms`];
  server = await startCli(args, SERVING);
  // Several minute buckets per series (the walk that froze at 1e21), and many groups for the rankings.
  const lines: string[] = [];
  for (let i = 0; i < GROUPS; i++) {
    const at = Date.UTC(2024, 4, 1, 0, i % 5);
    lines.push(JSON.stringify({ id: `o${i}`, at, country: `c${i}`, mobile: true, amount: (i % 997) / 100, qty: i % 3 }));
  }
  const res = await fetch(`${server.url}/v1/events/order`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') });
  assert.equal(res.status, 200, await res.text());
});
after(async () => {
  await server?.stop('SIGKILL');
  await temp?.remove();
});

/** Doubles where adding a bucket's width may round back: far beyond the times events can hold, and next to each other. */
const farTime = fc.oneof(
  fc.constantFrom(1e21, 1.0000000000000001e21, -1e21, 8.64e15, -8.64e15, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 53, 2 ** 60, 5e-324),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
  fc.constantFrom('0099-01-01', '1899-12-31T23:59:59Z', '+275760-09-13T00:00:00Z', '9999-12-31T23:59:59.999Z', '10000-01-01T00:00:00Z'),
);

function repeated<T>(item: T): fc.Arbitrary<T[]> {
  return fc.integer({ min: 2, max: 200_000 }).map((n) => new Array<T>(n).fill(item));
}

const hostileQuery: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ view: fc.constantFrom('by_country_minute', 'by_country_hour', 'by_device_week', 'totals_month'), from: farTime, to: farTime }),
  farTime.map((from) => ({ view: 'by_country_minute', from, to: typeof from === 'number' ? from + 1e6 : from })),
  fc.record({ view: fc.constant('by_country_minute'), groupBy: repeated('country') }),
  fc.record({ view: fc.constant('by_country_minute'), groupBy: fc.constant(['country']), orderBy: repeated({ measure: 'basket', desc: true }) }),
  fc.record({
    view: fc.constant('by_country_minute'), groupBy: fc.constant(['country', 'qty']),
    granularity: fc.constantFrom('minute', 'hour', 'all'), limit: fc.integer({ min: 1, max: 1_000 }),
    orderBy: fc.constantFrom([{ measure: 'basket', desc: true }], [{ measure: 'orders' }, { measure: 'basket', desc: true }]),
  }),
  fc.record({ view: fc.constant('by_country_minute'), where: fc.record({ country: fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 50_000 }) }) }),
);

interface Answer {
  readonly status: number;
  readonly ms: number;
  readonly body: { error?: { code: string; message: string } };
}

async function ask(query: unknown): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${server.url}/v1/query`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(query),
    signal: AbortSignal.timeout(TIMEOUT_MS + 10 * SLACK_MS),
  });
  const body = await res.json() as Answer['body'];
  return { status: res.status, ms: performance.now() - started, body };
}

/** Polls `/healthz` until stopped, and reports the slowest answer. */
function pollHealth(): { stop(): Promise<number> } {
  let slowest = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(TIMEOUT_MS + 10 * SLACK_MS) });
      await res.arrayBuffer();
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return { stop: async () => ((running = false), await loop, slowest) };
}

test('hostile queries - each answers within its timeout, and the server stays responsive', { timeout: 600_000 }, async () => {
  const health = pollHealth();
  try {
    await fc.assert(
      fc.asyncProperty(hostileQuery, async (query) => {
        const answer = await ask(query);
        assert.ok([200, 400, 503].includes(answer.status), `status ${answer.status}: ${JSON.stringify(answer.body)}`);
        if (answer.status === 503) assert.equal(answer.body.error?.code, 'query_timeout');
        if (answer.status !== 200) assert.match(answer.body.error!.message, /^[^\n]+\.$/);
        assert.ok(answer.ms < TIMEOUT_MS + SLACK_MS, `answered in ${Math.round(answer.ms)} ms`);
      }),
      { seed: 20261129, numRuns: 150 },
    );
  } finally {
    const slowest = await health.stop();
    assert.ok(slowest < TIMEOUT_MS + SLACK_MS, `/healthz took ${Math.round(slowest)} ms at worst`);
  }
});

test('hostile queries - the examples from the report get their answer', async () => {
  const frozen = await ask({ view: 'by_country_minute', from: 1e21, to: 1.0000000000000001e21 });
  assert.equal(frozen.status, 400);
  assert.match(frozen.body.error!.message, /from must fall between 1900-01-01T00:00:00Z and 10000-01-01T00:00:00Z/);
  const copies = await ask({ view: 'by_country_minute', groupBy: new Array(128_000).fill('country') });
  assert.equal(copies.status, 400);
  assert.match(copies.body.error!.message, /groupBy lists 128,000 dimensions, but the view has only 2/);
  const twice = await ask({ view: 'by_country_minute', orderBy: [{ measure: 'orders' }, { measure: 'orders', desc: true }] });
  assert.equal(twice.status, 400);
  assert.match(twice.body.error!.message, /orderBy\[1\] orders by measure 'orders' a second time/);
  // A top 1,000 of 40,000 groups is a ranking, not a timeout: it must come back whole and in order.
  // It takes tens of milliseconds (it took 3.3 s when rankings sorted by insertion); on a machine busy with other
  // work one run may still pass the 300 ms limit, so a timeout is asked again, twice at most.
  const ranking = { view: 'by_country_minute', groupBy: ['country'], granularity: 'all', orderBy: [{ measure: 'basket', desc: true }], limit: 1_000 };
  let top = await ask(ranking);
  for (let retry = 0; retry < 2 && top.body.error?.code === 'query_timeout'; retry++) top = await ask(ranking);
  assert.equal(top.status, 200, JSON.stringify(top.body));
  const rows = (top.body as unknown as { rows: { basket: number }[] }).rows;
  assert.equal(rows.length, 1_000);
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1]!.basket >= rows[i]!.basket);
});
