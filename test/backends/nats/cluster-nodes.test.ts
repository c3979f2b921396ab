/**
 * Three Tandem nodes, each its own process, on a real 3-server NATS
 * JetStream cluster with two log partitions replicated three times. Clients
 * ingest through every node, retrying on any error as a client would, with
 * copies of earlier events sent to other nodes and events hours or days
 * late. Meanwhile the NATS server leading a partition is killed (-9), then a
 * Tandem node is, then another NATS server is frozen for seconds. After
 * recovery every node must answer exactly the reference (every acknowledged
 * event once), before and after a batch cycle; a batch node frozen in the
 * middle of a cycle must be fenced while another node publishes; and every
 * node restarted must answer as before.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePorts, NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';
import { TandemNodes } from '../../support/tandem-nodes.ts';
import { chromiumSkipReason, openBrowser } from '../../support/chromium.ts';
import { eventually } from '../../support/eventually.ts';
import { makeTempDir } from '../../support/temp-dir.ts';

const skip = natsSkipReason();

const config = {
  eventTypes: [{ name: 'order', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', country: 'string', amount: { type: 'number', scale: 2 } } }],
  views: [{ name: 'sales', eventType: 'order', dimensions: ['country'], granularity: 'hour', measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' }, top: { type: 'max', field: 'amount' } } }],
  cluster: { name: 'faults', partitions: 2, replicas: 3 },
};

interface Order {
  readonly id: string;
  readonly at: string;
  readonly country: string;
  readonly amount: number;
}

const COUNTRIES = ['DE', 'FR', 'US', 'JP'];
const NOW = Date.parse('2026-11-29T12:00:00Z');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The acknowledged events (by key: a copy is the same event) and the latest position any ingest answered. */
class Acknowledged {
  readonly orders = new Map<string, Order>();
  position: number[] = [0, 0];
  retries = 0;

  add(orders: readonly Order[], position: readonly number[] | undefined): void {
    for (const o of orders) this.orders.set(o.id, o);
    if (position !== undefined) this.position = this.position.map((seq, p) => Math.max(seq, position[p] ?? 0));
  }

  /** The reference answer to `{granularity: 'all', groupBy: ['country']}`: count, revenue in cents, top in cents. */
  byCountry(): Map<string, { orders: number; cents: number; top: number }> {
    const out = new Map<string, { orders: number; cents: number; top: number }>();
    for (const o of this.orders.values()) {
      const row = out.get(o.country) ?? { orders: 0, cents: 0, top: -Infinity };
      const cents = Math.round(o.amount * 100);
      out.set(o.country, { orders: row.orders + 1, cents: row.cents + cents, top: Math.max(row.top, cents) });
    }
    return out;
  }

  /** The reference count per hour and country. */
  hourly(): Map<string, number> {
    const out = new Map<string, number>();
    for (const o of this.orders.values()) {
      const hour = new Date(Math.floor(Date.parse(o.at) / 3_600_000) * 3_600_000).toISOString();
      const key = `${hour} ${o.country}`;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
    return out;
  }
}

/** Sends one body until some node acknowledges it whole, trying the nodes in turn from `first`. */
async function sendUntilAcked(urls: readonly string[], first: number, orders: readonly Order[], acked: Acknowledged, deadlineMs = 120_000): Promise<void> {
  const body = orders.map((o) => JSON.stringify(o)).join('\n');
  const deadline = Date.now() + deadlineMs;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const url = urls[(first + attempt) % urls.length]!;
    try {
      const response = await fetch(`${url}/v1/events/order`, {
        method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body, signal: AbortSignal.timeout(40_000),
      });
      if (response.ok) {
        const answer = await response.json() as { accepted: number; rejected: unknown[]; position?: number[] };
        assert.equal(answer.accepted, orders.length, JSON.stringify(answer.rejected));
        acked.add(orders, answer.position);
        return;
      }
      await response.arrayBuffer();
    } catch { /* the node is down or cut off: the next one */ }
    acked.retries++;
    await sleep(200);
  }
  throw new Error(`no node acknowledged a body of ${orders.length} events within ${deadlineMs} ms`);
}

