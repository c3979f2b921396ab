import assert from 'node:assert/strict';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { compileConfig, type Row } from '../../src/definitions/index.ts';
import { LocalEventLog, type EventLog, listSegmentBases, segmentPath, type LogListener } from '../../src/log/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { withTempDir } from '../support/temp-dir.ts';
import { orderRows, orders } from '../support/event-rows.ts';

const catalog = compileConfig(shopConfig);

function row(id: string): Row {
  return { id, at: 1_700_000_000_000, country: 'DE', device: null, mobile: true, amount: 1999, qty: 1 };
}

function recorder(): LogListener & { rows: [number, Row][]; seals: number[] } {
  const rows: [number, Row][] = [];
  const seals: number[] = [];
  return {
    rows, seals,
    committed: (_type, events, first) => orderRows(events, first).forEach(({ _offset, ...r }) => rows.push([_offset, r])),
    sealed: (end) => seals.push(end),
  };
}

async function openLog(dir: string, listener = recorder(), maxSegmentBytes?: number) {
  const recovered: { droppedBytes: number; reason: string }[] = [];
  const log = await LocalEventLog.open({ dir, catalog, listener, maxSegmentBytes, onRecovered: (r) => recovered.push(r) });
  return { log, listener, recovered };
}

async function replayed(log: EventLog): Promise<string[]> {
  const ids: string[] = [];
  await log.replay((_type, events, first) => orderRows(events, first).forEach((r) => ids.push(`${r._offset}:${r.id}`)));
  return ids;
}

test('log - concurrent appends get gap-free offsets in order and are told to the listener before they resolve', async () => {
  await withTempDir(async (dir) => {
    const { log, listener } = await openLog(dir);
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append('order', orders([row(`a${i}`), row(`b${i}`)]))));
    assert.deepEqual(outcomes.map((o) => o.firstOffset), Array.from({ length: 50 }, (_, i) => i * 2));
    assert.deepEqual(listener.rows.map(([o]) => o), Array.from({ length: 100 }, (_, i) => i));
    assert.equal(log.end, 100);
    await log.close();
  });
});

test('log - duplicates by idempotency key are dropped, within a batch and across batches', async () => {
  await withTempDir(async (dir) => {
    const { log } = await openLog(dir);
    const first = await log.append('order', orders([row('x'), row('y'), row('x')]));
    const second = await log.append('order', orders([row('y'), row('z')]));
    assert.deepEqual([first.stored, first.duplicates], [2, [2]]);
    assert.deepEqual([second.firstOffset, second.stored, second.duplicates], [2, 1, [0]]);
    await log.close();
  });
});

test('log - acknowledged events survive a reopen; a torn tail is cut off and reported', async () => {
  await withTempDir(async (dir) => {
    const { log } = await openLog(dir);
    await log.append('order', orders([row('a'), row('b')]));
    await log.append('order', orders([row('c')]));
    const [base] = await listSegmentBases(`${dir}`);
    const path = segmentPath(dir, base!);
    const size = (await stat(path)).size;
    const whole = await readFile(path);
    // A crash mid-write: the start of a copy of the last frame.
    await appendFile(path, whole.subarray(0, 30));
    const reopened = await openLog(dir);
    assert.equal(reopened.log.end, 3);
    assert.equal(reopened.recovered[0]?.droppedBytes, 30);
    assert.equal((await stat(path)).size, size);
    assert.deepEqual(await replayed(reopened.log), ['0:a', '1:b', '2:c']);
    const next = await reopened.log.append('order', orders([row('d')]));
    assert.equal(next.firstOffset, 3);
    await reopened.log.close();
  });
});

test('log - a corrupted last frame fails its checksum and is truncated, never served', async () => {
  await withTempDir(async (dir) => {
    const { log } = await openLog(dir);
    await log.append('order', orders([row('a')]));
    await log.append('order', orders([row('b')]));
    await log.close();
    const path = segmentPath(dir, 0);
    const bytes = await readFile(path);
    bytes[bytes.length - 5] ^= 0xff;
    await writeFile(path, bytes);
    const reopened = await openLog(dir);
    assert.equal(reopened.recovered[0]?.reason, 'checksum mismatch');
    assert.deepEqual(await replayed(reopened.log), ['0:a']);
    await reopened.log.close();
  });
});

test('log - segments roll over by size unannounced, and seal on demand, telling the listener where', async () => {
  await withTempDir(async (dir) => {
    const { log, listener } = await openLog(dir, recorder(), 512);
    for (let i = 0; i < 20; i++) await log.append('order', orders([row(`r${i}`)]));
    assert.ok(log.sealedSegments.length >= 2, 'segments rolled over for size');
    assert.deepEqual(listener.seals, [], 'roll-overs are not cutoffs, so the listener is not told of them');
    const sealedEnd = await log.seal();
    assert.equal(sealedEnd, 20);
    assert.deepEqual(listener.seals, [20]);
    assert.equal(log.sealedSegments.at(-1)!.end, 20);
    assert.equal(await log.seal(), 20, 'sealing an empty segment writes nothing');
    assert.deepEqual(listener.seals, [20, 20], 'but is still a seal point the listener hears of');
    await log.close();
    const reopened = await openLog(dir);
    assert.equal((await replayed(reopened.log)).length, 20);
    await reopened.log.releaseBefore(20);
    assert.deepEqual(await listSegmentBases(dir), [20]);
    await reopened.log.close();
  });
});

test('log - backpressure: appends beyond the pending limit are refused whole, the rest are durable, and the limit frees up', async () => {
  await withTempDir(async (dir) => {
    const listener = recorder();
    const log = await LocalEventLog.open({ dir, catalog, listener, maxPendingEvents: 250 });
    const batches = Array.from({ length: 10 }, (_, b) => Array.from({ length: 100 }, (_, i) => row(`b${b}-${i}`)));
    const outcomes = await Promise.allSettled(batches.map((rows) => log.append('order', orders(rows))));
    const refused = outcomes.filter((o) => o.status === 'rejected');
    assert.ok(refused.length >= 7, `at most 2 batches of 100 fit under 250 pending (refused ${refused.length})`);
    for (const o of refused) assert.equal((o.reason as { code: string }).code, 'log_overloaded');
    const stored = outcomes.filter((o) => o.status === 'fulfilled').length * 100;
    assert.equal(listener.rows.length, stored);
    assert.equal(log.end, stored);
    await log.append('order', orders(Array.from({ length: 1_000 }, (_, i) => row(`big-${i}`))));
    assert.equal(log.end, stored + 1_000, 'with nothing pending, an append larger than the limit is still taken');
    await log.close();
  });
});

test('log - a zero-filled stretch with intact frames after it, as a power loss leaves a group half on disk, is cut off as a torn write', async () => {
  await withTempDir(async (dir) => {
    const { log } = await openLog(dir);
    await log.append('order', orders([row('kept')]));
    const keptBytes = (await stat(segmentPath(dir, 0))).size;
    await log.append('order', orders([row('zeroed-1'), row('zeroed-2')]));
    const zeroedEnd = (await stat(segmentPath(dir, 0))).size;
    await log.append('order', orders([row('after')]));
    await log.close();
    const bytes = await readFile(segmentPath(dir, 0));
    bytes.fill(0, keptBytes, zeroedEnd);
    await writeFile(segmentPath(dir, 0), bytes);

    const reopened = await openLog(dir);
    assert.equal(reopened.log.end, 1);
    assert.deepEqual(await replayed(reopened.log), ['0:kept']);
    assert.equal(reopened.recovered.length, 1);
    await reopened.log.close();
  });
});
