/**
 * A cluster node in this process, on one NATS server: the refusals a user
 * meets (no cluster section, a position of the wrong length, a batch asked of
 * a node without the lease, a full speed layer) and the way back from them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  BatchFencedError, BatchLeaseHeldError, ClusterNode, connectNats, CONTROL_KEY, KvRevisionedStore, MissingClusterConfigError, NodeNameTakenError, type ControlRecord,
} from '../../../src/backends/nats/internal.ts';
import { InvalidClusterRecordError } from '../../../src/backends/nats/errors.ts';
import type { EngineLogger } from '../../../src/engine/index.ts';
import { createServer } from '../../../src/server/index.ts';
import { httpError } from '../../../src/server/http-errors.ts';
import { NodeRegistry } from '../../../src/backends/nats/node-registry.ts';
import { StoredSchemaConflictError } from '../../../src/log/index.ts';
import { SpeedLayerFullError, ViewBackfillingError } from '../../../src/engine/index.ts';
import { InvalidQueryError } from '../../../src/serving/index.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { eventually } from '../../support/eventually.ts';
import { chromiumSkipReason, openBrowser } from '../../support/chromium.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const base = {
  eventTypes: [{ name: 'hit', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', page: 'string' } }],
  views: [{ name: 'pages', eventType: 'hit', dimensions: ['page'], granularity: 'hour', measures: { hits: { type: 'count' } } }],
};
let clusters = 0;
const configFor = () => ({ ...base, cluster: { name: `node_test_${clusters++}`, partitions: 2, replicas: 1 } });
const hit = (i: number) => ({ id: `h${i}`, at: '2026-11-29T10:00:00Z', page: `/p${i}` });


describe('a cluster node', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('refuses a config without a cluster section, in one sentence', async () => {
    await withTempDir(async (dir) => {
      await assert.rejects(ClusterNode.open({ dataDir: dir, config: base, servers: nats!.urls }), (error: unknown) => {
        assert.ok(error instanceof MissingClusterConfigError);
        assert.match(error.message, /needs a "cluster" section/);
        return true;
      });
    });
  });

  test('reads its own writes at once, refuses a position of the wrong length, and a batch asked of a node without the lease runs on the holder', async () => {
    await withTempDir(async (dir) => {
      const config = configFor();
      const a = await ClusterNode.open({ dataDir: `${dir}/a`, config, servers: nats!.urls, node: 'a' });
      const b = await ClusterNode.open({ dataDir: `${dir}/b`, config, servers: nats!.urls, node: 'b' });
      try {
        const { position, duplicates } = await a.ingest('hit', [hit(1), hit(2), hit(1)]);
        assert.equal(duplicates, 1);
        assert.equal(position?.length, 2);
        const { rows } = await a.query({ view: 'pages', granularity: 'all' });
        assert.deepEqual(rows, [{ hits: 2 }]);
        const onB = await b.query({ view: 'pages', granularity: 'all', after: position });
        assert.deepEqual(onB.rows, [{ hits: 2 }]);
        await assert.rejects(b.query({ view: 'pages', after: [1] }), (error: unknown) => error instanceof InvalidQueryError && /one sequence per partition/.test(error.message));
        await a.runBatch();
        // b learns who holds the lease from the control record, read every 250 ms.
        await eventually(() => b.status().cluster?.batchNode === 'a', 'b to see a as the batch node');
        // A cycle asked of b runs on a, the holder, and b answers once it serves the version a published.
        const forwarded = await b.runBatch();
        assert.equal(forwarded.version, 2);
        assert.equal(b.status().batch?.version, 2, 'b serves the version it answered with');
        assert.equal(a.status().recentBatches[0]?.version, 2, 'the cycle ran on a');
        assert.equal(b.status().recentBatches.length, 0, 'b ran no cycle itself');
        await b.ingest('hit', [hit(3)]);
        assert.equal(b.hasNewEvents(), false, 'a node without the lease does not schedule cycles');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  test('a cycle asked of the lease holder after another node took its lease is fenced, with the step that failed as its cause, and is no failing batch', async () => {
    await withTempDir(async (dir) => {
      const config = configFor();
      // A lease renewed every 20 s: nothing renews or drops it behind the test's back.
      const node = await ClusterNode.open({ dataDir: dir, config, servers: nats!.urls, node: 'holder', leaseMs: 60_000 });
      const nc = await connectNats({ servers: nats!.urls });
      try {
        await node.ingest('hit', [hit(1)]);
        await node.runBatch();
        const control = await KvRevisionedStore.open<ControlRecord>(nc, { bucket: `${config.cluster.name}_control` });
        const current = (await control.get(CONTROL_KEY))!;
        const taken: ControlRecord = { ...current.value, lease: { holder: 'other', term: current.value.lease!.term + 1, expiresAt: Date.now() + 60_000 } };
        assert.notEqual(await control.update(CONTROL_KEY, taken, current.revision), undefined);
        await assert.rejects(node.runBatch(), (error: unknown) => {
          assert.ok(error instanceof BatchFencedError, String(error));
          assert.ok(error.cause instanceof BatchLeaseHeldError && error.cause.holder === 'other', String(error.cause));
          assert.equal(error.message, 'Batch version 2 was not published: this node lost the lease of term 1 while the cycle ran; the node that holds the lease now publishes instead.');
          return true;
        });
        assert.equal(node.status().batchFailing, null, 'another node runs the batch layer: nothing is failing');
      } finally {
        await nc.close();
        await node.close();
      }
    });
  });

  test('a node started under the name of a running node is refused, naming where that one runs; once it stopped, the name is free at once', async () => {
    await withTempDir(async (dir) => {
      const config = configFor();
      const first = await ClusterNode.open({ dataDir: `${dir}/1`, config, servers: nats!.urls, node: 'twin', url: 'http://10.0.0.7:8080' });
      try {
        await assert.rejects(ClusterNode.open({ dataDir: `${dir}/2`, config, servers: nats!.urls, node: 'twin' }), (error: unknown) => {
          assert.ok(error instanceof NodeNameTakenError, String(error));
          assert.equal(error.code, 'node_name_taken');
          assert.equal(error.url, 'http://10.0.0.7:8080');
          assert.match(error.message, /^Node name 'twin' is in use by a running node on .+ \(pid \d+\) at http:\/\/10\.0\.0\.7:8080: start this one with another --node name, or, if that node has died, start this one again once it has been silent for 5 s\.$/);
          return true;
        });
        const nc = await connectNats({ servers: nats!.urls });
        try {
          const entries = await (await NodeRegistry.open(nc, `${config.cluster.name}_nodes`, 1)).nodes();
          assert.deepEqual(entries.map((n) => [n.node, n.url]), [['twin', 'http://10.0.0.7:8080']], 'the refused node did not overwrite the running one\'s entry');
        } finally {
          await nc.close();
        }
      } finally {
        await first.close();
      }
      const started = Date.now();
      const again = await ClusterNode.open({ dataDir: `${dir}/2`, config, servers: nats!.urls, node: 'twin' });
      await again.close();
      assert.ok(Date.now() - started < 5_000, 'a name left cleanly is not watched for a heartbeat');
    });
  });

  test('at its speed-layer key limit ingest is refused, an early batch run absorbs the keys, and ingest resumes', async () => {
    await withTempDir(async (dir) => {
      const node = await ClusterNode.open({ dataDir: dir, config: configFor(), servers: nats!.urls, node: 'solo', maxSpeedKeys: 40 });
      try {
        let refused: unknown;
        for (let i = 0; i < 200 && refused === undefined; i++) await node.ingest('hit', [hit(i)]).catch((error: unknown) => (refused = error));
        assert.ok(refused instanceof SpeedLayerFullError, `ingest was refused: ${String(refused)}`);
        // Past half the limit the node, holding the lease, started a run: once it publishes, the keys are the batch view's.
        await eventually(() => node.status().speed.keys < 40 && (node.status().batch?.version ?? 0) >= 1, 'an early batch run to publish and absorb the keys');
        await node.ingest('hit', [hit(1_000)]);
        const { rows } = await node.query({ view: 'pages', granularity: 'all' });
        assert.ok((rows[0]?.hits as number) >= 41);
      } finally {
        await node.close();
      }
    });
  });

  test('a node whose config would misread stored events is refused, naming the field; a view its config adds answers once a cycle switched it in', async () => {
    await withTempDir(async (dir) => {
      const priced = {
        eventTypes: [{ name: 'sale', time: 'at', fields: { at: 'timestamp', shop: 'string', amount: { type: 'number', scale: 2 } } }],
        views: [{ name: 'by_shop', eventType: 'sale', dimensions: ['shop'], granularity: 'day', measures: { revenue: { type: 'sum', field: 'amount' } } }],
        cluster: { name: `node_test_${clusters++}`, partitions: 2, replicas: 1 },
      };
      const first = await ClusterNode.open({ dataDir: `${dir}/1`, config: priced, servers: nats!.urls, node: 'one' });
      await first.ingest('sale', [{ at: '2026-11-29T10:00:00Z', shop: 'a', amount: 5.25 }, { at: '2026-11-29T11:00:00Z', shop: 'b', amount: 1.5 }]);
      await first.runBatch();
      await first.close();

      const rescaled = { ...priced, eventTypes: [{ ...priced.eventTypes[0]!, fields: { ...priced.eventTypes[0]!.fields, amount: { type: 'number', scale: 3 } } }] };
      await assert.rejects(ClusterNode.open({ dataDir: `${dir}/2`, config: rescaled, servers: nats!.urls, node: 'two' }), (error: unknown) => {
        assert.ok(error instanceof StoredSchemaConflictError);
        assert.equal(error.field, 'amount');
        assert.match(error.message, /stored as number with scale 2/);
        return true;
      });

      const extended = { ...priced, views: [...priced.views, { name: 'sales', eventType: 'sale', dimensions: [], granularity: 'day', measures: { n: { type: 'count' } } }] };
      const third = await ClusterNode.open({ dataDir: `${dir}/3`, config: extended, servers: nats!.urls, node: 'three' });
      try {
        // Its config adds a view: the cycle it asks for at open (the lease is free) switches it in; until then the view is being backfilled.
        const early = await third.query({ view: 'sales', granularity: 'all' }).catch((error: unknown) => error);
        assert.ok(early instanceof ViewBackfillingError || Array.isArray((early as { rows?: unknown }).rows), String(early));
        let rows: unknown;
        await eventually(async () => (rows = await third.query({ view: 'sales', granularity: 'all' }).then((r) => r.rows, () => undefined)) !== undefined, 'the added view to answer');
        assert.deepEqual(rows, [{ n: 2 }]);
        assert.deepEqual((await third.query({ view: 'by_shop', granularity: 'all', groupBy: ['shop'] })).rows, [{ shop: 'a', revenue: 5.25 }, { shop: 'b', revenue: 1.5 }]);
      } finally {
        await third.close();
      }
    });
  });

  test('a control record that is not valid (garbage, {}) is told in one sentence naming the bucket and key, polls raise no TypeError, and the node rebuilds it from the version it serves', async () => {
    await withTempDir(async (dir) => {
      const config = configFor();
      const bucket = `${config.cluster.name}_control`;
      const failures: unknown[] = [];
      const told: string[] = [];
      const logger: EngineLogger = {
        info() {},
        warn: (o: { err?: unknown }, m?: string) => void (failures.push(o.err), told.push(m ?? '')),
        error: (o: { err?: unknown }) => void failures.push(o.err),
      };
      const node = await ClusterNode.open({ dataDir: `${dir}/a`, config, servers: nats!.urls, node: 'a', logger });
      const nc = await connectNats({ servers: nats!.urls });
      try {
        await node.ingest('hit', [hit(1), hit(2)]);
        await node.runBatch();
        const kv = await new Kvm(nc).open(bucket);
        for (const [bad, reason] of [['garbage{', 'it is not JSON'], ['{}', 'lease is not present']] as const) {
          await kv.put(CONTROL_KEY, bad);
          const sentence = `The batch control record '${CONTROL_KEY}' in KV bucket ${bucket} is not valid (${reason}): batch cycles pause and every node keeps serving the version it has, until a node that serves a version rebuilds the record from it (the first to read it does so at once).`;
          await eventually(() => told.includes(sentence), `the node to tell of the ${bad} record`);
          await eventually(async () => (JSON.parse((await kv.get(CONTROL_KEY))!.string()) as ControlRecord).published?.version === 1, 'the record to be rebuilt');
          const { rows } = await node.query({ view: 'pages', granularity: 'all' });
          assert.deepEqual(rows, [{ hits: 2 }], 'the served version and the speed layer keep answering');
        }
        assert.deepEqual(failures.filter((e) => e instanceof TypeError), [], 'no TypeError was logged');
        await eventually(() => node.status().cluster?.archiveDamaged === null, 'the node to find the record valid again');
        await node.ingest('hit', [hit(3)]);
        await node.runBatch();
        assert.deepEqual((await node.query({ view: 'pages', granularity: 'all', layer: 'batch' })).rows, [{ hits: 3 }]);
        assert.equal(node.status().batchFailing, null);
      } finally {
        await nc.close();
        await node.close();
      }
    });
  });

  test('an invalid cluster record answers 503 cluster_record_invalid with Retry-After, in its own sentence', () => {
    const error = new InvalidClusterRecordError('KV bucket shop_control', CONTROL_KEY, 'batch control record', 'it is not JSON', 'batch cycles pause.');
    const answer = httpError(error, 1_000);
    assert.equal(answer.status, 503);
    assert.deepEqual(answer.body, { error: { code: 'cluster_record_invalid', message: "The batch control record 'batch-control' in KV bucket shop_control is not valid (it is not JSON): batch cycles pause." } });
    assert.equal(answer.headers['retry-after'], '5');
  });

  test('a registry entry that is not a heartbeat is reported, naming the bucket and key, and stops purges', async () => {
    await withTempDir(async (dir) => {
      const config = configFor();
      const node = await ClusterNode.open({ dataDir: dir, config, servers: nats!.urls, node: 'a' });
      const nc = await connectNats({ servers: nats!.urls });
      try {
        const kv = await new Kvm(nc).open(`${config.cluster.name}_nodes`);
        await kv.put('node.6768', '{"node":"gh","applied":"all"}');
        await eventually(() => node.status().cluster?.archiveDamaged?.invalid.includes(`KV bucket ${config.cluster.name}_nodes node.6768`) === true, 'the node to report the entry');
        assert.match(node.status().cluster!.archiveDamaged!.message, /^The heartbeat 'node\.6768' in KV bucket node_test_\d+_nodes is not valid \(instance is not present\): /);
        for (let i = 0; i < 3; i++) {
          await node.ingest('hit', [hit(i)]);
          await node.runBatch();
        }
        const jsm = await (await import('@nats-io/jetstream')).jetstreamManager(nc);
        const firsts = await Promise.all([0, 1].map(async (p) => (await jsm.streams.info(`${config.cluster.name}_log_${p}`)).state.first_seq));
        assert.deepEqual(firsts, [1, 1], 'nothing was purged');
        await kv.delete('node.6768');
        await eventually(() => node.status().cluster?.archiveDamaged === null, 'the report to clear once the entry is gone');
      } finally {
        await nc.close();
        await node.close();
      }
    });
  });

  test('a stored-schema record that is not valid refuses a start in one sentence naming the bucket and key', async () => {
    await withTempDir(async (dir) => {
      const config = configFor();
      const first = await ClusterNode.open({ dataDir: `${dir}/a`, config, servers: nats!.urls, node: 'a' });
      await first.ingest('hit', [hit(1)]);
      await first.close();
      const nc = await connectNats({ servers: nats!.urls });
      try {
        await (await new Kvm(nc).open(`${config.cluster.name}_control`)).put('stored-schema', '{"hit":{"at":{"type":"date"}}}');
        await assert.rejects(ClusterNode.open({ dataDir: `${dir}/a`, config, servers: nats!.urls, node: 'a' }), (error: unknown) => {
          assert.ok(error instanceof InvalidClusterRecordError, String(error));
          assert.match(error.message, /^The stored-schema record 'stored-schema' in KV bucket node_test_\d+_control is not valid \(hit\.at\.type is not string, number, boolean or timestamp\): /);
          return true;
        });
      } finally {
        await nc.close();
      }
    });
  });

  test('an object of the served chain gone from the object store and from every copy is found within a check: status, metric, dashboard and batchFailing say so, cycles answer archive_damaged; restored, all goes on; a destroyed bucket is put back from the node\'s copies', async () => {
    await withTempDir(async (dir) => {
      const config = configFor();
      const node = await ClusterNode.open({ dataDir: dir, config, servers: nats!.urls, node: 'a', archiveCheckMs: 200 });
      const { app } = createServer({ tandem: node });
      const nc = await connectNats({ servers: nats!.urls });
      try {
        for (let i = 0; i < 2; i++) {
          await node.ingest('hit', [hit(2 * i), hit(2 * i + 1)]);
          await node.runBatch();
        }
        const store = await new Objm(nc).open(`${config.cluster.name}_master`);
        const lost = (await store.list()).map((o) => o.name).find((name) => name.startsWith('master/hit/'))!;
        // Gone from the store and from the node's own copies: nothing can put it back but the test.
        const saved = join(dir, 'saved.parquet');
        await rename(join(dir, 'cluster', 'cache', lost), saved);
        await store.delete(lost);
        await eventually(() => node.status().cluster?.archiveDamaged?.missing.includes(lost) === true, 'the node to find the object gone');
        const damage = node.status().cluster!.archiveDamaged!;
        assert.deepEqual(damage.invalid, []);
        assert.equal(damage.message, `1 object of the served batch version is not in the object store as its manifest lists (${lost}: missing): no stream is purged below them, batch cycles stop, and a node that restarts cannot resume from the archive until they are restored.`);
        assert.equal(node.status().batchFailing?.code, 'archive_damaged');
        const metrics = await app.inject({ method: 'GET', url: '/metrics' });
        assert.match(metrics.body, /^tandem_cluster_archive_damaged_objects 1$/m);
        const batch = await app.inject({ method: 'POST', url: '/v1/batch' });
        assert.equal(batch.statusCode, 503, batch.body);
        assert.equal(batch.json().error.code, 'archive_damaged');
        assert.match(batch.json().error.message, new RegExp(`^${lost} of the published batch version's archive is not in object store bucket ${config.cluster.name}_master as the manifest lists \\(missing\\): `));
        assert.deepEqual((await node.query({ view: 'pages', granularity: 'all' })).rows, [{ hits: 4 }], 'the served version keeps answering');
        if (chromiumSkipReason() === false) {
          await app.listen({ host: '127.0.0.1', port: 0 });
          const browser = await openBrowser();
          try {
            const address = app.server.address() as { port: number };
            await browser.page.goto(`http://127.0.0.1:${address.port}/`);
            const warning = browser.page.getByTestId('cluster-damage');
            await warning.waitFor({ state: 'visible', timeout: 60_000 });
            assert.match(await warning.innerText(), /^Archive damaged \(since .+\): 1 object of the served batch version is not in the object store/);
          } finally {
            await browser.close();
          }
        }
        await store.put({ name: lost }, Readable.toWeb(createReadStream(saved)) as ReadableStream<Uint8Array>);
        await eventually(() => node.status().cluster?.archiveDamaged === null, 'the damage to clear once the object is back');
        assert.equal((await node.runBatch()).version, 3);

        // The whole bucket destroyed by hand: the node holds a copy of every object of its chain, and puts them back.
        const restoredBefore = node.status().cluster?.recovered?.restoredObjects ?? 0;
        await store.destroy();
        // Not before the node has looked (every 5 s): right after the destroy its status still shows the last check's findings.
        await eventually(
          () => (node.status().cluster?.recovered?.restoredObjects ?? 0) > restoredBefore && node.status().cluster?.archiveDamaged === null,
          'the node to put the bucket back',
        );
        // NATS 2.9 may still be removing the destroyed bucket's files, and lose what was put back a moment ago: the
        // node finds it and puts it back again, and a cycle meanwhile answers archive_damaged (503), as a client retries.
        let version = 0;
        await eventually(async () => {
          version = await node.runBatch().then((s) => s.version, (error: unknown) => {
            if ((error as { code?: string }).code === 'archive_damaged') return 0;
            throw error;
          });
          return version > 0;
        }, 'a cycle to run once the bucket is back whole').catch((error: unknown) => {
          throw new Error(`${(error as Error).message} The node reports: ${JSON.stringify(node.status().cluster?.archiveDamaged)}`);
        });
        assert.equal(version, 4);
      } finally {
        await nc.close();
        await app.close();
        await node.close();
      }
    });
  });
});
