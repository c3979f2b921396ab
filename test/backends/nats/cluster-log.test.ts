/**
 * The partitioned log on a real 3-server JetStream cluster (R=3): appends
 * through clients connected to different servers (as different nodes
 * would), duplicates sent through different clients, and independent
 * consumers that must derive the same events, each key once.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  ClusterLog, FirstOccurrenceFilter, InvalidClusterOptionError, keyPartition, LogConsumer, PartitionCountMismatchError, PartitionStreamMismatchError,
  type ClusterAppendOutcome, type ClusterLogOptions, type Verdict,
} from '../../../src/backends/nats/internal.ts';
import { clusterForSuite, natsSkipReason } from '../../support/nats-cluster.ts';
import { catalog, hits, orders, rowsOf } from './fixtures.ts';

const skip = natsSkipReason();

/** Adds the events a verdict keeps to `events`, as sortable strings naming their position and content. */
function collect(events: string[], verdict: Verdict): void {
  if (verdict.kind !== 'admitted') return;
  const { partition, seq, lines, eventType, events: columns } = verdict.admitted;
  rowsOf(eventType, columns).forEach((row, j) => events.push(`${partition}:${seq}:${lines[j]} ${eventType} ${String(row.id ?? row.page)} ${String(row.copy ?? '')}`));
}

/** Every event a fresh consumer derives from the log. */
async function derive(options: ClusterLogOptions): Promise<string[]> {
  const log = await ClusterLog.open(options);
  const events: string[] = [];
  const consumer = await LogConsumer.start(log, (verdict) => collect(events, verdict));
  try {
    await consumer.catchUp(log, 90_000);
    return events.sort();
  } finally {
    await consumer.stop();
    await log.close();
  }
}