/** A client sending bodies of new orders (some hours or days late) mixed with copies of acknowledged ones, until told to stop. */
async function client(c: number, urls: readonly string[], acked: Acknowledged, stop: { stopped: boolean }): Promise<number> {
  let bodies = 0;
  let seed = c * 7919 + 1;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  while (!stop.stopped) {
    const fresh = Array.from({ length: 150 }, (_, i): Order => ({
      id: `c${c}-${bodies}-${i}`,
      // Most within the last hours, some up to three days late: they land in old buckets, below and above any cutoff.
      at: new Date(NOW - Math.floor((random() < 0.8 ? random() * 6 : random() * 72) * 3_600_000)).toISOString(),
      country: COUNTRIES[Math.floor(random() * COUNTRIES.length)]!,
      amount: Math.floor(random() * 100_000) / 100,
    }));
    const known = [...acked.orders.values()];
    const copies = known.length === 0 ? [] : Array.from({ length: 20 }, () => known[Math.floor(random() * known.length)]!);
    await sendUntilAcked(urls, c + bodies, [...fresh, ...copies], acked);
    bodies++;
    await sleep(15);
  }
  return bodies;
}

interface QueryAnswer {
  rows: Record<string, unknown>[];
  meta: { batchVersion: number | null; applied: number[] };
}

/** Asks node `url`, waiting (as a client does on 503) until it has applied `after`. */
async function query(url: string, body: object, deadlineMs = 120_000): Promise<QueryAnswer> {
  const deadline = Date.now() + deadlineMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (response.ok) return await response.json() as QueryAnswer;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = String(error);
    }
    await sleep(200);
  }
  throw new Error(`${url} did not answer a query within ${deadlineMs / 1000} s: ${last}`);
}

/** Every node's answers equal the reference, by country over all time and by hour. */
async function assertExact(urls: readonly string[], acked: Acknowledged, label: string): Promise<void> {
  const expected = acked.byCountry();
  const hourly = acked.hourly();
  for (const url of urls) {
    const all = await query(url, { view: 'sales', granularity: 'all', groupBy: ['country'], after: acked.position });
    const actual = new Map(all.rows.map((r) => [r.country as string, {
      orders: r.orders as number, cents: Math.round(Number(r.revenue) * 100), top: Math.round(Number(r.top) * 100),
    }]));
    assert.deepEqual(actual, expected, `${label}: ${url} by country`);
    const byHour = await query(url, { view: 'sales', groupBy: ['country'], after: acked.position });
    const actualHourly = new Map(byHour.rows.map((r) => [`${r.time as string} ${r.country as string}`, r.orders as number]));
    assert.deepEqual(actualHourly, hourly, `${label}: ${url} by hour`);
  }
}

interface StatusAnswer {
  batch: { version: number } | null;
  batchRunning: boolean;
  batchFailing: { code: string | null } | null;
  cluster: { batchNode: string | null; node: string; nodes: { node: string; lagMessages: number }[]; partitions: { end: number; applied: number }[] };
}

async function status(url: string): Promise<StatusAnswer> {
  const response = await fetch(`${url}/v1/status`, { signal: AbortSignal.timeout(10_000) });
  return await response.json() as StatusAnswer;
}

