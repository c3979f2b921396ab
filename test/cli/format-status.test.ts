/**
 * `tandem status`'s summary (issue #32): embedded, the log end in offsets as
 * before; in cluster mode, the cluster's events and the archive's events
 * and size, each partition's events, messages only beside them, and an
 * unknown count said to be unknown rather than printed as 0. The numbers of
 * a real cluster are printed in test/backends/nats/cluster-numbers.test.ts.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatStatus, size, type StatusAnswer } from '../../src/cli/format-status.ts';

const embedded: StatusAnswer = {
  logEnd: 1_200, sealedSegments: 2, ingestRate: 40, batchRunning: false,
  batch: { version: 3, cutoff: 1_000, ageMs: 5_000, durationMs: 1_250 }, speed: { events: 200, keys: 15 }, memory: { rssBytes: 200 * 2 ** 20 },
};

test('format status - embedded: the log end and the lag in offsets', () => {
  const lines = formatStatus(embedded).split('\n');
  assert.equal(lines[0], 'master dataset  log end 1,200 · 40 events/s · 2 sealed segments awaiting batch');
  assert.equal(lines[2], 'speed layer     200 events · 15 keys · lag 200 offsets behind batch');
  assert.ok(!lines.some((l) => l.includes('partition')));
});

test('format status - cluster: events first, the archive\'s share and size, messages as a detail, per partition', () => {
  const cluster = {
    name: 'shop', node: 'a', events: 5_000, archiveBytes: 3 * 2 ** 20,
    partitions: [
      { partition: 0, applied: 5, owner: 'a', events: 2_000, archivedEvents: 1_500, archiveBytes: 2 ** 20 },
      { partition: 1, applied: 11, owner: null, events: 3_000, archivedEvents: 2_500, archiveBytes: 2 * 2 ** 20 },
    ],
  };
  const printed = formatStatus({ ...embedded, logEnd: 16, sealedSegments: 0, cluster });
  const lines = printed.split('\n');
  assert.equal(lines[0], 'master dataset  5,000 events · 40 events/s · archive 4,000 events in 3.0 MiB · 16 messages applied');
  assert.equal(lines[2], 'speed layer     200 events · 15 keys (on this node)');
  assert.ok(lines.includes('cluster         shop · this node a'));
  assert.ok(lines.includes('  partition 0   2,000 events · archive 1,500 events in 1.0 MiB · 5 messages applied · owner a'), printed);
  assert.ok(lines.includes('  partition 1   3,000 events · archive 2,500 events in 2.0 MiB · 11 messages applied · owner none'), printed);
  const unknown = formatStatus({ ...embedded, cluster: { ...cluster, events: null, archiveBytes: null, partitions: [{ ...cluster.partitions[0]!, events: null, archiveBytes: null }] } });
  assert.match(unknown, /^master dataset {2}events not known yet · .* in \? bytes · /);
  assert.match(unknown, /partition 0 {3}events not known yet · archive 1,500 events in \? bytes · /);
});

test('format status - a history upload under way: its bytes while it arrives, then its rows', () => {
  const history = { eventType: 'order', phase: 'uploading', file: '2023.parquet', bytesReceived: 3 * 2 ** 20, rowsDone: 0, rowsKnown: 0 };
  assert.ok(formatStatus({ ...embedded, history }).split('\n').includes('history import  2023.parquet into order · uploading · 3.0 MiB received'));
  assert.ok(formatStatus({ ...embedded, history: { ...history, phase: 'importing', rowsDone: 1_500, rowsKnown: 40_000 } }).includes('history import  2023.parquet into order · importing · 1,500 of 40,000 rows'));
  assert.ok(!formatStatus(embedded).includes('history import'));
});

test('format status - size: bytes below 1 KiB, then the largest unit under 1024, one decimal below 10', () => {
  assert.equal(size(0), '0 bytes');
  assert.equal(size(1), '1 byte');
  assert.equal(size(1023), '1,023 bytes');
  assert.equal(size(1024), '1.0 KiB');
  assert.equal(size(15 * 2 ** 20), '15 MiB');
  fc.assert(fc.property(fc.integer({ min: 1024, max: 2 ** 50 }), (bytes) => {
    const [value, unit] = size(bytes).split(' ');
    const scale = 1024 ** (['KiB', 'MiB', 'GiB', 'TiB'].indexOf(unit!) + 1);
    assert.ok(Math.abs(Number(value) - bytes / scale) <= 0.5 + 1e-9, `${bytes} → ${size(bytes)}`);
    assert.ok(unit === 'TiB' || bytes / scale < 1024);
  }), { seed: 32 });
});
