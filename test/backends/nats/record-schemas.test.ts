/**
 * Every record a node reads back from NATS is checked before a field of it
 * is read: the control record, the stored-schema record, heartbeats, a
 * version's manifest, a duplicate rule's snapshot and a partition's lease.
 * Whatever the text (not JSON, `{}`, a field of the wrong type, random
 * JSON), the reader gets the record typed or one `InvalidClusterRecordError`
 * naming the bucket and the key, never a `TypeError`.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidClusterRecordError } from '../../../src/backends/nats/errors.ts';
import {
  controlRecordCheck, filterSnapshotCheck, heartbeatCheck, parseRecord, partitionLeaseCheck, sharedManifestCheck, storedTypesCheck, type RecordCheck,
} from '../../../src/backends/nats/record-schemas.ts';

const where = { store: 'KV bucket shop_control', key: 'batch-control', what: 'batch control record', advice: 'batch cycles pause.' };
const SHA = 'a'.repeat(64);

const valid = {
  control: { lease: { holder: 'n1', term: 3, expiresAt: 1_764_000_000_000 }, published: { version: 7, cutoffs: [12, 40], term: 3 } },
  heartbeat: { node: 'n1', instance: 'ab12', host: 'h', pid: 42, url: null, applied: [3, 4], batchVersion: 2, at: 1_764_000_000_000 },
  stored: { order: { id: { type: 'string' }, amount: { type: 'number', scale: 2 } } },
  snapshot: { lastSeq: 11, msgIds: ['w:1:0:0'] },
  partitionLease: { owner: { node: 'n1', instance: 'ab12' }, epoch: 41, moveTo: 'n2', published: { version: 3, cutoff: 120, epoch: 17 } },
  manifest: {
    version: 7, cutoff: 52, cutoffs: [12, 40], createdAt: '2026-12-02T00:00:00.000Z', durationMs: 5,
    views: { sales: { hash: 'h', file: 'sales.parquet', sha256: SHA, rows: 3, inputEvents: 9, durationMs: 1 }, empty: { hash: 'g', file: null, rows: 0, inputEvents: 0, durationMs: 1 } },
    ranges: [{ partition: 1, from: 1, to: 40, files: { order: { blob: 'master/order/p001.parquet', rows: 9, sha256: SHA } }, filter: { blob: 'master/filters/p001.json', sha256: SHA } }],
    checksum: 'c',
  },
};

const checks: Record<keyof typeof valid, RecordCheck<unknown>> = {
  control: controlRecordCheck(2),
  heartbeat: heartbeatCheck,
  stored: storedTypesCheck,
  snapshot: filterSnapshotCheck,
  partitionLease: partitionLeaseCheck,
  manifest: sharedManifestCheck(2),
};

function refusal(text: string, check: RecordCheck<unknown>): InvalidClusterRecordError {
  try {
    parseRecord(text, check, where);
  } catch (error) {
    assert.ok(error instanceof InvalidClusterRecordError, `${text.slice(0, 60)}: ${String(error)}`);
    return error;
  }
  assert.fail(`${text.slice(0, 60)} passed`);
}

test('cluster records - valid records read back as written', () => {
  for (const [name, value] of Object.entries(valid)) {
    assert.deepEqual(parseRecord(JSON.stringify(value), checks[name as keyof typeof valid], where), value, name);
  }
  assert.deepEqual(parseRecord('{"lease":null,"published":null}', checks.control, where), { lease: null, published: null });
});

test('cluster records - the control record of issue #26 (garbage, {}) is refused in one sentence naming the bucket and the key', () => {
  const garbage = refusal('garbage{', checks.control);
  assert.equal(garbage.code, 'cluster_record_invalid');
  assert.equal(garbage.message, "The batch control record 'batch-control' in KV bucket shop_control is not valid (it is not JSON): batch cycles pause.");
  assert.equal(refusal('{}', checks.control).reason, 'lease is not present');
  assert.equal(refusal('{"lease":null,"published":{"version":7,"cutoffs":[1],"term":1}}', checks.control).reason, 'published.cutoffs is not a list of 2 sequences, one per partition');
  assert.equal(refusal('{"lease":{"holder":"n","term":"2","expiresAt":1},"published":null}', checks.control).reason, 'lease.term is not an integer of at least 1');
  assert.equal(refusal('{"lease":null,"published":{"version":0,"cutoffs":[1,2],"term":1}}', checks.control).reason, 'published.version is not an integer of at least 1');
  assert.equal(refusal('[]', checks.heartbeat).reason, 'it is not an object');
  assert.equal(refusal('{"order":{"amount":{"type":"number"}}}', checks.stored).reason, 'order.amount.scale is not present');
  assert.equal(refusal('{"lastSeq":-1,"msgIds":[]}', checks.snapshot).reason, 'lastSeq is not an integer of at least 0');
  const manifest = { ...valid.manifest, ranges: [{ ...valid.manifest.ranges[0], partition: 2 }] };
  assert.equal(refusal(JSON.stringify(manifest), checks.manifest).reason, 'ranges[0].partition is not a partition below 2');
});

/** Every field of `value` replaced in turn by each of a few wrong values, and removed. */
function mutations(value: unknown, path: string[] = []): { path: string; record: unknown }[] {
  if (value === null || typeof value !== 'object') return [];
  const out: { path: string; record: unknown }[] = [];
  for (const key of Object.keys(value)) {
    const inner = (value as Record<string, unknown>)[key];
    for (const wrong of [undefined, 'x', -1, 1.5, {}, [], true]) {
      if (wrong !== null && typeof inner === typeof wrong && Array.isArray(inner) === Array.isArray(wrong)) continue;
      out.push({ path: [...path, key].join('.'), record: replaceAt(value, key, wrong) });
    }
    for (const deeper of mutations(inner, [...path, key])) out.push({ path: deeper.path, record: replaceAt(value, key, deeper.record) });
  }
  return out;
}

