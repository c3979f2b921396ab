/**
 * `npm run bench:scale` (issue #28): what each added node adds. The same
 * workload on 1, 2 and 4 Tandem nodes (each its own process) on a 3-server
 * NATS JetStream cluster on loopback, every node in a CPU cgroup of its own
 * with a fixed quota, so that on this one machine each behaves as a small
 * machine would; the NATS servers and the load client run outside the
 * quotas. Without root or a cgroup v1 `cpu` controller it runs without
 * quotas and says so (the figures then share the machine's cores).
 *
 * Per node count, in each run:
 * - ingest: bodies of 1,000 events, 4 in flight per node, spread over the
 *   nodes, for a few seconds; events acknowledged per second;
 * - a full batch cycle over the same history (`HISTORY` events, ingested
 *   after the throughput phase into a fresh cluster), asked of the first node;
 * - queries spread over the nodes: a top 10 of 500 customers by revenue
 *   over all time, and one customer's totals (p50 and p99 of 200 each);
 * - the peak resident memory of each node (VmHWM), the largest reported;
 * - where the CPU went during the ingest phase (issue #28: "if a goal is
 *   missed, say where the time goes"): each node's CPU seconds and whether
 *   its quota throttled it, the 3 NATS servers' CPU seconds together, the
 *   load client's, what else ran (other processes and interrupts), and the
 *   machine's idle and stolen core-seconds, per run and as medians in a
 *   second table. Nodes throttled with idle cores left mean the quotas are
 *   the limit; no idle left means the machine's cores are.
 *
 * What the quotas cannot show: network latency between machines, and NATS
 * servers on machines of their own (here they share the two cores).
 *
 * Usage: npm run bench:scale -- [runs=3] [seconds=8] [cores per node=0.25] [nodes=1,2,4] [partitions=8] [partition by=key|customer]
 */
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { freePorts, NatsCluster } from '../../test/support/nats-cluster.ts';
import { TandemNodes } from '../../test/support/tandem-nodes.ts';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { formatSpread, percentiles, spread } from '../compare/stats.ts';
import { CpuQuotas, peakRssMiB, type Throttling } from './cpu-quotas.ts';
import { childPids, cpuSnapshot, cpuWindow, type CpuWindow } from './cpu-usage.ts';

const RUNS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 8);
const CORES = Number(process.argv[4] ?? 0.25);
const NODE_COUNTS = (process.argv[5] ?? '1,2,4').split(',').map(Number);
const PARTITIONS = Number(process.argv[6] ?? 8);
/** A field of `usage` to place events by (`cluster.partitionBy`), e.g. `customer`; `key` (the default) places them by their idempotency key. */
const PARTITION_BY = process.argv[7] ?? 'key';
const IN_FLIGHT_PER_NODE = 4;
const BODY_EVENTS = 1_000;
const HISTORY = 200_000;
const QUERIES = 200;
const CUSTOMERS = 500;

const config = (name: string) => ({
  eventTypes: [{ name: 'usage', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', customer: 'string', region: 'string', units: 'number', amount: { type: 'number', scale: 2 } } }],
  views: [
    { name: 'by_customer', eventType: 'usage', dimensions: ['customer'], granularity: 'hour', measures: { events: { type: 'count' }, revenue: { type: 'sum', field: 'amount' }, units: { type: 'sum', field: 'units' } } },
    { name: 'by_region', eventType: 'usage', dimensions: ['region'], granularity: 'minute', measures: { events: { type: 'count' }, units: { type: 'max', field: 'units' } } },
  ],
  cluster: { name, partitions: PARTITIONS, replicas: 3, ...(PARTITION_BY === 'key' ? {} : { partitionBy: { usage: PARTITION_BY } }) },
});

let bodies = 0;
function body(prefix: string): string {
  const b = bodies++;
  const now = Date.now();
  const lines: string[] = [];
  for (let i = 0; i < BODY_EVENTS; i++) {
    const n = b * BODY_EVENTS + i;
    lines.push(`{"id":"${prefix}-${b}-${i}","at":${now - (n % 86_400) * 1000},"customer":"c${(n * 7919) % CUSTOMERS}","region":"${['eu', 'us', 'ap', 'sa'][n % 4]}","units":${n % 97},"amount":${(n % 9973) / 100}}`);
  }
  return lines.join('\n');
}

async function post(url: string, path: string, payload: string, type = 'application/json'): Promise<unknown> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body: payload });
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

