/**
 * A cluster node takes no history file over HTTP: `POST /v1/history`
 * answers 501 `history_import_unsupported`, naming the command that
 * imports into a cluster, before any byte of the file is kept.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { ClusterNode } from '../../src/backends/nats/internal.ts';
import { createServer } from '../../src/server/index.ts';
import { dataDirectory } from '../../src/util/data-directory.ts';
import { NatsCluster, natsSkipReason } from '../support/nats-cluster.ts';
import { withTempDir } from '../support/temp-dir.ts';

const config = {
  eventTypes: [{ name: 'hit', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', page: 'string' } }],
  views: [{ name: 'pages', eventType: 'hit', dimensions: ['page'], granularity: 'hour', measures: { hits: { type: 'count' } } }],
  cluster: { name: 'history_upload_test', partitions: 1, replicas: 1 },
};

describe('history upload - a cluster node', { skip: natsSkipReason(), timeout: 120_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('answers 501 history_import_unsupported naming tandem ingest --history --nats, and keeps nothing', async () => {
    await withTempDir(async (dir) => {
      const node = await ClusterNode.open({ dataDir: dir, config, servers: nats!.urls, node: 'a' });
      const { app } = createServer({ tandem: node });
      try {
        const answer = await app.inject({
          method: 'POST', url: '/v1/history/hit', headers: { 'content-type': 'application/x-ndjson' },
          payload: `${JSON.stringify({ id: 'h1', at: '2026-11-29T10:00:00Z', page: '/' })}\n`,
        });
        assert.equal(answer.statusCode, 501, answer.body);
        const { error } = answer.json<{ error: { code: string; message: string } }>();
        assert.equal(error.code, 'history_import_unsupported');
        assert.match(error.message, /tandem ingest --history .* --nats /);
        assert.deepEqual(await readdir(dataDirectory(dir).uploads).catch(() => []), []);
      } finally {
        await app.close();
        await node.close();
      }
    });
  });
});
