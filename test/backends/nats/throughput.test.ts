/**
 * Measures, and reports as diagnostics (no timed assertion): append
 * throughput and acknowledgement latency with R=3 on the 3-server loopback
 * cluster, for large appends in flight together and for single-event
 * appends one at a time, and how fast a consumer reads the log back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClusterLog, LogConsumer } from '../../../src/backends/nats/internal.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { catalog, orders, rowsOf } from './fixtures.ts';

const skip = natsSkipReason();

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

describe('cluster log throughput and latency (R=3, 3 partitions, loopback)', { skip, timeout: 240_000 }, () => {
  let cluster: NatsCluster;
  let log: ClusterLog;
  let keys = 0;

  before(async () => {
    cluster = await NatsCluster.start();
    log = await ClusterLog.open({ servers: cluster.urls, clusterName: 'bench', partitions: 3, replicas: 3, catalog });
  });
  after(async () => {
    await log?.close();
    await cluster?.stop();
  });

  const NOTE = 'a note of some forty characters or so....';
  /** Payload bytes of an order line but its id's: the id is the only part whose length varies. */
  const lineBytes = Buffer.byteLength(`${JSON.stringify(rowsOf('order', orders([{ id: '', copy: 'c', note: NOTE }]))[0])}\n`);

  /** Appends of `size` events, `inFlight` at a time, for `ms`: events/s, payload MB/s, and each append's latency. */
  async function measure(size: number, inFlight: number, ms: number) {
    const latencies: number[] = [];
    let events = 0;
    let bytes = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (performance.now() - started < ms) {
        const rows = Array.from({ length: size }, () => ({ id: `order-${keys++}`, copy: 'c', note: NOTE }));
        const columns = orders(rows);
        const t0 = performance.now();
        await log.append('order', columns);
        latencies.push(performance.now() - t0);
        events += size;
        bytes += rows.reduce((n, r) => n + r.id.length + lineBytes, 0);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return { eventsPerSecond: Math.round(events / seconds), mbPerSecond: (bytes / seconds / 1e6).toFixed(1), p50: percentile(latencies, 0.5).toFixed(1), p99: percentile(latencies, 0.99).toFixed(1), appends: latencies.length };
  }

  test('appends: throughput and acknowledgement latency', async (t) => {
    const big = await measure(600, 8, 5_000);
    t.diagnostic(`600-event appends, 8 in flight: ${big.eventsPerSecond} events/s (${big.mbPerSecond} MB/s of payload, ${lineBytes + 12} bytes an event), append latency p50 ${big.p50} ms, p99 ${big.p99} ms over ${big.appends} appends`);
    const single = await measure(1, 1, 2_000);
    t.diagnostic(`1-event appends, one at a time: ${single.eventsPerSecond} events/s, ack latency p50 ${single.p50} ms, p99 ${single.p99} ms over ${single.appends} appends`);
    const many = await measure(1, 64, 3_000);
    t.diagnostic(`1-event appends, 64 in flight: ${many.eventsPerSecond} events/s, ack latency p50 ${many.p50} ms, p99 ${many.p99} ms over ${many.appends} appends`);
    assert.ok(big.appends > 0 && single.appends > 0 && many.appends > 0);
  });

  test('a consumer reads the log back', async (t) => {
    let events = 0;
    const started = performance.now();
    const consumer = await LogConsumer.start(log, (verdict) => {
      if (verdict.kind === 'admitted') events += verdict.admitted.events.count;
    });
    await consumer.catchUp(log, 120_000);
    const seconds = (performance.now() - started) / 1000;
    await consumer.stop();
    assert.equal(events, keys);
    t.diagnostic(`read back and deduplicated ${events} events in ${seconds.toFixed(1)} s: ${Math.round(events / seconds)} events/s`);
  });
});