/** Runs a batch cycle on whichever node holds (or can take) the lease; resolves with the published version. */
async function runBatch(nodes: TandemNodes, running: readonly number[], deadlineMs = 180_000): Promise<number> {
  const deadline = Date.now() + deadlineMs;
  let last = '';
  while (Date.now() < deadline) {
    for (const i of running) {
      const response = await fetch(`${nodes.urls[i]}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch((error: unknown) => {
        last = `node ${i}: ${String(error)}`;
        return undefined;
      });
      if (response?.ok) return ((await response.json()) as { version: number }).version;
      if (response !== undefined) last = `node ${i}: ${response.status} ${await response.text()}`;
    }
    await sleep(500);
  }
  throw new Error(`no node of [${running.join(', ')}] ran a batch cycle within ${deadlineMs / 1000} s; the last answer: ${last}`);
}

/** Waits until every running node serves batch version `version` or a later one. */
async function waitForVersion(nodes: TandemNodes, running: readonly number[], version: number, deadlineMs = 120_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let versions: number[] = [];
  while (Date.now() < deadline) {
    versions = await Promise.all(running.map((i) => status(nodes.urls[i]!).then((s) => s.batch?.version ?? 0, () => 0)));
    if (versions.every((v) => v >= version)) return;
    await sleep(200);
  }
  throw new Error(`nodes [${running.join(', ')}] did not all reach batch version ${version} within ${deadlineMs / 1000} s: they serve [${versions.join(', ')}]`);
}

describe('three Tandem nodes on a 3-server JetStream cluster', { skip, timeout: 600_000 }, () => {
  let nats: NatsCluster;
  let nodes: TandemNodes;
  let temp: { dir: string; remove(): Promise<void> };
  const acked = new Acknowledged();

  before(async () => {
    temp = await makeTempDir('tandem-cluster-nodes-');
    nats = await NatsCluster.start();
    nodes = await TandemNodes.start({
      dir: temp.dir, config, natsUrls: nats.urls, count: 3, ports: await freePorts(3),
      // Batches run only when a test asks; the lease expires fast so a frozen batch node is replaced within the test.
      flags: ['--batch-every', '1h', '--batch-lease', '3s', '--read-wait', '5s'],
    });
  });

  after(async () => {
    await nodes?.stop();
    await nats?.stop();
    await temp?.remove();
  });

  test('every acknowledged event counts once on every node, through a leader kill, a node kill and a frozen server', async (t) => {
    const stop = { stopped: false };
    const clients = [0, 1, 2].map((c) => client(c, nodes.urls, acked, stop));
    await sleep(2_000);
    const leader = await nats.leaderOf('faults_log_0');
    assert.notEqual(leader, undefined);
    nats.kill(leader!, 'SIGKILL');
    await sleep(3_000);
    await nats.restart(leader!);
    nodes.kill(2, 'SIGKILL');
    await nodes.exited(2);
    await sleep(2_000);
    const frozen = (leader! + 1) % 3;
    nats.kill(frozen, 'SIGSTOP');
    await sleep(4_000);
    nats.kill(frozen, 'SIGCONT');
    await sleep(2_000);
    stop.stopped = true;
    const bodies = await Promise.all(clients);
    await nodes.startNode(2);
    t.diagnostic(`${bodies.reduce((a, b) => a + b, 0)} bodies, ${acked.orders.size} distinct events acknowledged, ${acked.retries} retries, position [${acked.position.join(', ')}]`);
    assert.ok(acked.orders.size > 1_000, `only ${acked.orders.size} events went through`);

    await assertExact(nodes.urls, acked, 'before a batch');
    const version = await runBatch(nodes, [0, 1, 2]);
    await waitForVersion(nodes, [0, 1, 2], version);
    await assertExact(nodes.urls, acked, 'after a batch');
    // Late events and copies after the cycle land in the speed layer over the new version.
    await sendUntilAcked(nodes.urls, 0, [...acked.orders.values()].slice(0, 50), acked);
    await sendUntilAcked(nodes.urls, 1, [{ id: 'late-1', at: '2026-11-26T03:00:00.000Z', country: 'DE', amount: 12.34 }], acked);
    await assertExact(nodes.urls, acked, 'after more ingest');
  });

  test('a batch node frozen in the middle of a cycle is fenced, and another node publishes', async (t) => {
    // Enough new events that a cycle takes a while to archive.
    for (let b = 0; b < 20; b++) {
      const orders = Array.from({ length: 1_000 }, (_, i): Order => ({ id: `bulk-${b}-${i}`, at: new Date(NOW - i * 60_000).toISOString(), country: COUNTRIES[i % 4]!, amount: (i % 997) + 0.5 }));
      await sendUntilAcked(nodes.urls, b, orders, acked);
    }
    const before = (await status(nodes.urls[0]!)).batch?.version ?? 0;
    const { holder, cycle } = await cycleOnLeaseHolder(nodes);
    // Frozen as soon as its cycle runs, whichever step that is: every step up to publication must end fenced.
    nodes.kill(holder, 'SIGSTOP');
    const others = [0, 1, 2].filter((i) => i !== holder);
    let version: number;
    try {
      version = await runBatch(nodes, others);
      await waitForVersion(nodes, others, version);
    } finally {
      // Thawed whatever happened: a node left stopped would hold up every later test.
      nodes.kill(holder, 'SIGCONT');
    }
    assert.ok(version > before, `version ${version} after ${before}`);
    let answer: { error?: { code: string }; version?: number } | undefined;
    void cycle.then((a) => (answer = a as typeof answer));
    await eventually(() => answer !== undefined, `the thawed node ${holder} to answer the cycle it was asked for`, { timeoutMs: 120_000 });
    t.diagnostic(`the frozen node's cycle answered ${JSON.stringify(answer).slice(0, 300)}`);
    assert.equal(answer?.version, undefined, 'the cycle had finished before the freeze landed, so this run tells nothing of fencing');
    assert.equal(answer?.error?.code, 'batch_fenced', 'the frozen node must not publish once another node took the lease');
    await waitForVersion(nodes, [0, 1, 2], version);
    await assertExact(nodes.urls, acked, 'after the fenced cycle');
  });

  test('archived messages are purged from the streams; every node restarted resumes from the archive and the streams, and answers as before', async (t) => {
    const nc = await nats.connect();
    try {
      const jsm = await jetstreamManager(nc);
      const firstSeqs = () => Promise.all([0, 1].map(async (p) => (await jsm.streams.info(`faults_log_${p}`)).state.first_seq));
      // Two more cycles at least: the second purges what the first absorbed once every node's heartbeat shows it
      // applied past it, which on a loaded machine may take a cycle or two more.
      let firsts: number[] = [];
      for (let cycle = 0; cycle < 6 && (cycle < 2 || !firsts.every((seq) => seq > 1)); cycle++) {
        await sendUntilAcked(nodes.urls, cycle, [{ id: `purge-check-${cycle}`, at: '2026-11-29T01:00:00.000Z', country: 'FR', amount: 1 }], acked);
        await waitForVersion(nodes, [0, 1, 2], await runBatch(nodes, [0, 1, 2]));
        firsts = await firstSeqs();
      }
      t.diagnostic(`the partition streams now start at sequences [${firsts.join(', ')}]`);
      assert.ok(firsts.every((seq) => seq > 1), `the archived prefix of every partition is purged within six cycles: the streams start at [${firsts.join(', ')}]`);
    } finally {
      await nc.close();
    }
    await sendUntilAcked(nodes.urls, 2, [{ id: 'after-restart-check', at: '2026-11-29T01:00:00.000Z', country: 'FR', amount: 1 }], acked);
    await assertExact(nodes.urls, acked, 'before the restart');
    for (const i of [0, 1, 2]) await nodes.stopNode(i);
    await Promise.all([0, 1, 2].map((i) => nodes.startNode(i)));
    await assertExact(nodes.urls, acked, 'after the restart');
  });

  test('status and metrics show the nodes, the batch node and every partition on every node', async () => {
    await eventually(async () => (await Promise.all(nodes.urls.map(status))).every((s) => s.cluster.nodes.length === 3), 'every node to list the three nodes');
    for (const [i, url] of nodes.urls.entries()) {
      const { cluster } = await status(url);
      assert.equal(cluster.node, nodes.name(i));
      assert.deepEqual(cluster.nodes.map((n) => n.node), ['node0', 'node1', 'node2']);
      assert.equal(cluster.partitions.length, 2);
      for (const p of cluster.partitions) assert.ok(p.applied <= p.end && p.applied > 0);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /tandem_cluster_partition_applied_sequence\{partition="1"\} \d+/);
      assert.match(metrics, /tandem_cluster_node_lag_messages\{node="node2"\} \d+/);
      assert.match(metrics, /tandem_cluster_batch_lease_held \d/);
    }
  });

  test('the dashboard of a node shows the cluster: its nodes, the batch node and the partitions', { skip: chromiumSkipReason() }, async () => {
    const browser = await openBrowser();
    try {
      const errors: string[] = [];
      browser.page.on('pageerror', (error) => errors.push(error.message));
      await browser.page.goto(nodes.urls[1]!);
      const panel = browser.page.getByTestId('cluster');
      await panel.waitFor({ state: 'visible', timeout: 60_000 });
      await browser.page.locator('#cluster-nodes tr').nth(2).waitFor({ timeout: 60_000 });
      assert.equal(await browser.page.locator('#cluster-nodes tr').count(), 3);
      assert.match(await panel.innerText(), /faults · this node node1/);
      assert.match(await panel.innerText(), /batch node node\d \(term \d+\)/);
      assert.equal(await browser.page.locator('#cluster-partitions tr').count(), 2);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});

/**
 * Asks the node holding the lease for a cycle, and resolves once the cycle
 * runs there; asks again if the lease moved before the node took the request.
 */
async function cycleOnLeaseHolder(nodes: TandemNodes): Promise<{ holder: number; cycle: Promise<unknown> }> {
  for (let attempt = 1; ; attempt++) {
    const holder = await leaseHolder(nodes);
    let answered: { error?: { code: string } } | undefined;
    const cycle = fetch(`${nodes.urls[holder]}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      .then((r) => r.json(), (e: unknown) => e)
      .then((answer) => (answered = answer as typeof answered));
    await eventually(async () => answered !== undefined || (await status(nodes.urls[holder]!)).batchRunning, `node ${holder} to start the cycle it was asked for`, { intervalMs: 10 });
    if (answered?.error?.code !== 'batch_lease_held' || attempt === 3) return { holder, cycle };
  }
}

async function leaseHolder(nodes: TandemNodes): Promise<number> {
  // Any node's cycle takes the lease if it is free: ask node 0 to make sure someone holds it, then read who.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const holder = (await status(nodes.urls[0]!).catch(() => undefined))?.cluster.batchNode ?? null;
    const index = holder === null ? -1 : ['node0', 'node1', 'node2'].indexOf(holder);
    if (index !== -1) return index;
    await sleep(250);
  }
  throw new Error('no node took the batch lease within 60 s');
}