describe('cluster log on a 3-server JetStream cluster', { skip, timeout: 300_000 }, () => {
  const suite = clusterForSuite();
  /** A connection to server `i` alone, as a node next to that server would have. */
  const nodeConnection = (i: number) => suite.connect({ servers: suite.cluster.urls[i]!, maxReconnectAttempts: -1, reconnectTimeWait: 250 });

  test('appends with duplicates through three clients: two independent consumers derive the same events, each key once, the first copy winning', async () => {
    type Append = { readonly client: number; readonly type: 'order'; readonly keys: readonly number[] } | { readonly client: number; readonly type: 'hit'; readonly count: number };
    const append: fc.Arbitrary<Append> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ client: fc.nat(2), type: fc.constant('order' as const), keys: fc.array(fc.nat(24), { minLength: 1, maxLength: 12 }) }) },
      { weight: 1, arbitrary: fc.record({ client: fc.nat(2), type: fc.constant('hit' as const), count: fc.integer({ min: 1, max: 5 }) }) },
    );
    // Appends in waves: those of one wave are in flight at once, so the clients' messages interleave in the streams.
    const scenario = fc.array(fc.array(append, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 });
    let run = 0;
    await fc.assert(fc.asyncProperty(scenario, async (waves) => {
      const clusterName = `prop${run++}`;
      const options = { clusterName, partitions: 3, replicas: 3, catalog } as const;
      const clients = await Promise.all([0, 1, 2].map(async (i) => ClusterLog.open({ ...options, connection: await nodeConnection(i) })));
      const sentKeys = new Set<string>();
      const sentPages: string[] = [];
      const placed = new Map<string, string>();
      try {
        let n = 0;
        for (const wave of waves) {
          await Promise.all(wave.map(async (a) => {
            const id = n++;
            if (a.type === 'hit') {
              const pages = Array.from({ length: a.count }, (_, i) => `/${id}/${i}`);
              sentPages.push(...pages);
              const outcome = await clients[a.client]!.append('hit', hits(pages));
              pages.forEach((page, i) => placed.set(`hit ${page} `, at(outcome, i)));
              return;
            }
            const rows = a.keys.map((k, i) => ({ id: `k${k}`, copy: `${id}.${i}` }));
            rows.forEach((r) => sentKeys.add(r.id));
            const outcome = await clients[a.client]!.append('order', orders(rows));
            rows.forEach((r, i) => {
              placed.set(`order ${r.id} ${r.copy}`, at(outcome, i));
              assert.equal(outcome.placement.partition[i], keyPartition('order', r.id, 3), 'a key goes to its partition');
            });
          }));
        }
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }

      const [a, b] = await Promise.all([derive({ ...options, connection: await nodeConnection(0) }), derive({ ...options, connection: await nodeConnection(2) })]);
      assert.deepEqual(a, b, 'two consumers on different servers derive the same events');
      const kept = a.map((e) => e.split(' '));
      const keys = kept.filter(([, type]) => type === 'order').map(([, , id]) => id!);
      assert.equal(new Set(keys).size, keys.length, 'each key once');
      assert.deepEqual(new Set(keys), sentKeys, 'every key sent is there');
      assert.deepEqual(kept.filter(([, type]) => type === 'hit').map(([, , page]) => page).sort(), [...sentPages].sort(), 'every event without a key, once');
      // Each kept event is where its append was told it went, and the kept copy of a key is the one with the lowest position.
      const lowest = new Map<string, string>();
      for (const [event, position] of placed) {
        const [type, id] = event.split(' ');
        if (type !== 'order') continue;
        const best = lowest.get(id!);
        if (best === undefined || comparePositions(position, placed.get(best)!) < 0) lowest.set(id!, event);
      }
      for (const [position, ...event] of kept) {
        const name = event[0] === 'hit' ? `hit ${event[1]} ` : event.join(' ');
        assert.equal(placed.get(name), position, `${name} is where its append was told it went`);
        if (event[0] === 'order') assert.equal(lowest.get(event[1]!), name, `the first copy of ${event[1]} wins`);
      }
    }), { seed: 20240501, numRuns: 6, endOnFailure: true }).catch(withCause);
  });

  test('opening again checks the streams: the same settings open, another partition count or replica count is refused', async () => {
    const options = { servers: suite.cluster.urls, clusterName: 'checked', partitions: 2, replicas: 3, catalog } as const;
    await (await ClusterLog.open(options)).close();
    await (await ClusterLog.open(options)).close();
    await assert.rejects(ClusterLog.open({ ...options, replicas: 1 }), (error: unknown) => error instanceof PartitionStreamMismatchError && error.setting === 'num_replicas');
    await assert.rejects(ClusterLog.open({ ...options, clusterName: 'a.b' }), InvalidClusterOptionError);
    await assert.rejects(ClusterLog.open({ ...options, partitions: 0 }), InvalidClusterOptionError);
  });

  test('another partition count is refused before any stream is created: 2 then 3 leaves no third stream, 3 then 2 finds the third', async () => {
    const streamsOf = async (clusterName: string) => {
      const nc = await suite.connect({ servers: suite.cluster.urls });
      const names: string[] = [];
      for await (const name of (await jetstreamManager(nc)).streams.names()) if (name.startsWith(`${clusterName}_log_`)) names.push(name);
      return names.sort();
    };
    const grown = { servers: suite.cluster.urls, clusterName: 'grown', partitions: 2, replicas: 3, catalog } as const;
    await (await ClusterLog.open(grown)).close();
    await assert.rejects(ClusterLog.open({ ...grown, partitions: 3 }), (error: unknown) => {
      assert.ok(error instanceof PartitionCountMismatchError, String(error));
      assert.deepEqual([error.found, error.configured], [2, 3]);
      assert.equal(error.message, "Cluster grown's log has 2 partitions (streams grown_log_0, grown_log_1) where the config says 3: a cluster keeps its partition count for life, since events are placed by a hash modulo it, so set partitions back to 2 or give the cluster another name.");
      return true;
    });
    assert.deepEqual(await streamsOf('grown'), ['grown_log_0', 'grown_log_1'], 'the refused node created no stream');

    const shrunk = { ...grown, clusterName: 'shrunk', partitions: 3 } as const;
    await (await ClusterLog.open(shrunk)).close();
    await assert.rejects(ClusterLog.open({ ...shrunk, partitions: 2 }), (error: unknown) => {
      assert.ok(error instanceof PartitionCountMismatchError, String(error));
      assert.deepEqual([error.found, error.configured], [3, 2]);
      return true;
    });
    assert.deepEqual(await streamsOf('shrunk'), ['shrunk_log_0', 'shrunk_log_1', 'shrunk_log_2'], 'the refused node changed no stream');
  });

  test('a consumer resumed from filters that saw a prefix (as from an archive) derives what a fresh one does', async () => {
    const options = { servers: suite.cluster.urls, clusterName: 'resume', partitions: 2, replicas: 3, catalog } as const;
    const log = await ClusterLog.open(options);
    try {
      for (let n = 0; n < 12; n++) {
        await log.append('order', orders(Array.from({ length: 8 }, (_, i) => ({ id: `k${(n * 5 + i) % 30}`, copy: `${n}.${i}` }))));
        if (n % 3 === 0) await log.append('hit', hits([`/${n}`]));
      }
      const fresh = await derive(options);
      const events: string[] = [];
      const ends = await log.ends();
      const filters = await Promise.all(ends.map(async (end, p) => {
        const filter = new FirstOccurrenceFilter(catalog);
        for await (const message of log.replay(p, 1, Math.floor(end / 2))) collect(events, filter.admit(message));
        return filter;
      }));
      const consumer = await LogConsumer.start(log, (verdict) => collect(events, verdict), { filters });
      await consumer.catchUp(log, 90_000);
      await consumer.stop();
      assert.deepEqual(events.sort(), fresh);
      assert.equal(new Set(fresh.filter((e) => e.includes(' order ')).map((e) => e.split(' ')[2])).size, 30);
    } finally {
      await log.close();
    }
  });

  test('a large append is split into messages under the size limit; replay reads ranges of a partition back in order', async () => {
    const log = await ClusterLog.open({ servers: suite.cluster.urls, clusterName: 'split', partitions: 1, replicas: 3, catalog, maxMessageBytes: 4096 });
    try {
      const rows = Array.from({ length: 400 }, (_, i) => ({ id: `o${i}`, copy: 'x'.repeat(i % 50) }));
      const outcome = await log.append('order', orders(rows));
      assert.ok(outcome.messages >= 5, `${outcome.messages} messages`);
      assert.deepEqual(outcome.position, [outcome.messages]);
      const read: string[] = [];
      const seqs: number[] = [];
      for await (const m of log.replay(0)) {
        assert.equal(m.kind, 'events');
        seqs.push(m.seq);
        if (m.kind === 'events') read.push(...rowsOf('order', m.events).map((r) => String(r.id)));
      }
      assert.deepEqual(read, rows.map((r) => r.id));
      assert.deepEqual(seqs, Array.from({ length: outcome.messages }, (_, i) => i + 1));
      const middle: number[] = [];
      for await (const m of log.replay(0, 3, 5)) middle.push(m.seq);
      assert.deepEqual(middle, [3, 4, 5]);
      assert.deepEqual(await log.ends(), [outcome.messages]);
    } finally {
      await log.close();
    }
  });
});

/** Where event `i` of an append went, as `partition:seq:line`. */
function at(outcome: ClusterAppendOutcome, i: number): string {
  return `${outcome.placement.partition[i]}:${outcome.placement.seq[i]}:${outcome.placement.line[i]}`;
}

function comparePositions(a: string, b: string): number {
  const [pa, sa, la] = a.split(':').map(Number);
  const [pb, sb, lb] = b.split(':').map(Number);
  return pa! - pb! || sa! - sb! || la! - lb!;
}

/** fast-check's report with the failure's own message and stack, which the test runner does not print from `cause`. */
function withCause(error: unknown): never {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) throw new Error(`${(error as Error).message}\n\nCaused by: ${cause.stack ?? cause.message}`);
  throw error;
}
