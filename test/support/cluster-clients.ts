/**
 * Clients of a cluster of `tandem serve --nats` processes, as the cluster
 * tests drive them: orders sent until some node acknowledges them (retrying
 * with the same idempotency keys, as a client would), the reference answer
 * of what was acknowledged, queries and batch cycles asked of any node, and
 * the node holding the batch lease.
 */
import assert from 'node:assert/strict';
import { eventually } from './eventually.ts';
import type { TandemNodes } from './tandem-nodes.ts';

export const config = {
  eventTypes: [{ name: 'order', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', country: 'string', amount: { type: 'number', scale: 2 } } }],
  views: [{ name: 'sales', eventType: 'order', dimensions: ['country'], granularity: 'hour', measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' }, top: { type: 'max', field: 'amount' } } }],
  cluster: { name: 'faults', partitions: 2, replicas: 3 },
};

export interface Order {
  readonly id: string;
  readonly at: string;
  readonly country: string;
  readonly amount: number;
}

export const COUNTRIES = ['DE', 'FR', 'US', 'JP'];
export const NOW = Date.parse('2026-11-29T12:00:00Z');
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The acknowledged events (by key: a copy is the same event) and the latest position any ingest answered. */
export class Acknowledged {
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
export async function sendUntilAcked(urls: readonly string[], first: number, orders: readonly Order[], acked: Acknowledged, deadlineMs = 120_000): Promise<void> {
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
export async function client(c: number, urls: readonly string[], acked: Acknowledged, stop: { stopped: boolean }, pauseMs = 15): Promise<number> {
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
    await sleep(pauseMs);
  }
  return bodies;
}

export interface QueryAnswer {
  rows: Record<string, unknown>[];
  meta: { batchVersion: number | null; applied: number[] };
}

/** Asks node `url`, waiting (as a client does on 503) until it has applied `after`. */
export async function query(url: string, body: object, deadlineMs = 120_000): Promise<QueryAnswer> {
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
export async function assertExact(urls: readonly string[], acked: Acknowledged, label: string): Promise<void> {
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

export interface StatusAnswer {
  batch: { version: number } | null;
  batchRunning: boolean;
  batchFailing: { code: string | null } | null;
  cluster: {
    batchNode: string | null; node: string; nodes: { node: string; lagMessages: number }[]; events?: number | null; archiveBytes?: number | null;
    partitions: { end: number; applied: number; owner?: string | null; events?: number | null; archivedEvents?: number }[];
  };
}

export async function status(url: string): Promise<StatusAnswer> {
  const response = await fetch(`${url}/v1/status`, { signal: AbortSignal.timeout(10_000) });
  return await response.json() as StatusAnswer;
}

/** Runs a batch cycle on whichever node holds (or can take) the lease; resolves with the published version. */
export async function runBatch(nodes: TandemNodes, running: readonly number[], deadlineMs = 180_000): Promise<number> {
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
export async function waitForVersion(nodes: TandemNodes, running: readonly number[], version: number, deadlineMs = 120_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let versions: number[] = [];
  while (Date.now() < deadline) {
    versions = await Promise.all(running.map((i) => status(nodes.urls[i]!).then((s) => s.batch?.version ?? 0, () => 0)));
    if (versions.every((v) => v >= version)) return;
    await sleep(200);
  }
  throw new Error(`nodes [${running.join(', ')}] did not all reach batch version ${version} within ${deadlineMs / 1000} s: they serve [${versions.join(', ')}]`);
}

/**
 * Asks the node holding the lease for a cycle, and resolves once the cycle
 * runs there; asks again if the lease moved before the node took the request.
 */
export async function cycleOnLeaseHolder(nodes: TandemNodes): Promise<{ holder: number; cycle: Promise<unknown> }> {
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

export async function leaseHolder(nodes: TandemNodes): Promise<number> {
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
