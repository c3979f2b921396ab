/**
 * The one ingest rule (issue #32), embedded: through the typed client and a
 * real server, an answer includes an ingest's events exactly when
 * `answerIncludes(meta, position)` says so, for every ingest before and
 * after it, as `meta.logEnd > lastOffset` says too (the embedded rule kept);
 * `after: position` is accepted; an ingest that stored nothing has nothing
 * to wait for. The cluster half is test/backends/nats/cluster-numbers.test.ts.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { answerIncludes, createClient, type TandemClient } from '../../src/client/index.ts';
import { defineConfig, defineEventType, defineView } from '../../src/index.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';

const sale = defineEventType({ name: 'sale', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', amount: { type: 'number', scale: 0 } } });
const config = defineConfig({
  eventTypes: [sale],
  views: [defineView(sale, { name: 'sales', dimensions: [], granularity: 'none', measures: { n: { type: 'count' } } })],
});
const saleEvent = (i: number) => ({ id: `s${i}`, at: Date.UTC(2024, 4, 1, 12, i % 60), amount: i });

describe('answerIncludes - embedded', () => {
  let opened: TestServer;
  let client: TandemClient<typeof config>;
  before(async () => {
    opened = await openTestServer(config);
    const url = await opened.server.app.listen({ host: '127.0.0.1', port: 0 });
    client = createClient<typeof config>({ url });
  });
  after(() => opened.close());

  test('an answer includes an ingest exactly when answerIncludes says so, as meta.logEnd > lastOffset does', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 6 }), async (sizes) => {
      const answers: { meta: { applied?: readonly number[]; logEnd: number }; count: number }[] = [];
      const ingests: { position?: readonly number[]; lastOffset: number | null; countAfter: number }[] = [];
      for (const size of sizes) {
        const { rows, meta } = await client.query({ view: 'sales', granularity: 'all' });
        answers.push({ meta, count: Number(rows[0]?.n ?? 0) });
        const start = (await opened.tandem.status()).logEnd;
        const result = await client.ingest('sale', Array.from({ length: size }, (_, i) => saleEvent(start + i)));
        ingests.push({ ...result, countAfter: Number((await client.query({ view: 'sales', granularity: 'all' })).rows[0]?.n ?? 0) });
      }
      const last = await client.query({ view: 'sales', granularity: 'all' });
      answers.push({ meta: last.meta, count: Number(last.rows[0]?.n ?? 0) });
      for (const answer of answers) {
        for (const ingest of ingests) {
          if (ingest.lastOffset === null) {
            // An empty array: the client sent nothing, so there is nothing to wait for.
            assert.equal(ingest.position, undefined);
            assert.ok(answerIncludes(answer.meta, ingest.position));
            continue;
          }
          const included = answer.count >= ingest.countAfter;
          assert.equal(answerIncludes(answer.meta, ingest.position), included, `applied ${answer.meta.applied} position ${ingest.position}`);
          assert.equal(answer.meta.logEnd > ingest.lastOffset, included, 'the embedded rule still holds');
        }
      }
    }), { numRuns: 8, seed: 32 });
  });

  test('after: position is accepted, and its answer includes the ingest', async () => {
    const result = await client.ingest('sale', [saleEvent(10_000)]);
    const { meta } = await client.query({ view: 'sales', granularity: 'all', after: result.position! });
    assert.ok(answerIncludes(meta, result.position));
  });

  test('an ingest that sent nothing has no position, and every answer includes it; a position of another length is never included', async () => {
    const nothing = await client.ingest('sale', []);
    const { meta } = await client.query({ view: 'sales', granularity: 'all' });
    assert.equal(nothing.position, undefined);
    assert.ok(answerIncludes(meta, nothing.position));
    assert.equal(answerIncludes(meta, [0, 0]), false);
    assert.equal(answerIncludes({}, [0]), false, 'an answer without applied includes nothing it can show');
  });
});