/** Events acknowledged per second, `IN_FLIGHT_PER_NODE` bodies in flight per node, for `SECONDS` (or until `limit` events). */
async function ingest(urls: readonly string[], prefix: string, limit = Infinity): Promise<number> {
  const deadline = limit === Infinity ? performance.now() + SECONDS * 1000 : Infinity;
  let events = 0;
  let sent = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT_PER_NODE * urls.length }, async (_, worker) => {
    for (let n = 0; performance.now() < deadline && sent < limit; n++) {
      sent += BODY_EVENTS;
      await post(urls[(worker + n) % urls.length]!, '/v1/events/usage', body(`${prefix}-w${worker}`), 'application/x-ndjson');
      events += BODY_EVENTS;
    }
  }));
  return events / ((performance.now() - started) / 1000);
}

/** Milliseconds of each of `QUERIES` queries, asked of the nodes in turn. */
async function latencies(urls: readonly string[], query: (i: number) => object): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const started = performance.now();
    await post(urls[i % urls.length]!, '/v1/query', JSON.stringify(query(i)));
    samples.push(performance.now() - started);
  }
  return samples;
}

/** Where the CPU went during one ingest phase, in seconds. */
interface IngestCpu {
  /** The window's wall-clock length. */
  readonly seconds: number;
  /** Each node's CPU seconds, in node order. */
  readonly nodes: readonly number[];
  /** Each node's throttling in the window, in node order; empty without quotas. */
  readonly throttling: readonly Throttling[];
  /** The NATS servers' CPU seconds, together. */
  readonly nats: number;
  /** This process's (the load client's) CPU seconds. */
  readonly client: number;
  /** Busy core-seconds of processes other than the nodes, NATS and the client: anything else on the machine (tests someone runs), which the figures then share the cores with. */
  readonly other: number;
  /** Core-seconds serving interrupts, charged to no process (on loopback, much of the network stack). */
  readonly interrupts: number;
  readonly idle: number;
  readonly steal: number;
  /** Partitions each node owned at the window's end, in node order, by its own /v1/status: an uneven share leaves one node's quota the limit. */
  readonly owned: readonly number[];
  /** Owner changes the nodes saw during the window (the most any node saw): partitions still moving after the nodes started. */
  readonly moves: number;
}

interface Sample {
  readonly ingest: number;
  readonly cpu: IngestCpu;
  readonly cycleMs: number;
  readonly top10: number[];
  readonly point: number[];
  readonly peakMiB: number;
  /** The largest batch tables one node holds, MiB. */
  readonly batchMiB: number;
}

async function startNodes(dir: string, name: string, count: number, nats: NatsCluster, quotas: CpuQuotas | undefined): Promise<TandemNodes> {
  await mkdir(dir, { recursive: true });
  const limits: Promise<void>[] = [];
  const nodes = await TandemNodes.start({
    dir, config: config(name), natsUrls: nats.urls, count, ports: await freePorts(count), flags: ['--batch-every', '1h'],
    onSpawn: (i, pid) => void limits.push(quotas?.limit(`node${i}`, pid, CORES) ?? Promise.resolve()),
  });
  await Promise.all(limits);
  await divided(nodes.urls);
  return nodes;
}

/**
 * Waits until the nodes own about `partitions / nodes` partitions each, as
 * a cluster running for a while does: the first node to start owns every
 * partition, and a partition moves only to a node that keeps pace with it,
 * so measuring from the first request would measure that node alone.
 */
