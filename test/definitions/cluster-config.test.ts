/**
 * The config's `cluster` section: defaults, ranges and unknown keys, each
 * refused in one sentence naming its path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileClusterConfig, compileConfig, InvalidDefinitionError } from '../../src/definitions/index.ts';

const refused = (input: unknown, path: string, message: RegExp) => assert.throws(() => compileClusterConfig(input), (error: unknown) => {
  assert.ok(error instanceof InvalidDefinitionError);
  assert.equal(error.path, path);
  assert.match(error.message, message);
  assert.match(error.message, /^[^\n]+\.$/);
  return true;
});

test('cluster config - replicas default to 3 and standbys to 0; both are taken within their ranges', () => {
  assert.equal(compileClusterConfig(undefined), undefined);
  assert.deepEqual(compileClusterConfig({ name: 'shop', partitions: 4 }), { name: 'shop', partitions: 4, replicas: 3, standbys: 0, partitionBy: {} });
  assert.deepEqual(compileClusterConfig({ name: 'shop', partitions: 4, replicas: 1, standbys: 2 }), { name: 'shop', partitions: 4, replicas: 1, standbys: 2, partitionBy: {} });
});

test('cluster config - a name, partition count, replica or standby count out of range, or an unknown key, is refused naming it', () => {
  refused({ name: 'a.b', partitions: 4 }, 'cluster.name', /prefixes stream names/);
  refused({ name: 'shop', partitions: 0 }, 'cluster.partitions', /from 1 to 256/);
  refused({ name: 'shop', partitions: 4, replicas: 6 }, 'cluster.replicas', /from 1 to 5/);
  refused({ name: 'shop', partitions: 4, standbys: 5 }, 'cluster.standbys', /from 0 to 4/);
  refused({ name: 'shop', partitions: 4, standbys: 1.5 }, 'cluster.standbys', /whole number/);
  refused({ name: 'shop', partitions: 4, standby: 1 }, 'cluster.standby', /unknown key 'standby'.*standbys/);
});

test('cluster config - partitionBy names, per event type, a field every event carries; anything else is refused naming its path', () => {
  const config = (partitionBy: unknown) => ({
    eventTypes: [{ name: 'usage', time: 'at', fields: { at: 'timestamp', customer: 'string', plan: { type: 'string', optional: true } } }],
    views: [],
    cluster: { name: 'shop', partitions: 4, partitionBy },
  });
  assert.deepEqual(compileConfig(config({ usage: 'customer' })).cluster?.partitionBy, { usage: 'customer' });
  const refusedConfig = (partitionBy: unknown, path: string, message: RegExp) => assert.throws(() => compileConfig(config(partitionBy)), (error: unknown) => {
    assert.ok(error instanceof InvalidDefinitionError);
    assert.equal(error.path, path);
    assert.match(error.message, message);
    assert.match(error.message, /^[^\n]+\.$/);
    return true;
  });
  refusedConfig({ orders: 'customer' }, 'cluster.partitionBy.orders', /event type orders, which the config does not define/);
  refusedConfig({ usage: 'client' }, 'cluster.partitionBy.usage', /field client, which event type usage does not have/);
  refusedConfig({ usage: 'plan' }, 'cluster.partitionBy.usage', /field plan, which is optional/);
  refusedConfig({ usage: 3 }, 'cluster.partitionBy.usage', /must name a field/);
  refusedConfig(['usage'], 'cluster.partitionBy', /must be an object/);
});
