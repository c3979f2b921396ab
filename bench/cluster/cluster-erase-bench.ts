/**
 * `npm run bench:cluster-erase`: what erasure and retention cost on a cluster
 * node (issue #31). One node in this process, on a NATS JetStream server on
 * loopback, ingests N events (default 10M) of a metering schema with
 * idempotency keys in ten stretches, a cycle after each (so the archive
 * holds ranges of several ages), then, interleaved run by run:
 *
 * - a full recompute (`runBatch({ full: true })`), the yardstick;
 * - erasing one idempotency key (`erase`: the cycle that seals twice,
 *   rewrites the objects holding it, recomputes, publishes, then erases the
 *   replaced objects and purges the streams), until it answers;
 * - erasing one customer (about N / 10,000 events in every object).
 *
 * Then the clock the node reads retention from moves so that 90% of the
 * events are older than the type's horizon, and the retiring cycle is timed
 * against a full recompute right after it. The numbers answered are checked
 * against the events left.
 *
 *   npm run bench:cluster-erase -- [--events N] [--runs R] [--partitions P]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { ClusterNode } from '../../src/backends/nats/index.ts';
import { NatsCluster } from '../../test/support/nats-cluster.ts';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { formatSpread, spread } from '../compare/stats.ts';
import { CUSTOMERS, eraseEvents, eraseWorkload, START, STEP_MS } from '../erase-workload.ts';

const { values: args } = parseArgs({ options: { events: { type: 'string' }, runs: { type: 'string' }, partitions: { type: 'string' } } });
const EVENTS = Number(args.events ?? 10_000_000);
const RUNS = Number(args.runs ?? 3);
const PARTITIONS = Number(args.partitions ?? 2);
const STRETCHES = 10;
const CHUNK = 50_000;
const IN_FLIGHT = 4;
const DAY = 86_400_000;
const RETENTION_DAYS = 200;
const config = eraseWorkload({ retention: `${RETENTION_DAYS}d`, cluster: { name: 'erasebench', partitions: PARTITIONS, replicas: 1 } });

/** Ingests events [from, from + n), a few requests in flight. */
async function ingest(node: ClusterNode, from: number, n: number): Promise<void> {
  let next = from;
  const end = from + n;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < end) {
      const at = next;
      next = Math.min(end, next + CHUNK);
      await node.ingest('usage', eraseEvents(at, next - at));
    }
  }));
}

/** Every event the node counts, by the all-time roll-up of one view. */
async function counted(node: ClusterNode): Promise<number> {
  const { rows } = await node.query({ view: 'by_plan', granularity: 'all' });
  return rows.reduce((sum, row) => sum + Number(row.events ?? 0), 0);
}

const seconds = (ms: number) => ms / 1000;
const line = (label: string, s: readonly number[]) => console.log(`| ${label} | ${formatSpread(spread(s))} |`);

let clock = START + EVENTS * STEP_MS;
const nats = await NatsCluster.start({ size: 1 });
const { dir, remove } = await makeTempDir('tandem-cluster-erase-');
try {
  const node = await ClusterNode.open({ dataDir: dir, servers: nats.urls, node: 'bench', config, now: () => clock, leaseMs: 5_000 });
  try {
    const loadStarted = performance.now();
    const stretch = Math.ceil(EVENTS / STRETCHES);
    for (let from = 0; from < EVENTS; from += stretch) {
      await ingest(node, from, Math.min(stretch, EVENTS - from));
      await node.runBatch({ full: from === 0 });
    }
    console.log(`Cluster erasure bench: ${cpus().length} cores, NATS 1 server, ${PARTITIONS} partitions at R=1; ${EVENTS.toLocaleString('en-US')} events (${CUSTOMERS.toLocaleString('en-US')} customers) ingested in ${STRETCHES} stretches with a cycle after each in ${seconds(performance.now() - loadStarted).toFixed(1)} s; ${RUNS} runs each, median [min, max].`);
    let left = EVENTS;
    const full: number[] = [];
    const key: number[] = [];
    const customer: number[] = [];
    let keyEvents = 0;
    let customerEvents = 0;
    for (let r = 0; r < RUNS; r++) {
      // Interleaved, so that a slower stretch of the machine falls on each alike.
      full.push((await node.runBatch({ full: true })).durationMs / 1000);
      let started = performance.now();
      const one = await node.erase({ eventType: 'usage', where: { id: `e${(r * 1_000_003 + 17) % EVENTS}` } });
      key.push(seconds(performance.now() - started));
      keyEvents += one.events;
      started = performance.now();
      const many = await node.erase({ eventType: 'usage', where: { customer: `c${r * 17 + 1}` } });
      customer.push(seconds(performance.now() - started));
      customerEvents += many.events;
      left -= one.events + many.events;
    }
    const answered = await counted(node);
    if (answered !== left) throw new Error(`${answered} events answer where ${left} were due after the erasures.`);
    console.log('\n| step | s, median [min, max] |\n| --- | --- |');
    line('full recompute (runBatch full)', full);
    line(`erase one idempotency key (${keyEvents / RUNS} event), until it answers`, key);
    line(`erase one customer (${Math.round(customerEvents / RUNS)} events), until it answers`, customer);
    line('**erase one key / full recompute**, run by run', key.map((k, i) => k / full[i]!));

    // 90% of the events' times fall behind the horizon: the next cycle retires the objects wholly older than it (the
    // archive folds small ranges into larger ones, so an object spans several stretches).
    clock = START + Math.floor(EVENTS * 0.9) * STEP_MS + RETENTION_DAYS * DAY;
    const retiring = await node.runBatch();
    const figures = node.status().retention;
    const after = await node.runBatch({ full: true });
    const kept = await counted(node);
    if (kept + (figures?.retiredEvents ?? 0) !== left) throw new Error(`${kept} events counted and ${figures?.retiredEvents} retired, where ${left} were left.`);
    console.log(`\nretention: the retiring cycle took ${seconds(retiring.durationMs).toFixed(2)} s and retired ${figures?.retiredFiles ?? 0} objects (${(figures?.retiredEvents ?? 0).toLocaleString('en-US')} events); a full recompute of the ${kept.toLocaleString('en-US')} left took ${seconds(after.durationMs).toFixed(2)} s`);
  } finally {
    await node.close();
  }
} finally {
  await nats.stop();
  await remove();
}
