/**
 * Faults: the real server, killed with SIGKILL at seeded random moments during
 * sustained HTTP ingest and batch runs, restarted each time on the same data
 * directory. Every acknowledged batch must be there exactly once, no batch may
 * be there in part, and the answers must equal a recomputation.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Random } from '../../src/demo/random.ts';
import { startCli, type LongRunning } from '../support/spawn-cli.ts';

const SERVING = /serving at (http:\/\/\S+?)"/;
const CLIENTS = 4;
const BATCH = 200;
const CYCLES = 12;

const config = {
  eventTypes: [{ name: 'tick', time: 'at', fields: { at: 'timestamp', client: 'string', seq: { type: 'number', scale: 0 } } }],
  views: [{
    name: 'by_client', eventType: 'tick', dimensions: ['client'], granularity: 'none',
    measures: { n: { type: 'count' }, total: { type: 'sum', field: 'seq' }, lo: { type: 'min', field: 'seq' }, hi: { type: 'max', field: 'seq' } },
  }],
};

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-faults-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function batchBody(client: string, index: number): string {
  const lines: string[] = [];
  for (let i = 0; i < BATCH; i++) lines.push(JSON.stringify({ at: Date.UTC(2024, 0, 1) + index * BATCH + i, client, seq: index * BATCH + i }));
  return `${lines.join('\n')}\n`;
}

interface ClientState {
  /** Batches the server acknowledged, counted from 0. */
  acked: number;
  /** A batch sent whose answer never came (the kill): it may or may not be stored. */
  inFlight: boolean;
}

/** Sends batches one after another until a request fails (the server died). */
async function write(url: string, client: string, state: ClientState): Promise<void> {
  for (;;) {
    state.inFlight = true;
    let response: Response;
    try {
      response = await fetch(`${url}/v1/events/tick`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: batchBody(client, state.acked) });
    } catch {
      return;
    }
    const body = (await response.json().catch(() => null)) as { accepted?: number } | null;
    assert.equal(response.status, 200, `ingest answered ${response.status}: ${JSON.stringify(body)}`);
    assert.equal(body?.accepted, BATCH);
    state.inFlight = false;
    state.acked++;
  }
}

interface ClientRow {
  client: string;
  n: number;
  total: number;
  lo: number | null;
  hi: number | null;
}

async function stored(url: string, layer = 'merged'): Promise<Map<string, ClientRow>> {
  const response = await fetch(`${url}/v1/query`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ view: 'by_client', groupBy: ['client'], granularity: 'all', layer }),
  });
  assert.equal(response.status, 200);
  const { rows } = (await response.json()) as { rows: ClientRow[] };
  return new Map(rows.map((r) => [r.client, r]));
}

/** Whole batches 0..b-1 of a client, as the server must hold them. */
function expected(client: string, batches: number): ClientRow {
  const n = batches * BATCH;
  return { client, n, total: (n * (n - 1)) / 2, lo: n === 0 ? null : 0, hi: n === 0 ? null : n - 1 };
}

/** Checks each client holds exactly its acknowledged batches, or those and the one in flight; returns the batches held. */
function checkClients(rows: Map<string, ClientRow>, states: Map<string, ClientState>, cycle: number): void {
  for (const [client, state] of states) {
    const row = rows.get(client) ?? expected(client, 0);
    const batches = row.n / BATCH;
    const allowed = state.inFlight ? [state.acked, state.acked + 1] : [state.acked];
    assert.ok(allowed.includes(batches), `cycle ${cycle}: ${client} holds ${row.n} events; acknowledged ${state.acked} batches of ${BATCH}${state.inFlight ? ' and one in flight' : ''}`);
    assert.deepEqual(row, expected(client, batches), `cycle ${cycle}: ${client} holds a partial or duplicated batch`);
    state.acked = batches;
    state.inFlight = false;
  }
}

test('faults - SIGKILL during HTTP ingest and batch runs loses no acknowledged event and stores no partial batch', { timeout: 240_000 }, async () => {
  const configFile = join(dir, 'tandem.config.json');
  await writeFile(configFile, JSON.stringify(config));
  const data = join(dir, 'data');
  const args = ['serve', '--config', configFile, '--data', data, '--port', '0', '--batch-every', '1h'];
  const random = new Random(20261125);
  const states = new Map(Array.from({ length: CLIENTS }, (_, i) => [`client${i}`, { acked: 0, inFlight: false }]));
  let kills = 0;
  let killsDuringBatch = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const server: LongRunning = await startCli(args, SERVING);
    checkClients(await stored(server.url), states, cycle);
    const writers = [...states].map(([client, state]) => write(server.url, client, state));
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // Half the cycles start a batch run and kill soon after, so kills land in sealing, export, compute and publish.
    if (random.next() < 0.5) {
      await sleep(100 + random.int(400));
      void fetch(`${server.url}/v1/batch`, { method: 'POST' }).catch(() => undefined);
      await sleep(random.int(150));
    } else {
      await sleep(100 + random.int(700));
    }
    const status = (await (await fetch(`${server.url}/v1/status`)).json().catch(() => ({}))) as { batchRunning?: boolean };
    if (status.batchRunning === true) killsDuringBatch++;
    await server.stop('SIGKILL');
    kills++;
    await Promise.all(writers);
  }
  const server = await startCli(args, SERVING);
  try {
    checkClients(await stored(server.url), states, CYCLES);
    // Sealing: a cycle otherwise stops at the last segment exported in the background, and the partial one stays in the speed layer.
    const batch = await fetch(`${server.url}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"seal": true}' });
    assert.equal(batch.status, 200);
    const afterBatch = await stored(server.url);
    checkClients(afterBatch, states, CYCLES + 1);
    assert.deepEqual(await stored(server.url, 'batch'), afterBatch, 'after a batch run the batch layer alone holds everything');
    const total = [...states.values()].reduce((n, s) => n + s.acked, 0);
    assert.ok(total > CYCLES, `ingest made progress between kills (${total} batches)`);
    console.log(`kills: ${kills} (${killsDuringBatch} during a batch run); batches stored: ${total}`);
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0);
  }
  const leftovers = (await readdir(data, { recursive: true })).filter((f) => String(f).endsWith('.tmp'));
  assert.deepEqual(leftovers, [], 'no temporary files are left behind');
});
