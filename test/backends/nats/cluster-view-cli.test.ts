/**
 * `tandem view apply|list|drop` against a cluster node (issue #31), run as
 * users run it: the real binary, over HTTP, against one node of two. Apply
 * waits until the view answers on the node asked, the other node serves it
 * from the same version, and a drop answers once every node has let it go.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterNode } from '../../../src/backends/nats/internal.ts';
import { createServer } from '../../../src/server/index.ts';
import { eventually } from '../../support/eventually.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { canonicalRows, referenceQuery, type RefEvent } from '../../support/reference.ts';
import { shopConfig } from '../../support/shop-config.ts';
import { runCli } from '../../support/spawn-cli.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const byMobile = { name: 'by_mobile', eventType: 'order', dimensions: ['mobile'], granularity: 'day', measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' } } } as const;

const events: RefEvent[] = Array.from({ length: 120 }, (_, i) => ({
  id: `o${i}`, at: Date.UTC(2024, 2, 1) + i * 3_600_000, country: ['DE', 'FR'][i % 2]!, device: null, mobile: i % 3 === 0, cents: 100 + i, qty: i % 4,
}));

describe('tandem view against a cluster node', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('apply waits until the view answers and every node serves it; list shows its version; drop answers once it is gone everywhere', async () => {
    await withTempDir(async (dir) => {
      const config = { ...shopConfig, cluster: { name: 'viewcli', partitions: 2, replicas: 1 } };
      const a = await ClusterNode.open({ dataDir: join(dir, 'a'), config, servers: nats!.urls, node: 'a' });
      const b = await ClusterNode.open({ dataDir: join(dir, 'b'), config, servers: nats!.urls, node: 'b' });
      const { app } = createServer({ tandem: a });
      try {
        const url = await app.listen({ port: 0, host: '127.0.0.1' });
        const { position } = await a.ingest('order', events.map((e) => ({ id: e.id, at: e.at, country: e.country, mobile: e.mobile, amount: e.cents / 100, qty: e.qty })));
        await a.runBatch();

        const file = join(dir, 'by-mobile.json');
        await writeFile(file, JSON.stringify(byMobile));
        const applied = await runCli(['view', 'apply', file, '--url', url, '--no-progress']);
        assert.equal(applied.code, 0, applied.stderr);
        assert.match(applied.stdout, /^Added by_mobile as version 1: its batch layer is being backfilled, and it answers once that is done\.\nby_mobile version 1 answers now\.\n$/);
        const q = { view: 'by_mobile', groupBy: ['mobile'], granularity: 'all' } as const;
        const expected = canonicalRows(referenceQuery(byMobile, events, q));
        assert.deepEqual(canonicalRows((await a.query({ ...q, after: position })).rows), expected);
        await eventually(() => b.catalog.views.has('by_mobile'), 'b to serve by_mobile');
        assert.deepEqual(canonicalRows((await b.query({ ...q, after: position })).rows), expected);

        const listed = await runCli(['view', 'list', '--url', url]);
        assert.match(listed.stdout, /by_mobile\s+1\s+order\s+day/);

        const dropped = await runCli(['view', 'drop', 'by_mobile', '--url', url]);
        assert.equal(dropped.code, 0, dropped.stderr);
        assert.ok(!a.catalog.views.has('by_mobile'), 'a no longer serves it when the drop answers');
        await eventually(() => !b.catalog.views.has('by_mobile'), 'b to let by_mobile go');
      } finally {
        await app.close();
        await Promise.allSettled([a.close(), b.close()]);
      }
    });
  });
});
