/**
 * `npm run bench:cluster`: ingest throughput and freshness of 1, 2 and 3
 * Tandem nodes (each its own process) on a 3-server NATS JetStream cluster on
 * loopback, beside the embedded engine, in one run, interleaved.
 *
 * - Throughput: 8 requests in flight, each a 1,000-event NDJSON body, spread
 *   over the nodes, for a few seconds; events acknowledged per second.
 * - Freshness: while one client keeps ingesting, single events are ingested
 *   on the first node and queried on the last with the ingest's `after`
 *   position; the time from the ingest's answer to the query's answer is how
 *   long an acknowledged event takes to be visible on another node (on the
 *   same node for the embedded engine, where it is visible at once).
 *
 * Everything shares this machine's cores with the NATS servers, so the
 * figures are ratios to the embedded engine measured in the same run, not a
 * cluster's capacity. Usage: npm run bench:cluster -- [runs=3] [seconds=6]
 */
import { mkdir } from 'node:fs/promises';
import { freePorts, NatsCluster } from '../../test/support/nats-cluster.ts';
import { TandemNodes } from '../../test/support/tandem-nodes.ts';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { formatSpread, percentiles, spread } from '../compare/stats.ts';

const runs = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 6);
const IN_FLIGHT = 8;
const BODY_EVENTS = 1_000;
const PROBES = 200;

const baseConfig = {
  eventTypes: [{ name: 'order', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', country: 'string', amount: { type: 'number', scale: 2 } } }],
  views: [{ name: 'sales', eventType: 'order', dimensions: ['country'], granularity: 'minute', measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' } } }],
};

let bodyCounter = 0;
function body(prefix: string): string {
  const b = bodyCounter++;
  const now = Date.now();
  const lines: string[] = [];
  for (let i = 0; i < BODY_EVENTS; i++) {
    lines.push(`{"id":"${prefix}-${b}-${i}","at":${now - (i % 600) * 1000},"country":"${['DE', 'FR', 'US', 'JP'][i % 4]}","amount":${(i % 9973) / 100}}`);
  }
  return lines.join('\n');
}

async function post(url: string, path: string, payload: string, type: string): Promise<Response> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body: payload });
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return response;
}

/** Events acknowledged per second with IN_FLIGHT bodies in flight, spread over `urls`. */
async function throughput(urls: readonly string[], label: string): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let events = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async (_, worker) => {
    for (let n = 0; performance.now() < deadline; n++) {
      await post(urls[(worker + n) % urls.length]!, '/v1/events/order', body(`${label}-t${worker}`), 'application/x-ndjson');
      events += BODY_EVENTS;
    }
  }));
  return events / ((performance.now() - started) / 1000);
}

/** Ms from an ingest's answer on `urls[0]` to a query with its position answering on the last node, under a steady background load. */
async function freshness(urls: readonly string[], label: string): Promise<number[]> {
  const stop = { stopped: false };
  const background = (async () => {
    while (!stop.stopped) await post(urls[0]!, '/v1/events/order', body(`${label}-bg`), 'application/x-ndjson');
  })();
  const samples: number[] = [];
  try {
    for (let i = 0; i < PROBES; i++) {
      const event = JSON.stringify({ id: `${label}-probe-${i}`, at: Date.now(), country: 'DE', amount: 1 });
      const answer = await (await post(urls[0]!, '/v1/events/order', event, 'application/x-ndjson')).json() as { position?: number[] };
      const acked = performance.now();
      const query = { view: 'sales', granularity: 'all', ...(answer.position === undefined ? {} : { after: answer.position }) };
      await post(urls.at(-1)!, '/v1/query', JSON.stringify(query), 'application/json');
      samples.push(performance.now() - acked);
    }
  } finally {
    stop.stopped = true;
    await background;
  }
  return samples;
}

interface Setup {
  readonly label: string;
  readonly nodes: number;
  readonly cluster: boolean;
}

const setups: Setup[] = [
  { label: 'embedded', nodes: 1, cluster: false },
  { label: '1 node', nodes: 1, cluster: true },
  { label: '2 nodes', nodes: 2, cluster: true },
  { label: '3 nodes', nodes: 3, cluster: true },
];

async function measure(setup: Setup, nats: NatsCluster, dir: string, run: number): Promise<{ rate: number; fresh: number[] }> {
  const name = `bench${run}_${setup.nodes}${setup.cluster ? 'c' : 'e'}`;
  const config = setup.cluster ? { ...baseConfig, cluster: { name, partitions: 3, replicas: 3 } } : baseConfig;
  const nodes = await TandemNodes.start({
    dir: `${dir}/${name}`, config, natsUrls: setup.cluster ? nats.urls : [], count: setup.nodes, ports: await freePorts(setup.nodes),
    flags: ['--batch-every', '1h'],
  });
  try {
    const rate = await throughput(nodes.urls, name);
    const fresh = await freshness(nodes.urls, name);
    return { rate, fresh };
  } finally {
    await nodes.stop();
  }
}

async function main(): Promise<void> {
  const temp = await makeTempDir('tandem-bench-cluster-');
  const nats = await NatsCluster.start();
  const results = new Map<string, { rates: number[]; fresh: number[][] }>(setups.map((s) => [s.label, { rates: [], fresh: [] }]));
  try {
    for (let run = 0; run < runs; run++) {
      for (const setup of setups) {
        await mkdir(`${temp.dir}/bench${run}_${setup.nodes}${setup.cluster ? 'c' : 'e'}`, { recursive: true });
        const { rate, fresh } = await measure(setup, nats, temp.dir, run);
        const r = results.get(setup.label)!;
        r.rates.push(rate);
        r.fresh.push(fresh);
        const p = percentiles(fresh);
        console.log(`run ${run + 1}/${runs} ${setup.label}: ${Math.round(rate).toLocaleString('en-US')} events/s, freshness p50 ${p.p50.toFixed(2)} ms p99 ${p.p99.toFixed(2)} ms`);
      }
    }
  } finally {
    await nats.stop();
    await temp.remove();
  }
  const embedded = spread(results.get('embedded')!.rates).median;
  console.log(`\n${runs} runs, ${seconds} s each, ${IN_FLIGHT} bodies of ${BODY_EVENTS} events in flight; NATS R=3, 3 partitions, all on this machine's cores`);
  console.log('| setup | events/s, median [min, max] | vs embedded | freshness p50 ms | freshness p99 ms |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const setup of setups) {
    const r = results.get(setup.label)!;
    const p50 = spread(r.fresh.map((f) => percentiles(f).p50));
    const p99 = spread(r.fresh.map((f) => percentiles(f).p99));
    console.log(`| ${setup.label} | ${formatSpread(spread(r.rates))} | ${(spread(r.rates).median / embedded).toFixed(2)}x | ${formatSpread(p50)} | ${formatSpread(p99)} |`);
  }
}

await main();
