/**
 * The log's commit pipeline: groups are encoded (on a worker when large) while
 * earlier ones are written, so offsets and duplicate checks are decided before
 * the groups ahead are durable. These tests hold it to the log's promises:
 * gap-free offsets in append order, every stored event once, a duplicate only
 * ever reported for a key that is stored, and a failed write refusing exactly
 * what it did not store.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileConfig, type Row } from '../../src/definitions/index.ts';
import { DiskFullError, LocalEventLog, type AppendOutcome, type EventLog } from '../../src/log/index.ts';
import { encodeFrames, FrameEncoder, WORKER_MIN_ROWS } from '../../src/log/frame-encoder.ts';
import { toColumns } from '../../src/definitions/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { withTempDir } from '../support/temp-dir.ts';
import { orderRows, orders } from '../support/event-rows.ts';
import { fillUp, mountSkipReason, withTmpfs } from '../support/tmpfs.ts';
import { eventually } from '../support/eventually.ts';

const catalog = compileConfig(shopConfig);
const orderFields = catalog.eventTypes.get('order')!.fields;

function order(id: string): Row {
  return { _offset: null, id, at: 1_700_000_000_000, country: 'DE', device: null, mobile: true, amount: 1999, qty: 1 };
}

/** Request i holds 1,000 keys, half of them shared with request i − 1, so duplicates cross groups in flight. */
const requestIds = (i: number) => Array.from({ length: 1000 }, (_, j) => `k${i * 500 + j}`);

interface Sent {
  readonly ids: string[];
  outcome?: AppendOutcome;
  error?: unknown;
}

async function send(log: EventLog, requests: Sent[]): Promise<void> {
  await Promise.all(requests.map(async (r) => {
    try {
      r.outcome = await log.append('order', orders(r.ids.map(order)));
    } catch (error) {
      r.error = error;
    }
  }));
}

/** What the log holds (by replay) and what the listener was told agree with what every append was answered. */
async function assertConsistent(log: EventLog, requests: readonly Sent[], told: [number, string][]): Promise<void> {
  const stored: [number, string][] = [];
  await log.replay((_type, events, first) => orderRows(events, first).forEach((row) => stored.push([row._offset, row.id as string])));
  assert.deepEqual(stored.map(([offset]) => offset), Array.from({ length: log.end }, (_, i) => i), 'offsets are gap-free');
  assert.deepEqual(told, stored, 'the listener was told exactly what is stored, in offset order');
  const offsetOf = new Map(stored.map(([offset, id]) => [id, offset]));
  assert.equal(offsetOf.size, stored.length, 'no key is stored twice');
  const claimed = new Set<string>();
  for (const r of requests) {
    if (r.outcome === undefined) continue;
    const duplicates = new Set(r.outcome.duplicates);
    const kept = r.ids.filter((_, i) => !duplicates.has(i));
    kept.forEach((id, j) => {
      assert.equal(offsetOf.get(id), r.outcome!.firstOffset + j, `key ${id} is where its append was told`);
      claimed.add(id);
    });
    for (const i of duplicates) assert.ok(offsetOf.has(r.ids[i]!), `key ${r.ids[i]} was reported a duplicate, so it must be stored`);
  }
  assert.equal(claimed.size, stored.length, 'every stored event belongs to an append that was told it was stored');
}

async function openLog(dir: string, told: [number, string][], onCommitted: () => void = () => undefined): Promise<EventLog> {
  return LocalEventLog.open({
    dir, catalog,
    listener: {
      committed: (_type, events, first) => {
        onCommitted();
        orderRows(events, first).forEach((r) => told.push([r._offset, r.id as string]));
      },
      sealed: () => undefined,
    },
  });
}

test('commit pipeline: 60 concurrent appends with keys shared across groups in flight store every key once, in append order', async () => {
  await withTempDir(async (dir) => {
    const told: [number, string][] = [];
    const log = await openLog(dir, told);
    const requests: Sent[] = Array.from({ length: 60 }, (_, i) => ({ ids: requestIds(i) }));
    await send(log, requests);
    assert.ok(requests.every((r) => r.error === undefined));
    assert.equal(log.end, 60 * 500 + 500);
    await assertConsistent(log, requests, told);
    await log.close();
    const reopened = await openLog(dir, []);
    await assertConsistent(reopened, requests, told);
    await reopened.close();
  });
});

test('frame encoder: the worker writes the same bytes as the main thread, and a worker that dies mid-job costs nothing but the thread', { timeout: 30_000 }, async () => {
  const fields = new Map([['order', orderFields]]);
  const ids = (first: number) => Array.from({ length: WORKER_MIN_ROWS }, (_, i) => `k${first + i}`);
  const job = (first: number) => [{ eventType: 'order', firstOffset: first, rows: toColumns(orderFields, ids(first).map(order)) }];
  const encoder = new FrameEncoder({ fields });
  try {
    assert.deepEqual(await encoder.encode(job(0)), encodeFrames(fields, job(0)), 'in place while the worker starts');
    await eventually(() => encoder.onWorker, 'the encoder\'s worker to start');
    assert.deepEqual(await encoder.encode(job(7)), encodeFrames(fields, job(7)), 'on the worker');
  } finally {
    await encoder.close();
  }

  const failures: unknown[] = [];
  const dying = new FrameEncoder({ fields, onWorkerFailed: (e) => failures.push(e), workerEntry: new URL('../support/exiting-worker.ts', import.meta.url) });
  try {
    await dying.encode(job(0));
    await eventually(() => dying.onWorker, 'the encoder\'s worker to start');
    assert.deepEqual(await dying.encode(job(3)), encodeFrames(fields, job(3)), 'the job the worker died with is encoded in place');
    assert.equal(failures.length, 1);
    assert.equal(dying.onWorker, false);
    assert.deepEqual(await dying.encode(job(4)), encodeFrames(fields, job(4)));
  } finally {
    await dying.close();
  }
});

