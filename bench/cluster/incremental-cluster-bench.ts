/**
 * `npm run bench:cluster-incremental`: what a batch cycle costs in cluster
 * mode when it adds only the archive ranges it archived (issue #27), on the
 * workload of `npm run bench:incremental` (the usage events' live traffic:
 * 1M events span a day, 2% arrive up to a week late). A node in this
 * process, on a NATS JetStream cluster on loopback, ingests a history and
 * publishes a full version; each round then ingests new events (3% of the
 * history) and times an incremental cycle over them against a full
 * recompute of the same data, one after the other, in the same run. Each
 * round does it twice: with the cycle started right after the ingest (it
 * then archives most of the new events itself, as the batch node's archiving
 * ahead shares this process's main thread with the ingest), and with the
 * cycle started after a pause of `PAUSE_MS`, as a schedule whose cycles are
 * minutes apart finds it (the new events archived ahead by then).
 *
 * Then a soak with the default policy (a full recompute after 16 deltas):
 * cycles, each after a few thousand new events, printing every 10 cycles
 * how many archive ranges the served chain holds and how many objects and
 * bytes the object store holds, which compaction and the sweep bound.
 *
 * Usage: npm run bench:cluster-incremental -- [history=10000000] [rounds=5] [soak cycles=40] [servers=1] [partitions=2]
 * (TANDEM_BENCH_LOG=1 prints the node's log: its sweeps, among others)
 */
import { Objm } from '@nats-io/obj';
import { ClusterNode } from '../../src/backends/nats/index.ts';
import type { BatchSummary, EngineLogger } from '../../src/index.ts';
import { NatsCluster } from '../../test/support/nats-cluster.ts';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { formatSpread, spread } from '../compare/stats.ts';
import { BATCH_CUSTOMERS, config, makeLiveBatch } from '../usage-workload.ts';

const HISTORY = Number(process.argv[2] ?? 10_000_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const SOAK_CYCLES = Number(process.argv[4] ?? 40);
const SERVERS = Number(process.argv[5] ?? 1);
const PARTITIONS = Number(process.argv[6] ?? 2);
const NEW = Math.round(HISTORY * 0.03);
const PAUSE_MS = 3_000;
const SOAK_EVENTS = 5_000;
const LEASE_MS = 5_000;
const CHUNK = 50_000;
const IN_FLIGHT = 4;

let seq = 0;
/** Ingests `events` of live traffic, a few requests in flight. */
async function ingest(node: ClusterNode, events: number): Promise<void> {
  const chunks = Array.from({ length: Math.ceil(events / CHUNK) }, (_, i) => Math.min(CHUNK, events - i * CHUNK));
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < chunks.length) {
      const size = chunks[next++]!;
      await node.ingest('usage', makeLiveBatch(seq++, size, BATCH_CUSTOMERS));
    }
  }));
}

/** The node's log on stdout, one line per entry (an error by its message). */
const line = (level: string) => (o: object, message?: string) => {
  const err = (o as { err?: unknown }).err;
  console.log(level, message, err === undefined ? JSON.stringify(o).slice(0, 300) : String(err).slice(0, 500));
};
const printedLogger: EngineLogger = { info: line('INFO'), warn: line('WARN'), error: line('ERROR') };

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const count = (n: number) => n.toLocaleString('en-US');

/** The served chain's length (from its manifest in the object store), and the store's objects and bytes: what compaction bounds. */
async function storeFigures(nats: NatsCluster, node: ClusterNode, bucket: string): Promise<string> {
  const nc = await nats.connect();
  try {
    const store = await new Objm(nc).open(bucket);
    const objects = (await store.list()).filter((o) => !o.deleted);
    const bytes = objects.reduce((n, o) => n + o.size, 0);
    const served = `batch/v${String(node.status().batch?.version ?? 0).padStart(8, '0')}-`;
    const manifest = objects.find((o) => o.name.startsWith(served) && o.name.endsWith('/manifest.json'));
    const ranges = manifest === undefined ? 0 : (JSON.parse(await store.getBlob(manifest.name).then((b) => new TextDecoder().decode(b!))) as { ranges: unknown[] }).ranges.length;
    return `chain ${ranges} ranges; object store ${objects.length} objects, ${(bytes / 2 ** 20).toFixed(1)} MiB`;
  } finally {
    await nc.close();
  }
}

/** Times of one way of starting the cycle: the incremental cycles, the full recomputes right after each, their ratios. */
interface Series {
  readonly incremental: number[];
  readonly archiving: number[];
  readonly full: number[];
}