async function divided(urls: readonly string[]): Promise<void> {
  const most = Math.ceil(PARTITIONS / urls.length);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const owned = await ownership(urls);
    if (owned.every((o) => o.owned >= 1 && o.owned <= most) && sum(owned.map((o) => o.owned)) === PARTITIONS) return;
    if (Date.now() > deadline) throw new Error(`the partitions were not divided among ${urls.length} nodes within 2 minutes: they own ${owned.map((o) => o.owned).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The batch tables each node holds after the cycle, in MiB (its own partitions'). */
async function batchMiB(urls: readonly string[]): Promise<number[]> {
  return Promise.all(urls.map(async (url) => {
    const status = await (await fetch(`${url}/v1/status`)).json() as { batch: { bytes?: number } | null };
    return (status.batch?.bytes ?? 0) / 2 ** 20;
  }));
}

/** The quota groups' throttling counters for nodes 0 to `count - 1`, now; empty without quotas. */
async function throttlings(quotas: CpuQuotas | undefined, count: number): Promise<Throttling[]> {
  if (quotas === undefined) return [];
  const read = await Promise.all(Array.from({ length: count }, (_, i) => quotas.throttling(`node${i}`)));
  return read.map((t) => t ?? { periods: 0, throttled: 0, throttledSeconds: 0 });
}

/** What the counters grew by between `before` and `after`. */
function throttlingIn(before: readonly Throttling[], after: readonly Throttling[]): Throttling[] {
  return after.map((a, i) => ({ periods: a.periods - before[i]!.periods, throttled: a.throttled - before[i]!.throttled, throttledSeconds: a.throttledSeconds - before[i]!.throttledSeconds }));
}

/** What each node's /v1/status says of ownership: how many partitions it holds, and how many owner changes it has seen. */
async function ownership(urls: readonly string[]): Promise<{ owned: number; moves: number }[]> {
  return Promise.all(urls.map(async (url) => {
    const status = await (await fetch(`${url}/v1/status`)).json() as { cluster?: { node: string; ownerMoves?: number; partitions: { owner: string | null }[] } };
    const cluster = status.cluster;
    return { owned: cluster?.partitions.filter((p) => p.owner === cluster.node).length ?? NaN, moves: cluster?.ownerMoves ?? 0 };
  }));
}

/** Splits a window's core-seconds among the nodes, NATS, the client and the rest. */
function ingestCpu(window: CpuWindow, nodePids: readonly number[], natsPids: readonly number[], throttling: Throttling[]): Omit<IngestCpu, 'owned' | 'moves'> {
  const nodes = nodePids.map((pid) => window.process(pid));
  const nats = natsPids.reduce((sum, pid) => sum + window.process(pid), 0);
  const client = window.process(process.pid);
  const { total, idle, steal, interrupts } = window.machine;
  const other = total - idle - steal - interrupts - nodes.reduce((a, b) => a + b, 0) - nats - client;
  return { seconds: window.seconds, nodes, throttling, nats, client, other, interrupts, idle, steal };
}

/**
 * Ingest for `SECONDS` into `nodes`, and where the CPU went meanwhile: the
 * readings are taken just before the first body is sent and just after the
 * last is acknowledged, so the window is the one the rate is measured over.
 */
async function measureIngest(nodes: TandemNodes, count: number, prefix: string, natsPids: readonly number[], quotas: CpuQuotas | undefined): Promise<{ rate: number; cpu: IngestCpu }> {
  const nodePids = Array.from({ length: count }, (_, i) => nodes.pid(i)!);
  const pids = [...nodePids, ...natsPids, process.pid];
  // Ownership is read outside the CPU window, so that its requests do not count in it.
  const ownedBefore = await ownership(nodes.urls);
  const throttledBefore = await throttlings(quotas, count);
  const before = await cpuSnapshot(pids);
  const rate = await ingest(nodes.urls, prefix);
  const after = await cpuSnapshot(pids);
  const throttling = throttlingIn(throttledBefore, await throttlings(quotas, count));
  const ownedAfter = await ownership(nodes.urls);
  const moves = Math.max(...ownedAfter.map((o, i) => o.moves - ownedBefore[i]!.moves));
  return { rate, cpu: { ...ingestCpu(cpuWindow(before, after), nodePids, natsPids, throttling), owned: ownedAfter.map((o) => o.owned), moves } };
}

async function measure(count: number, run: number, nats: NatsCluster, natsPids: readonly number[], dir: string, quotas: CpuQuotas | undefined): Promise<Sample> {
  // Throughput on one cluster; the cycle and the queries on another, over the same history whatever the node count.
  let nodes = await startNodes(`${dir}/r${run}n${count}t`, `scale${run}_${count}t`, count, nats, quotas);
  let rate: number;
  let cpu: IngestCpu;
  try {
    ({ rate, cpu } = await measureIngest(nodes, count, `r${run}n${count}`, natsPids, quotas));
  } finally {
    await nodes.stop();
  }
  nodes = await startNodes(`${dir}/r${run}n${count}h`, `scale${run}_${count}h`, count, nats, quotas);
  try {
    await ingest(nodes.urls, `h${run}n${count}`, HISTORY);
    const summary = await post(nodes.urls[0]!, '/v1/batch', JSON.stringify({ full: true })) as { durationMs: number };
    const top10 = await latencies(nodes.urls, () => ({ view: 'by_customer', groupBy: ['customer'], granularity: 'all', orderBy: [{ measure: 'revenue', desc: true }], limit: 10 }));
    const point = await latencies(nodes.urls, (i) => ({ view: 'by_customer', where: { customer: `c${i % CUSTOMERS}` }, granularity: 'all' }));
    const peaks = await Promise.all(Array.from({ length: count }, (_, i) => peakRssMiB(nodes.pid(i)!)));
    return { ingest: rate, cpu, cycleMs: summary.durationMs, top10, point, peakMiB: Math.max(...peaks.map((p) => p ?? 0)), batchMiB: Math.max(...await batchMiB(nodes.urls)) };
  } finally {
    await nodes.stop();
  }
}

async function main(): Promise<void> {
  const why = CpuQuotas.unavailable();
  const quotas = why === undefined ? new CpuQuotas(`tandem-scale-${process.pid}`) : undefined;
  console.log(quotas === undefined
    ? `No CPU quotas (${why}): every node shares this machine's cores, so these figures do not show what a node adds.`
    : `Each node in a CPU cgroup of its own limited to ${CORES} of a core; NATS (3 servers, R=3) and the load client outside the quotas.`);
  const temp = await makeTempDir('tandem-bench-scale-');
  const nats = await NatsCluster.start();
  const results = new Map<number, Sample[]>(NODE_COUNTS.map((n) => [n, []]));
  try {
    const natsPids = await serverPids(nats);
    for (let run = 0; run < RUNS; run++) {
      for (const count of NODE_COUNTS) {
        const sample = await measure(count, run, nats, natsPids, temp.dir, quotas);
        results.get(count)!.push(sample);
        console.log(`run ${run + 1}/${RUNS}, ${count} node(s): ingest ${Math.round(sample.ingest).toLocaleString('en-US')} events/s, full cycle ${Math.round(sample.cycleMs)} ms, top 10 p50/p99 ${percentiles(sample.top10).p50.toFixed(1)}/${percentiles(sample.top10).p99.toFixed(1)} ms, point ${percentiles(sample.point).p50.toFixed(1)}/${percentiles(sample.point).p99.toFixed(1)} ms, peak RSS ${Math.round(sample.peakMiB)} MiB, batch tables ${sample.batchMiB.toFixed(2)} MiB on the largest node`);
        console.log(`  ${cpuLine(sample.cpu)}`);
      }
    }
  } finally {
    await nats.stop();
    await temp.remove();
    await quotas?.remove();
  }
  const base = spread(results.get(NODE_COUNTS[0]!)!.map((s) => s.ingest)).median;
  console.log(`\n${RUNS} runs; ${SECONDS} s of ingest; a full cycle over ${HISTORY.toLocaleString('en-US')} events; ${PARTITIONS} partitions placed by ${PARTITION_BY === 'key' ? 'idempotency key' : PARTITION_BY}; ${quotas === undefined ? 'no quotas' : `${CORES} core per node`}`);
  console.log('| nodes | ingest events/s | vs 1 node | full cycle ms | top 10 p50 / p99 ms | point p50 / p99 ms | peak RSS per node MiB | batch tables per node MiB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [count, samples] of results) {
    const p = (pick: (s: Sample) => number[], q: 'p50' | 'p99') => formatSpread(spread(samples.map((s) => percentiles(pick(s))[q])));
    console.log(`| ${count} | ${formatSpread(spread(samples.map((s) => s.ingest)))} | ${(spread(samples.map((s) => s.ingest)).median / base).toFixed(2)}x | ${formatSpread(spread(samples.map((s) => s.cycleMs)))} | ${p((s) => s.top10, 'p50')} / ${p((s) => s.top10, 'p99')} | ${p((s) => s.point, 'p50')} / ${p((s) => s.point, 'p99')} | ${formatSpread(spread(samples.map((s) => s.peakMiB)))} | ${formatSpread(spread(samples.map((s) => s.batchMiB)))} |`);
  }
  cpuTable(results);
}

