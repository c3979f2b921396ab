/**
 * Faults on a real 3-server JetStream cluster while three clients append
 * continuously (R=3, 3 partitions): `kill -9` of the server leading a
 * partition's stream and its restart, then SIGSTOP of one for seconds. After
 * each, every acknowledged event is there exactly once, in a consumer that
 * followed through the fault and in one that read the log afresh, and
 * nothing sent is there twice, acknowledged or not. Then no quorum at all:
 * the append fails with a typed error, and succeeds once the servers return.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import {
  AppendUnacknowledgedError, ClusterLog, FirstOccurrenceFilter, laterOf, LogConsumer, PartitionDivergedError, partitionStream, type ClusterAppendOutcome, type IngestPosition,
} from '../../../src/backends/nats/internal.ts';
import { TandemError } from '../../../src/definitions/index.ts';
import { clusterForSuite, natsSkipReason } from '../../support/nats-cluster.ts';
import { catalog, hits, orders, rowsOf } from './fixtures.ts';

const skip = natsSkipReason();
const PARTITIONS = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small seeded generator, so a failing run can be read again. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** What the writers sent and what was acknowledged. */
interface Ledger {
  readonly sentKeys: Set<string>;
  readonly ackedKeys: Set<string>;
  readonly sentPages: Set<string>;
  readonly ackedPages: Set<string>;
  position: IngestPosition;
  appends: number;
  failures: string[];
  retries: number;
  duplicateMessages: number;
  readonly latencies: number[];
}

/** What a consumer derived: each key's copies and each page's count, and what the rule dropped. */
interface Derived {
  readonly keys: Map<string, number>;
  readonly pages: Map<string, number>;
  repeatedMessages: number;
  duplicateKeys: number;
  /** Every kept event with its position, to compare two consumers exactly. */
  readonly events: string[];
}

function emptyDerived(): Derived {
  return { keys: new Map(), pages: new Map(), repeatedMessages: 0, duplicateKeys: 0, events: [] };
}

/** What a consumer derives, kept per partition so that one partition can be re-read alone after a divergence. */
function deriving(): { listener: Parameters<typeof LogConsumer.start>[1]; reset(p: number): void; merged(): Derived } {
  const parts = new Map<number, Derived>();
  return {
    listener: (verdict, p) => {
      const derived = parts.get(p) ?? emptyDerived();
      parts.set(p, derived);
      if (verdict.kind === 'repeated-message') derived.repeatedMessages++;
      if (verdict.kind !== 'admitted') return;
      const { partition, seq, lines, eventType, events, duplicates } = verdict.admitted;
      derived.duplicateKeys += duplicates;
      rowsOf(eventType, events).forEach((row, j) => {
        const name = String(eventType === 'order' ? row.id : row.page);
        const counts = eventType === 'order' ? derived.keys : derived.pages;
        counts.set(name, (counts.get(name) ?? 0) + 1);
        derived.events.push(`${partition}:${seq}:${lines[j]} ${name} ${String(row.copy ?? '')}`);
      });
    },
    reset: (p) => void parts.delete(p),
    merged: () => {
      const all = emptyDerived();
      for (const d of parts.values()) {
        for (const [k, n] of d.keys) all.keys.set(k, (all.keys.get(k) ?? 0) + n);
        for (const [k, n] of d.pages) all.pages.set(k, (all.pages.get(k) ?? 0) + n);
        all.repeatedMessages += d.repeatedMessages;
        all.duplicateKeys += d.duplicateKeys;
        all.events.push(...d.events);
      }
      return all;
    },
  };
}