test('commit pipeline: when the disk fills with groups in flight, refused appends stored nothing, no offset is skipped, and they go through once space returns', { skip: mountSkipReason(), timeout: 60_000 }, async () => {
  await withTmpfs(6, async (mount) => {
    const told: [number, string][] = [];
    const dir = join(mount, 'log');
    const log = await openLog(dir, told);
    const filler = await fillUp(mount, 1_000_000);
    const requests: Sent[] = Array.from({ length: 40 }, (_, i) => ({ ids: requestIds(i) }));
    await send(log, requests);
    const refused = requests.filter((r) => r.error !== undefined);
    assert.ok(refused.length > 0 && refused.length < requests.length, `some appends fit and some did not (${refused.length} refused)`);
    for (const r of refused) assert.ok(r.error instanceof DiskFullError, String(r.error));
    await assertConsistent(log, requests, told);

    await rm(filler);
    const retried: Sent[] = refused.map((r) => ({ ids: r.ids }));
    await send(log, retried);
    assert.ok(retried.every((r) => r.error === undefined));
    const all = [...requests.filter((r) => r.error === undefined), ...retried];
    await assertConsistent(log, all, told);
    assert.equal(log.end, 40 * 500 + 500);
    await log.close();
    const reopened = await openLog(dir, []);
    await assertConsistent(reopened, all, told);
    await reopened.close();
  });
});

test('commit pipeline: a listener that throws fails only its own group; later appends and close() go on', { timeout: 30_000 }, async () => {
  await withTempDir(async (dir) => {
    let calls = 0;
    const log = await openLog(dir, [], () => {
      if (calls++ === 0) throw new Error('the speed layer broke');
    });
    const requests: Sent[] = Array.from({ length: 12 }, (_, i) => ({ ids: requestIds(i) }));
    await send(log, requests);
    const failed = requests.filter((r) => r.error !== undefined);
    assert.ok(failed.length > 0 && failed.every((r) => (r.error as Error).message === 'the speed layer broke'));
    assert.ok(requests.some((r) => r.outcome !== undefined), 'groups after the failing one were stored and answered');
    const after = await log.append('order', orders([order('later')]));
    assert.equal(after.stored, 1);
    await log.close();
  });
});

test('commit pipeline: an engine left open does not hold the process, even with the encoder worker started', { timeout: 60_000 }, () => {
  const script = `
    import { compileConfig } from './src/definitions/index.ts';
    import { LocalEventLog } from './src/log/index.ts';
    import { shopConfig } from './test/support/shop-config.ts';
    import { orders } from './test/support/event-rows.ts';
    import { mkdtempSync } from 'node:fs';
    import { tmpdir } from 'node:os';
    import { join } from 'node:path';
    const log = await LocalEventLog.open({ dir: mkdtempSync(join(tmpdir(), 'tandem-open-')), catalog: compileConfig(shopConfig), listener: { committed() {}, sealed() {} } });
    const row = (i) => ({ _offset: null, id: 'k' + i, at: 1700000000000, country: 'DE', device: null, mobile: true, amount: 1, qty: 1 });
    // One large group starts the worker (it is encoded in place while the worker boots); then nothing more.
    await log.append('order', orders(Array.from({ length: 5000 }, (_, i) => row(i))));
    console.log('appended');`;
  const started = Date.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url), encoding: 'utf8', timeout: 20_000 });
  assert.equal(child.error, undefined, `the process did not exit by itself within 20 s: ${String(child.error)}`);
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, /appended/);
  assert.ok(Date.now() - started < 20_000);
});

test('commit pipeline: after a write fails under steady load, the next appends are stored once space returns', { skip: mountSkipReason(), timeout: 60_000 }, async () => {
  await withTmpfs(64, async (mount) => {
    const told: [number, string][] = [];
    const log = await openLog(join(mount, 'log'), told);
    try {
      await storeAcrossAFullDisk(log, mount, told);
    } finally {
      await log.close();
    }
  });
});

async function storeAcrossAFullDisk(log: EventLog, mount: string, told: [number, string][]): Promise<void> {
  let filler: string | undefined = await fillUp(mount, 1_000_000);
  const requests: Sent[] = [];
  let storedAfterFreeing = 0;
  let next = 0;
  const deadline = Date.now() + 20_000;
  // Eight clients appending 3,000 rows at a time, as a loaded server would; the disk is freed at the first refusal.
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (storedAfterFreeing < 24 && Date.now() < deadline) {
      const request: Sent = { ids: Array.from({ length: 3000 }, (_, j) => `s${next}-${j}`) };
      next++;
      requests.push(request);
      await send(log, [request]);
      if (request.error !== undefined && filler !== undefined) {
        await rm(filler);
        filler = undefined;
      } else if (request.outcome !== undefined && filler === undefined) {
        storedAfterFreeing++;
      }
    }
  }));
  assert.equal(filler, undefined, 'the disk filled up');
  assert.ok(storedAfterFreeing >= 24, `appends are stored again once space returns (${storedAfterFreeing} were)`);
  assert.ok(requests.some((r) => r.error instanceof DiskFullError));
  await assertConsistent(log, requests, told);
}