/**
 * The pids of `nats`'s servers. NatsCluster does not say them, so they are
 * found as this process's children started with a config file in a
 * `tandem-nats-` directory (the machine may run other nats-servers: a system
 * one, another benchmark's); fails unless there is one per server.
 */
async function serverPids(nats: NatsCluster): Promise<number[]> {
  const pids = await childPids(process.pid, '/tandem-nats-');
  if (pids.length !== nats.urls.length) throw new Error(`found ${pids.length} nats-server processes of this benchmark, expected ${nats.urls.length}`);
  return pids;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const s2 = (x: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(2));

/** The share of quota periods in which the nodes were throttled, over all nodes; NaN without quotas. */
function throttledShare(cpu: IngestCpu): number {
  return sum(cpu.throttling.map((t) => t.throttled)) / sum(cpu.throttling.map((t) => t.periods));
}

/**
 * One run's CPU figures, on a line of their own under its run line (the run
 * line keeps its format). Warns when other processes took more than a tenth
 * of the machine: the run then measured a machine shared with them.
 */
function cpuLine(cpu: IngestCpu): string {
  const machine = cpu.seconds * availableParallelism();
  const shared = cpu.other > machine / 10 ? ` (other processes took ${Math.round((100 * cpu.other) / machine)} % of the machine: this run shared its cores)` : '';
  const throttled = cpu.throttling.length === 0
    ? 'no quotas'
    : `throttled in ${cpu.throttling.map((t) => `${t.throttled}/${t.periods}`).join(' + ')} periods (${cpu.throttling.map((t) => s2(t.throttledSeconds)).join(' + ')} s)`;
  return `CPU over ${s2(cpu.seconds)} s of ingest (partitions owned ${cpu.owned.join(' + ')}, ${cpu.moves} owner changes in it): nodes ${cpu.nodes.map(s2).join(' + ')} s, ${throttled}; NATS ${s2(cpu.nats)} s; client ${s2(cpu.client)} s; other processes ${s2(cpu.other)} s; interrupts ${s2(cpu.interrupts)} s; idle ${s2(cpu.idle)} s; steal ${s2(cpu.steal)} s${shared}`;
}

/** The second table: medians [min, max] over the runs of where the ingest phase's CPU went. */
function cpuTable(results: ReadonlyMap<number, Sample[]>): void {
  console.log(`\nWhere the CPU went during ingest (CPU seconds over the ingest window; the machine has ${availableParallelism()} cores, each node a quota of ${CORES} core)`);
  console.log('| nodes | window s | CPU s per node (mean) | busiest node CPU s | most partitions on a node | periods throttled | throttled s per node | NATS CPU s (3 servers) | client CPU s | other processes CPU s | interrupts core-s | idle core-s | steal core-s |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [count, samples] of results) {
    const f = (pick: (c: IngestCpu) => number) => formatSpread(spread(samples.map((s) => pick(s.cpu))));
    const throttled = samples[0]!.cpu.throttling.length === 0 ? 'no quotas' : `${f((c) => 100 * throttledShare(c))} %`;
    const throttledSeconds = samples[0]!.cpu.throttling.length === 0 ? 'no quotas' : f((c) => sum(c.throttling.map((t) => t.throttledSeconds)) / count);
    console.log(`| ${count} | ${f((c) => c.seconds)} | ${f((c) => sum(c.nodes) / count)} | ${f((c) => Math.max(...c.nodes))} | ${f((c) => Math.max(...c.owned))} | ${throttled} | ${throttledSeconds} | ${f((c) => c.nats)} | ${f((c) => c.client)} | ${f((c) => c.other)} | ${f((c) => c.interrupts)} | ${f((c) => c.idle)} | ${f((c) => c.steal)} |`);
  }
}

await main();