describe('cluster log under faults', { skip, timeout: 480_000 }, () => {
  const suite = clusterForSuite();
  /** A connection that starts at server `first` and fails over to the others. */
  const nodeConnection = (first: number) => {
    const urls = suite.cluster.urls;
    const servers = urls.map((_, i) => urls[(first + i) % urls.length]!);
    return suite.connect({ servers, noRandomize: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, pingInterval: 2_000, maxPingOut: 2 });
  };

  /**
   * Three writers append for the whole scenario (orders with fresh keys plus
   * resends of keys another writer had acknowledged, and hits without keys);
   * a failed append of orders is sent again as a client would. `fault` runs
   * meanwhile. Then both consumers must hold every acknowledged event once.
   */
  async function scenario(t: TestContext, clusterName: string, fault: () => Promise<void>): Promise<void> {
    const options = { clusterName, partitions: PARTITIONS, replicas: 3, catalog } as const;
    const writers = await Promise.all([0, 1, 2].map(async (i) => ClusterLog.open({ ...options, connection: await nodeConnection(i) })));
    const followerLog = await ClusterLog.open({ ...options, connection: await nodeConnection(1) });
    const followed = deriving();
    const errors: unknown[] = [];
    const rebuilding: Promise<void>[] = [];
    let divergences = 0;
    // What a node does when its reader finds the stream changed under it in a leader change: re-read that partition.
    const follower: LogConsumer = await LogConsumer.start(followerLog, followed.listener, {
      onError: (error, p) => {
        if (!(error instanceof PartitionDivergedError)) return void errors.push(error);
        divergences++;
        rebuilding.push(follower.refollow(p, new FirstOccurrenceFilter(catalog), () => followed.reset(p)));
      },
    });
    const ledger: Ledger = { sentKeys: new Set(), ackedKeys: new Set(), sentPages: new Set(), ackedPages: new Set(), position: [], appends: 0, failures: [], retries: 0, duplicateMessages: 0, latencies: [] };
    const acked: string[] = [];
    let running = true;

    const record = (outcome: ClusterAppendOutcome, started: number) => {
      ledger.position = laterOf(ledger.position.length === 0 ? new Array<number>(PARTITIONS).fill(0) : ledger.position, outcome.position);
      ledger.retries += outcome.retries;
      ledger.duplicateMessages += outcome.duplicateMessages;
      ledger.latencies.push(Date.now() - started);
      ledger.appends++;
    };
    const write = async (w: number) => {
      const next = random(1000 + w);
      for (let n = 0; running; n++) {
        const started = Date.now();
        if (n % 5 === 4) {
          const pages = Array.from({ length: 10 }, (_, i) => `/${w}/${n}/${i}`);
          pages.forEach((p) => ledger.sentPages.add(p));
          try {
            record(await writers[w]!.append('hit', hits(pages)), started);
            pages.forEach((p) => ledger.ackedPages.add(p));
          } catch (error) {
            if (!(error instanceof TandemError)) throw error;
            ledger.failures.push(`${error.code}: ${error.message}`);
          }
          continue;
        }
        const rows = Array.from({ length: 20 }, (_, i) => ({ id: `w${w}-${n}-${i}`, copy: `${w}.${n}` }));
        // Resends of keys already acknowledged, through this writer's server rather than the one that took them first.
        for (let i = 0; i < 3 && acked.length > 0; i++) rows.push({ id: acked[Math.floor(next() * acked.length)]!, copy: `${w}.${n}` });
        rows.forEach((r) => ledger.sentKeys.add(r.id));
        for (let attempt = 0; attempt < 3; attempt++) {
          try {
            record(await writers[w]!.append('order', orders(rows)), started);
            for (const r of rows) {
              if (!ledger.ackedKeys.has(r.id)) acked.push(r.id);
              ledger.ackedKeys.add(r.id);
            }
            break;
          } catch (error) {
            if (!(error instanceof TandemError)) throw error;
            ledger.failures.push(`${error.code}: ${error.message}`);
          }
        }
      }
    };

    const writing = Promise.all([0, 1, 2].map(write));
    try {
      await sleep(1_500);
      await fault();
      await sleep(1_500);
    } finally {
      running = false;
      await writing;
    }

    await Promise.all(rebuilding);
    await follower.waitFor(ledger.position, 90_000);
    const freshLog = await ClusterLog.open({ ...options, connection: await nodeConnection(2) });
    const fresh = deriving();
    const freshConsumer = await LogConsumer.start(freshLog, fresh.listener);
    await freshConsumer.catchUp(freshLog, 90_000);
    await Promise.all([follower.stop(), freshConsumer.stop()]);
    await Promise.all([...writers, followerLog, freshLog].map((log) => log.close()));

    assert.deepEqual(errors, [], 'the follower followed through the fault');
    const derivedSets = [followed.merged(), fresh.merged()];
    for (const derived of derivedSets) {
      for (const key of ledger.ackedKeys) assert.equal(derived.keys.get(key), 1, `acknowledged key ${key} is there once`);
      for (const [key, count] of derived.keys) {
        assert.equal(count, 1, `key ${key} once`);
        assert.ok(ledger.sentKeys.has(key), `key ${key} was sent`);
      }
      for (const page of ledger.ackedPages) assert.equal(derived.pages.get(page), 1, `acknowledged page ${page} is there once`);
      for (const [page, count] of derived.pages) {
        assert.equal(count, 1, `page ${page} once`);
        assert.ok(ledger.sentPages.has(page), `page ${page} was sent`);
      }
    }
    // On nats-server 2.9.10, about one run in five, the follower had read a message that the restarted stream no
    // longer holds at that sequence (the next message took it). Its reader checks what it read against the stream
    // whenever it replaces its consumer, and reports the divergence; the partition is then re-read, as a node does.
    // So the follower and a fresh consumer must place every event alike.
    if (divergences > 0) t.diagnostic(`${clusterName}: the follower found ${divergences} partition(s) changed under it and re-read them`);
    assert.deepEqual(derivedSets[0]!.events.sort(), derivedSets[1]!.events.sort(), 'the consumer that followed through the fault and the fresh one derive the same events');
    const sorted = [...ledger.latencies].sort((a, b) => a - b);
    t.diagnostic(`${clusterName}: ${ledger.appends} appends acknowledged (${ledger.ackedKeys.size} keys, ${ledger.ackedPages.size} pages), ${ledger.failures.length} failed, `
      + `${ledger.retries} publish retries, ${ledger.duplicateMessages} recognised by JetStream as duplicates, ${derivedSets[1]!.repeatedMessages} dropped by the message-id rule, `
      + `${derivedSets[1]!.duplicateKeys} repeated keys dropped; ack latency p50 ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms`);
    for (const failure of new Set(ledger.failures)) t.diagnostic(`failure: ${failure}`);
  }

  test('kill -9 of the server leading a partition, then its restart, while three clients append', async (t) => {
    await scenario(t, 'crash', async () => {
      const leader = await suite.cluster.leaderOf(partitionStream('crash', 0));
      assert.ok(leader !== undefined, 'partition 0 has a leader');
      const killed = Date.now();
      suite.cluster.kill(leader, 'SIGKILL');
      await sleep(6_000);
      await suite.cluster.restart(leader);
      t.diagnostic(`killed ${suite.cluster.names[leader]} (leading partition 0), restarted it ${Date.now() - killed} ms later`);
    });
  });

  test('SIGSTOP of the server leading a partition for 4 s, then SIGCONT, while three clients append', async (t) => {
    await scenario(t, 'freeze', async () => {
      const leader = await suite.cluster.leaderOf(partitionStream('freeze', 1));
      assert.ok(leader !== undefined, 'partition 1 has a leader');
      suite.cluster.kill(leader, 'SIGSTOP');
      try {
        await sleep(4_000);
      } finally {
        suite.cluster.kill(leader, 'SIGCONT');
      }
      t.diagnostic(`froze ${suite.cluster.names[leader]} (leading partition 1) for 4 s`);
    });
  });

  test('without a quorum an append fails with a typed error after its retry budget, and succeeds once the servers are back', async () => {
    const options = { clusterName: 'quorum', partitions: 1, replicas: 3, catalog, retryForMs: 3_000, ackTimeoutMs: 1_000 } as const;
    const log = await ClusterLog.open({ ...options, connection: await nodeConnection(0) });
    try {
      await log.append('order', orders([{ id: 'before', copy: '' }]));
      suite.cluster.kill(1, 'SIGSTOP');
      suite.cluster.kill(2, 'SIGSTOP');
      try {
        await assert.rejects(log.append('order', orders([{ id: 'during', copy: '' }])), (error: unknown) => {
          assert.ok(error instanceof AppendUnacknowledgedError, String(error));
          assert.equal(error.partition, 0);
          assert.deepEqual(error.acknowledged, [0]);
          assert.match(error.message, /^Partition 0 did not acknowledge the append within \d+ s, so its events may or may not be stored: retry it, and its idempotency keys keep it from counting twice\.$/);
          return true;
        });
      } finally {
        suite.cluster.kill(1, 'SIGCONT');
        suite.cluster.kill(2, 'SIGCONT');
      }
      const patient = await ClusterLog.open({ ...options, retryForMs: 90_000, ackTimeoutMs: 2_000, connection: await nodeConnection(0) });
      try {
        const retried = await patient.append('order', orders([{ id: 'during', copy: 'again' }, { id: 'after', copy: '' }]));
        assert.ok(retried.position[0]! >= 2);
        const keys: string[] = [];
        for await (const m of patient.replay(0)) if (m.kind === 'events') keys.push(...rowsOf('order', m.events).map((r) => String(r.id)));
        // The refused append may have been stored after all; either way the rule keeps one copy of 'during'.
        assert.ok(keys.join() === 'before,during,during,after' || keys.join() === 'before,during,after', keys.join());
      } finally {
        await patient.close();
      }
    } finally {
      await log.close();
    }
  });
});
