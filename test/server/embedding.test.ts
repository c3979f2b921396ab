/**
 * Embedding Tandem in an application (issue #32): its routes as a Fastify
 * plugin under a prefix and as a plain Node handler, the package's version
 * in status, `batchEvery` running cycles in a library engine, and `drain`
 * refusing new ingests while those in flight finish durably.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import Fastify from 'fastify';
import { createHandler, tandemPlugin } from '../../src/server/index.ts';
import { EngineDrainingError, InvalidEngineOptionError, Tandem } from '../../src/index.ts';
import { eventually } from '../support/eventually.ts';
import { shopConfig } from '../support/shop-config.ts';
import { withTempDir } from '../support/temp-dir.ts';

const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const order = (i: number) => ({ id: `o${i}`, at: 1_714_564_800_000 + i, country: i % 2 === 0 ? 'DE' : 'FR', mobile: true, amount: 10, qty: 1 });

test('embedding - the plugin serves under its prefix in an application\'s own Fastify, beside its routes, reporting the package version', async () => {
  await withTempDir(async (dir) => {
    const tandem = await Tandem.open({ dataDir: dir, config: shopConfig });
    const app = Fastify();
    app.get('/hello', async () => ({ mine: true }));
    try {
      await app.register(tandemPlugin, { tandem, prefix: '/tandem' });
      const ingested = await app.inject({ method: 'POST', url: '/tandem/v1/events/order', payload: [order(1), order(2), order(1)] });
      assert.equal(ingested.statusCode, 200, ingested.body);
      assert.deepEqual([ingested.json().accepted, ingested.json().stored], [3, 2]);
      const query = await app.inject({ method: 'POST', url: '/tandem/v1/query', payload: { view: 'all_time', groupBy: ['country'], orderBy: [{ dimension: 'country' }] } });
      assert.deepEqual(query.json().rows.map((r: { country: string; orders: number }) => [r.country, r.orders]), [['DE', 1], ['FR', 1]]);
      assert.equal((await app.inject('/tandem/v1/status')).json().version, version);
      assert.equal((await app.inject('/tandem/openapi.json')).json().info.version, version);
      // The application's own routes are its own: no Tandem error shape, key check or guard on them.
      assert.deepEqual((await app.inject('/hello')).json(), { mine: true });
      assert.equal((await app.inject('/v1/status')).statusCode, 404);
      const missing = await app.inject('/tandem/v1/nothing');
      assert.equal(missing.json().error.code, 'not_found');
    } finally {
      await app.close();
      await tandem.close();
    }
  });
});

test('embedding - a plain (req, res) handler answers on a node:http server the application owns', async () => {
  await withTempDir(async (dir) => {
    const tandem = await Tandem.open({ dataDir: dir, config: shopConfig });
    const handle = await createHandler({ tandem, prefix: '/tandem' });
    const server: Server = createHttpServer((req, res) => {
      if (req.url?.startsWith('/tandem/')) return handle(req, res);
      res.end('app');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const sent = await fetch(`${base}/tandem/v1/events/order`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: `${JSON.stringify(order(1))}\n${JSON.stringify(order(2))}` });
      assert.equal(((await sent.json()) as { stored: number }).stored, 2);
      const status = await (await fetch(`${base}/tandem/v1/status`)).json() as { version: string; logEnd: number };
      assert.deepEqual([status.version, status.logEnd], [version, 2]);
      assert.equal(await (await fetch(`${base}/other`)).text(), 'app');
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await handle.close();
      await tandem.close();
    }
  });
});

test('embedding - batchEvery runs batch cycles in a library engine, as serve does; a period out of range is refused naming the option', async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(Tandem.open({ dataDir: dir, config: shopConfig, batchEvery: 0 }), (error: unknown) => error instanceof InvalidEngineOptionError && error.option === 'batchEvery');
    const tandem = await Tandem.open({ dataDir: dir, config: shopConfig, batchEvery: 50 });
    try {
      await tandem.ingest('order', [order(1), order(2)]);
      await eventually(() => tandem.status().batch?.cutoff === 2, 'a scheduled cycle to absorb both events');
      const { rows, meta } = await tandem.query({ view: 'all_time', layer: 'batch', groupBy: ['country'] });
      assert.equal(rows.length, 2);
      assert.equal(meta.batchCutoff, 2);
    } finally {
      await tandem.close();
    }
  });
});

test('embedding - drain refuses new ingests with a typed error (503 draining over HTTP) and resolves once those in flight are durable', async () => {
  await withTempDir(async (dir) => {
    let tandem = await Tandem.open({ dataDir: dir, config: shopConfig });
    const app = Fastify();
    await app.register(tandemPlugin, { tandem });
    try {
      const inFlight = Array.from({ length: 20 }, (_, k) => tandem.ingest('order', Array.from({ length: 50 }, (_, i) => order(k * 50 + i))));
      let settled = 0;
      for (const p of inFlight) void p.then(() => settled++);
      const drained = tandem.drain();
      await assert.rejects(tandem.ingest('order', [order(5000)]), EngineDrainingError);
      const refused = await app.inject({ method: 'POST', url: '/v1/events/order', payload: [order(5001)] });
      assert.deepEqual([refused.statusCode, refused.json().error.code], [503, 'draining']);
      assert.ok(refused.headers['retry-after'] !== undefined);
      await drained;
      assert.equal(settled, inFlight.length, 'every ingest begun before the drain had resolved when it did');
      // Every ingest begun before the drain had resolved when it did: all 1,000 events stored.
      const results = await Promise.all(inFlight);
      assert.equal(results.reduce((n, r) => n + r.stored, 0), 1000);
      // Queries go on until close.
      assert.equal((await tandem.query({ view: 'all_time', granularity: 'all' })).rows[0]?.orders, 1000);
    } finally {
      await app.close();
      await tandem.close();
    }
    // Durable: a new engine on the same directory has them all.
    tandem = await Tandem.open({ dataDir: dir, config: shopConfig });
    try {
      assert.equal((await tandem.query({ view: 'all_time', granularity: 'all' })).rows[0]?.orders, 1000);
    } finally {
      await tandem.close();
    }
  });
});