function replaceAt(value: object, key: string, inner: unknown): unknown {
  if (Array.isArray(value)) return value.map((v, i) => (String(i) === key ? inner : v)).filter((v) => v !== undefined);
  const copy: Record<string, unknown> = { ...value };
  if (inner === undefined) delete copy[key];
  else copy[key] = inner;
  return copy;
}

/** Fields no node reads (the manifest's checksum is checked on its own), or that may be absent or null. */
const UNREAD = /^(control\.(lease|published)|heartbeat\.(url|batchVersion|applied\.\d)|manifest\.(checksum|views\.\w+\.(inputEvents|durationMs|sha256)|views\.empty\.file|views\.\w+|ranges\.0\.files\.order|ranges\.0\.files|ranges\.0)|stored\.order(\.\w+)?|snapshot\.msgIds\.0)$/;

test('cluster records - every field of every record, made wrong or removed, is refused unless no node reads it', () => {
  let refused = 0;
  for (const [name, value] of Object.entries(valid)) {
    for (const { path, record } of mutations(value)) {
      try {
        parseRecord(JSON.stringify(record), checks[name as keyof typeof valid], where);
        assert.match(`${name}.${path}`, UNREAD, `${name}.${path} made wrong (${JSON.stringify(record).slice(0, 120)}) was not refused`);
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error;
        assert.ok(error instanceof InvalidClusterRecordError, `${name} ${path}: ${String(error)}`);
        refused++;
      }
    }
  }
  assert.ok(refused > 100, `${refused} refused`);
});

test('cluster records - random text and random JSON never throw anything but InvalidClusterRecordError', () => {
  fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), fc.constantFrom(...Object.values(checks)), (text, check) => {
    try {
      parseRecord(text, check, where);
    } catch (error) {
      assert.ok(error instanceof InvalidClusterRecordError, String(error));
    }
  }), { seed: 20261202, numRuns: 2_000 });
});
