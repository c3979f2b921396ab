/**
 * A cluster history import whose batch cycle fails after it published its
 * chunks (the node it asks is down): the import fails with a typed error
 * carrying what it staged per file, offsets included, and the next cycle,
 * asked of a live node, archives the rows, so every answer then counts them
 * without a second import.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterNode, HistoryPublishPendingError, importHistoryIntoCluster } from '../../../src/backends/nats/internal.ts';
import { compileConfig, LogClosedError } from '../../../src/index.ts';
import { answersAfter, erasureConfig, reference, usageEvents, type UsageEvent } from '../../support/erasure-fixture.ts';
import { bounded } from '../../support/hang-guard.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const PARTITIONS = 2;
const CHUNK_ROWS = 64;
const STEP = 2 ** 20;

const csvLine = (e: UsageEvent) => `${e.id},${new Date(e.at).toISOString()},${e.customer},${e.plan},${e.units}`;

describe('a cluster history import whose cycle fails', { skip: natsSkipReason(), timeout: 300_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
  });
  after(async () => {
    await nats?.stop();
  });

  test('history import - a failed publishing cycle throws HistoryPublishPendingError with the staged files; the next cycle archives them', async () => {
    await withTempDir(async (dir) => {
      const config = { ...erasureConfig, cluster: { name: 'historypending', partitions: PARTITIONS, replicas: 1 } };
      const open = (name: string) => ClusterNode.open({ dataDir: join(dir, name), config, servers: nats!.urls, node: name, leaseMs: 3_000 });
      const live = await open('a');
      const down = await open('b');
      await down.close();
      try {
        const events = usageEvents(0, 50);
        const result = await bounded(live.ingest('usage', events), 'an ingest', [live]);
        const imported = usageEvents(50, 300);
        await writeFile(join(dir, 'old.csv'), ['id,at,customer,plan,units', ...imported.map(csvLine), 'bad,not-a-time,x,y,z'].join('\n') + '\n');
        const target = { servers: nats!.urls, catalog: compileConfig(config), dir: join(dir, 'import'), chunkRows: CHUNK_ROWS, runBatch: (o: object) => down.runBatch(o) };
        await mkdir(target.dir);

        const failure = await importHistoryIntoCluster(target, 'usage', [join(dir, 'old.csv')]).then(() => undefined, (error: unknown) => error);
        assert.ok(failure instanceof HistoryPublishPendingError, `the import failed with ${String(failure)}`);
        assert.ok(failure.cause instanceof LogClosedError, 'the cause is the closed node\'s refusal');
        assert.equal(failure.eventType, 'usage');
        assert.equal(failure.staged.length, 1);
        const [file] = failure.staged;
        assert.deepEqual([file!.file, file!.rows, file!.rejected], [join(dir, 'old.csv'), imported.length + 1, 1]);
        // 150 rows a partition, give or take, in chunks of 64: at least 4 messages, each numbered in its partition's stream after the live ones.
        assert.ok(failure.messages >= Math.ceil(imported.length / CHUNK_ROWS), `${failure.messages} messages`);
        assert.ok(file!.first >= STEP && file!.first % STEP === 0, `first ${file!.first} is a message's first row`);
        assert.ok(file!.end > file!.first && file!.end % STEP >= 1 && file!.end % STEP <= CHUNK_ROWS, `end ${file!.end} is past a chunk's last row`);
        assert.match(failure.message, /^The 300 good rows of 1 file of event type 'usage' are staged in \d+ history messages of the cluster's streams, but the batch cycle asked to archive them failed \(.+\): the next cycle that runs archives them, with no need to import them again\.$/);

        await bounded(live.runBatch({ seal: true }), 'the next cycle', [live]);
        const position = result.position ?? [];
        assert.deepEqual(await answersAfter(live, position), await reference([...events, ...imported]), 'the next cycle archived the staged rows');
      } finally {
        await live.close().catch(() => undefined);
      }
    });
  });
});