/** Ingests 3% new events, waits `pauseMs`, runs an incremental cycle and then a full recompute of the same data. */
async function round(node: ClusterNode, pauseMs: number, series: Series, label: string): Promise<void> {
  await ingest(node, NEW);
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
  const inc: BatchSummary = await node.runBatch();
  if (inc.mode !== 'incremental') throw new Error(`${label}: the cycle was ${inc.mode}`);
  const whole = await node.runBatch({ full: true });
  series.incremental.push(inc.durationMs);
  series.archiving.push(inc.exportMs);
  series.full.push(whole.durationMs);
  console.log(`${label}: incremental over ${count(inc.inputEvents ?? 0)} new events ${seconds(inc.durationMs)} (sealing and archiving ${seconds(inc.exportMs)}); full over ${count(whole.events)} ${seconds(whole.durationMs)}`);
}

function report(name: string, series: Series): void {
  const ratios = series.incremental.map((ms, i) => ms / series.full[i]!);
  console.log(`| ${name}: incremental (${count(NEW)} new, 3%), whole cycle | ${formatSpread(spread(series.incremental))} |`);
  console.log(`| ${name}: of which sealing and archiving | ${formatSpread(spread(series.archiving))} |`);
  console.log(`| ${name}: full recompute right after (${count(HISTORY)}+) | ${formatSpread(spread(series.full))} |`);
  console.log(`| ${name}: **incremental / full**, per round | ${formatSpread(spread(ratios))} |`);
}

async function rounds(node: ClusterNode): Promise<void> {
  const atOnce: Series = { incremental: [], archiving: [], full: [] };
  const paused: Series = { incremental: [], archiving: [], full: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    await round(node, 0, atOnce, `round ${r}, cycle right after the ingest`);
    await round(node, PAUSE_MS, paused, `round ${r}, cycle ${PAUSE_MS / 1000} s after the ingest`);
  }
  console.log(`\n| cycle | ms, median [min, max] |\n| --- | --- |`);
  report('right after the ingest', atOnce);
  report(`${PAUSE_MS / 1000} s after the ingest`, paused);
}

async function soak(nats: NatsCluster, node: ClusterNode, bucket: string): Promise<void> {
  console.log(`\nsoak: ${SOAK_CYCLES} cycles, ${count(SOAK_EVENTS)} new events before each`);
  console.log(`before: ${await storeFigures(nats, node, bucket)}`);
  const modes = { full: 0, incremental: 0 };
  for (let cycle = 1; cycle <= SOAK_CYCLES; cycle++) {
    await ingest(node, SOAK_EVENTS);
    const summary = await node.runBatch();
    modes[summary.mode ?? 'full']++;
    if (cycle % 10 === 0) console.log(`cycle ${cycle} (${modes.incremental} incremental, ${modes.full} full so far; this one ${seconds(summary.durationMs)}): ${await storeFigures(nats, node, bucket)}`);
  }
  // What the sweep spares for a lease after it was named last (a cycle may still publish it) goes after that.
  await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 6_000));
  console.log(`a lease and a sweep later: ${await storeFigures(nats, node, bucket)}`);
}

const nats = await NatsCluster.start({ size: SERVERS });
const { dir, remove } = await makeTempDir('tandem-cluster-incremental-');
try {
  const name = 'bench';
  const node = await ClusterNode.open({
    // A 5 s lease: the sweep deletes what no kept version names once it is older than a lease, within the soak.
    dataDir: dir, servers: nats.urls, node: 'bench', leaseMs: LEASE_MS,
    ...(process.env.TANDEM_BENCH_LOG === '1' ? { logger: printedLogger } : {}),
    config: { ...config, cluster: { name, partitions: PARTITIONS, replicas: SERVERS } },
  });
  try {
    console.log(`NATS: ${SERVERS} server(s), ${PARTITIONS} partitions at R=${SERVERS}; history ${count(HISTORY)} events, ${count(NEW)} new per round (3%)`);
    const started = performance.now();
    await ingest(node, HISTORY);
    console.log(`history ingested in ${seconds(performance.now() - started)}`);
    const first = await node.runBatch({ full: true });
    console.log(`first full cycle (archiving the history) ${seconds(first.durationMs)}`);
    await rounds(node);
    await soak(nats, node, `${name}_master`);
  } finally {
    await node.close();
  }
} finally {
  await nats.stop();
  await remove();
}
