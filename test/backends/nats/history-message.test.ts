/**
 * History messages (`history/1`): how they read back, what the duplicate
 * rule makes of their keys beside live events, and how a file is cut into
 * partitions by the same routing as live events.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import {
  decodeMessage, FirstOccurrenceFilter, HEADERS, HISTORY_FORMAT, historyBody, HistoryObjectMissingError, HistoryKeysMissingError, HistoryRowsMisplacedError, checkAllPlaced, historyKeyReader, keyPartition, stageHistoryFile, type HistoryBody, type LogMessage,
} from '../../../src/backends/nats/internal.ts';
import { DirectoryBlobStore } from '../../../src/master/index.ts';
import { withTempDir } from '../../support/temp-dir.ts';
import { catalog, orders, orderType } from './fixtures.ts';

const SHA = 'a'.repeat(64);
const body = (rows: number, keyed = true): HistoryBody => ({ object: 'history/order/x/f0-p000-000000.parquet', rows, sha256: SHA, ...(keyed ? { keys: { object: 'history/order/x/f0-p000-000000.keys.json', sha256: SHA } } : {}) });
const headers = (format: string, eventType: string) => ({ get: (name: string) => (name === HEADERS.format ? format : name === HEADERS.eventType ? eventType : name === HEADERS.msgId ? 'm' : '') });

test('history message - reads back its body; one whose keys do not fit its type, or that is not one, is skipped alike everywhere', () => {
  const read = decodeMessage(catalog, 2, 9, headers(HISTORY_FORMAT, 'order'), historyBody(body(5)));
  assert.deepEqual(read, { kind: 'history', partition: 2, seq: 9, msgId: 'm', eventType: 'order', body: body(5) });
  assert.equal(decodeMessage(catalog, 2, 9, headers(HISTORY_FORMAT, 'order'), historyBody(body(5, false))).kind, 'skipped');
  assert.equal(decodeMessage(catalog, 2, 9, headers(HISTORY_FORMAT, 'hit'), historyBody(body(5))).kind, 'skipped');
  assert.equal(decodeMessage(catalog, 2, 9, headers(HISTORY_FORMAT, 'hit'), historyBody(body(5, false))).kind, 'history');
  assert.equal(decodeMessage(catalog, 2, 9, headers(HISTORY_FORMAT, 'order'), new TextEncoder().encode('{"object": 1}')).kind, 'skipped');
  assert.equal(decodeMessage(catalog, 2, 9, headers(HISTORY_FORMAT, 'order'), historyBody({ ...body(5), rows: 2 ** 20 + 1 })).kind, 'skipped');
});

const history = (seq: number, keys: readonly string[], msgId = `h${seq}`): LogMessage => ({ kind: 'history', partition: 0, seq, msgId, eventType: 'order', body: body(keys.length), keys });
const events = (seq: number, ids: readonly string[]): LogMessage => ({ kind: 'events', partition: 0, seq, msgId: `e${seq}`, eventType: 'order', events: orders(ids.map((id) => ({ id, copy: `${seq}` }))) });

test('history message - its rows whose keys came earlier (live, history, or within it) are dropped; a live retry of its keys later is dropped', () => {
  const filter = new FirstOccurrenceFilter(catalog);
  filter.admit(events(1, ['a', 'b']));
  const verdict = filter.admit(history(2, ['b', 'c', 'd', 'c']));
  assert.equal(verdict.kind, 'history');
  assert.deepEqual(verdict.kind === 'history' ? verdict.dropped : [], [0, 3]);
  const again = filter.admit(history(3, ['c', 'e']));
  assert.deepEqual(again.kind === 'history' ? again.dropped : [], [0]);
  const retry = filter.admit(events(4, ['d', 'e', 'f']));
  assert.deepEqual(retry.kind === 'admitted' ? [retry.admitted.lines, retry.admitted.duplicates] : [], [[2], 2]);
  assert.equal(filter.admit(history(5, ['z'], 'h2')).kind, 'repeated-message', 'a history message published again is dropped whole');
});

test('history message - handed to the rule without its keys, or with too few, it stops the rule with a typed error naming the message', () => {
  const filter = new FirstOccurrenceFilter(catalog);
  assert.throws(() => filter.admit({ kind: 'history', partition: 0, seq: 6, msgId: 'h6', eventType: 'order', body: body(2) }), (error: unknown) => {
    assert.ok(error instanceof HistoryKeysMissingError);
    assert.deepEqual([error.code, error.partition, error.seq, error.rows, error.keys], ['history_keys_missing', 0, 6, 2, undefined]);
    assert.equal(error.message, 'History message 6 of partition 0 reached the duplicate rule with no keys for its 2 rows, so the partition is read no further.');
    return true;
  });
  assert.throws(() => filter.admit({ kind: 'history', partition: 0, seq: 7, msgId: 'h7', eventType: 'order', body: body(3), keys: ['a'] }), (error: unknown) => error instanceof HistoryKeysMissingError && error.keys === 1 && error.rows === 3 && error.seq === 7);
});

test('history message - two rules fed the same messages agree on the digest; other keys give another', () => {
  fc.assert(fc.property(fc.array(fc.array(fc.nat(9).map((k) => `k${k}`), { maxLength: 6 }), { minLength: 1, maxLength: 8 }), (batches) => {
    const digest = (keys: readonly (readonly string[])[]) => {
      const filter = new FirstOccurrenceFilter(catalog);
      keys.forEach((k, i) => filter.admit(i % 2 === 0 ? history(i + 1, k) : events(i + 1, k)));
      return filter.digest;
    };
    assert.equal(digest(batches), digest(batches));
    const changed = batches.map((k, i) => (i === 0 ? [...k, 'new'] : k));
    assert.notEqual(digest(changed), digest(batches));
  }), { seed: 31, numRuns: 100 });
});

test('history staging - every row lands in the partition a live event with its key goes to, in file order, in chunks of at most the size asked', async () => {
  await withTempDir(async (dir) => {
    const ids = Array.from({ length: 500 }, (_, i) => `order-${(i * 7919) % 450}`);
    const csv = join(dir, 'orders.csv');
    await writeFile(csv, ['id,at,copy,amount', ...ids.map((id, i) => `${id},2024-05-01T12:00:00Z,${i},1.50`)].join('\n') + '\n');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await mkdir(join(dir, 'stage'));
      const staged = await stageHistoryFile({ instance, connection, schema: orderType, path: csv, format: 'csv', partitions: 5, dir: join(dir, 'stage'), chunkRows: 40 });
      assert.equal(staged.rows, 500);
      assert.equal(staged.chunks.reduce((n, c) => n + c.rows, 0), 500);
      const seen: number[] = [];
      for (const chunk of staged.chunks) {
        assert.ok(chunk.rows <= 40);
        const read = await connection.runAndReadAll(`SELECT id, copy FROM read_parquet('${chunk.file}', file_row_number = true) ORDER BY file_row_number`);
        const rows = read.getRows().map(([id, copy]) => [String(id), Number(copy)] as const);
        for (const [id] of rows) assert.equal(keyPartition('order', id, 5), chunk.partition, `${id} in partition ${chunk.partition}`);
        const copies = rows.map(([, copy]) => copy);
        assert.deepEqual(copies, [...copies].sort((a, b) => a - b), 'a chunk keeps the file order');
        const keys = JSON.parse(await readFile(chunk.keysFile!, 'utf8')) as { keys: string[] };
        assert.deepEqual(keys.keys, rows.map(([id]) => id), 'the keys object lists the chunk\'s keys in row order');
        seen.push(...copies);
      }
      assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 500 }, (_, i) => i));
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

test('history staging - chunks holding another number of rows than the file\'s good ones stop the staging with a typed error naming the file', () => {
  assert.doesNotThrow(() => checkAllPlaced('old.csv', [[0, 0, 64n], [1, 0, 36n]], 100));
  for (const [groups, placed] of [[[[0, 0, 64n]], 64], [[[0, 0, 64n], [1, 0, 37n]], 101], [[], 0]] as const) {
    assert.throws(() => checkAllPlaced('old.csv', groups, 100), (error: unknown) => {
      assert.ok(error instanceof HistoryRowsMisplacedError);
      assert.deepEqual([error.code, error.path, error.placed, error.good], ['history_rows_misplaced', 'old.csv', placed, 100]);
      assert.equal(error.message, `Staging history file old.csv placed ${placed} of its 100 good rows in partitions, so nothing of it is published.`);
      return true;
    });
  }
});

test('history staging - a file past the appender\'s flush (204,800 rows) is staged whole', async () => {
  await withTempDir(async (dir) => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const file = join(dir, 'orders.parquet');
      await connection.run(`COPY (SELECT 'o' || i AS id, TIMESTAMP '2024-05-01' AS "at", CAST(i AS VARCHAR) AS copy, CAST(1.5 AS DECIMAL(18, 2)) AS amount FROM range(300000) t(i)) TO '${file}' (FORMAT parquet)`);
      await mkdir(join(dir, 'stage'));
      const staged = await stageHistoryFile({ instance, connection, schema: orderType, path: file, format: 'parquet', partitions: 2, dir: join(dir, 'stage') });
      assert.equal(staged.chunks.reduce((n, c) => n + c.rows, 0), 300_000);
      for (const chunk of staged.chunks) {
        const read = await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${chunk.file}')`);
        assert.equal(Number(read.getRows()[0]![0]), chunk.rows);
      }
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

test('history keys - read and checked against the message; an object missing or changed stops the reading with a typed error', async () => {
  await withTempDir(async (dir) => {
    const blobs = Object.assign(new DirectoryBlobStore(join(dir, 'store')), { name: 'a test store' });
    const keysFile = join(dir, 'keys.json');
    await writeFile(keysFile, JSON.stringify({ keys: ['a', null, 'c'] }));
    const { sha256 } = await blobs.put('history/order/x/f0-p000-000000.keys.json', keysFile);
    const read = historyKeyReader(blobs, join(dir, 'keys'));
    const message = (over: Partial<HistoryBody['keys'] & object> = {}): Extract<LogMessage, { kind: 'history' }> => ({
      kind: 'history', partition: 1, seq: 7, msgId: 'h', eventType: 'order', body: { ...body(3), keys: { object: 'history/order/x/f0-p000-000000.keys.json', sha256, ...over } },
    });
    assert.deepEqual(await read(message()), ['a', null, 'c']);
    await assert.rejects(read(message({ sha256: 'b'.repeat(64) })), (error: unknown) => error instanceof HistoryObjectMissingError && error.partition === 1 && error.seq === 7 && /SHA-256 differs/.test(error.message));
    await assert.rejects(read(message({ object: 'history/order/x/gone.keys.json' })), (error: unknown) => error instanceof HistoryObjectMissingError && /missing/.test(error.message));
  });
});
