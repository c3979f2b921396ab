/**
 * The stored-schema record as a node keeps it up to date: a recording that
 * fails (the record is not valid) fails its own ingest only, and once the
 * record is repaired (deleted, as its error advises) the next ingest of the
 * type records its fields. Found by `missing-object.test.ts`: a failed
 * recording used to fail every later one on that node until it restarted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig } from '../../../src/definitions/index.ts';
import type { StoredTypes } from '../../../src/log/index.ts';
import { InvalidClusterRecordError } from '../../../src/backends/nats/errors.ts';
import { MemoryRevisionedStore, type Revisioned } from '../../../src/backends/nats/revisioned-store.ts';
import { SCHEMA_KEY, SharedSchema } from '../../../src/backends/nats/shared-schema.ts';

const catalog = compileConfig({
  eventTypes: [{ name: 'order', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', amount: { type: 'number', scale: 2 } } }],
  views: [],
});

/** A memory store whose record reads as not valid while `garbage` is set, as a KV bucket with garbage under the key does. */
class DamageableStore extends MemoryRevisionedStore<StoredTypes> {
  garbage = false;

  override async get(key: string): Promise<Revisioned<StoredTypes> | undefined> {
    if (this.garbage) throw new InvalidClusterRecordError('KV bucket test_control', key, 'stored-schema record', 'it is not JSON', 'delete it.');
    return super.get(key);
  }
}

test('a recording that failed on a record not valid fails its own ingest only: once the record is repaired, the next one records the fields', async () => {
  const store = new DamageableStore();
  const schema = await SharedSchema.open(store, catalog, 'the stored-schema record of cluster test');
  assert.equal(schema.needsRecord('order'), true);
  store.garbage = true;
  await assert.rejects(schema.record('order'), InvalidClusterRecordError);
  await assert.rejects(schema.record('order'), InvalidClusterRecordError, 'still not valid');
  assert.equal(schema.needsRecord('order'), true);
  store.garbage = false;
  await schema.record('order');
  assert.equal(schema.needsRecord('order'), false);
  assert.deepEqual(Object.keys((await store.get(SCHEMA_KEY))!.value.order!).sort(), ['amount', 'at', 'id']);
});
