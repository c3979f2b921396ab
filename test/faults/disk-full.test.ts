/**
 * A full disk, for real: the data directory sits on a small tmpfs, a filler
 * file takes nearly all of it, and HTTP ingest and batch runs go on until
 * writes fail. Needs root to mount; says so and skips where it cannot (and
 * fails instead under TANDEM_REQUIRE_SERVICES=1, as in CI).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createServer } from '../../src/server/index.ts';
import { Tandem, type TandemConfig } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { mountSkipReason } from '../support/tmpfs.ts';

// A window a little over one request: a failed write must not push earlier keys out of it.
const config: TandemConfig = { ...shopConfig, eventTypes: shopConfig.eventTypes.map((e) => ({ ...e, idempotencyWindow: 600 })) };

const order = (id: string) => ({ id, at: '2024-05-01T12:30:00Z', country: 'DE', mobile: true, amount: 10, qty: 1 });
const batchOf = (from: number, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify(order(`e${from + i}`))).join('\n');

async function temporaryFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.name.includes('.tmp')).map((e) => join(e.parentPath, e.name));
}

async function countOrders(tandem: Tandem): Promise<number> {
  const { rows } = await tandem.query({ view: 'all_time', granularity: 'all' });
  return Number(rows[0]?.orders ?? 0);
}

test('disk full: ingest answers 507 with Retry-After, a batch run too, nothing acknowledged is lost, and both resume when space returns', { skip: mountSkipReason(), timeout: 120_000 }, async () => {
  const mount = await mkdtemp(join(tmpdir(), 'tandem-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mount]);
  const data = join(mount, 'data');
  let tandem = await Tandem.open({ dataDir: data, config });
  const server = createServer({ tandem });
  try {
    const filler = join(mount, 'filler');
    const { bavail, bsize } = await statfs(mount);
    await writeFile(filler, Buffer.alloc(bavail * bsize - 600_000));

    let acked = 0;
    let sent = 0;
    let lastAcked = '';
    const statuses = new Set<number>();
    let full: { code: string; message: string } | undefined;
    for (let round = 0; round < 200 && full === undefined; round++) {
      const payload = batchOf(sent, 500);
      const response = await server.app.inject({ method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'application/x-ndjson' }, payload });
      sent += 500;
      statuses.add(response.statusCode);
      if (response.statusCode === 200) {
        acked += response.json().accepted;
        lastAcked = payload;
      }
      if (response.statusCode === 507) {
        full = response.json().error;
        assert.equal(response.headers['retry-after'], '10');
      }
    }
    assert.ok(full !== undefined, 'the disk filled up');
    assert.deepEqual([...statuses].sort(), [200, 507]);
    assert.deepEqual(full, { code: 'disk_full', message: "The server's disk is full, so nothing was written; retry once space has been freed." });
    assert.equal(tandem.status().logEnd, acked, 'a refused request left nothing in the log');
    // A client resending its last acknowledged request (it never saw the answer) is told they are all duplicates.
    const resent = await server.app.inject({ method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'application/x-ndjson' }, payload: lastAcked });
    assert.equal(resent.statusCode, 200, resent.body);
    assert.equal(resent.json().duplicates, 500);

    const batch = await server.app.inject({ method: 'POST', url: '/v1/batch', headers: { 'content-type': 'application/json' }, payload: '{}' });
    assert.equal(batch.statusCode, 507, batch.body);
    assert.deepEqual(await temporaryFiles(data), [], 'a failed batch run cleans up after itself');
    assert.equal(await countOrders(tandem), acked);

    await rm(filler);
    const resumed = await server.app.inject({ method: 'POST', url: '/v1/events/order', headers: { 'content-type': 'application/x-ndjson' }, payload: batchOf(sent, 500) });
    assert.equal(resumed.statusCode, 200, resumed.body);
    acked += 500;
    assert.equal((await server.app.inject({ method: 'POST', url: '/v1/batch', headers: { 'content-type': 'application/json' }, payload: '{}' })).statusCode, 200);
    assert.equal(await countOrders(tandem), acked);

    await server.app.close();
    await tandem.close();
    tandem = await Tandem.open({ dataDir: data, config });
    assert.equal(await countOrders(tandem), acked, 'every acknowledged event, once, after a restart');
    assert.equal(tandem.status().logEnd, acked);
  } finally {
    await server.app.close();
    await tandem.close();
    execFileSync('umount', [mount]);
    await rm(mount, { recursive: true, force: true });
  }
});
