/**
 * Which views an engine opens with (`openingViews`): the config's, unless
 * the recorded state was written for these same config views; versions kept
 * for unchanged definitions and raised for changed ones.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig, viewsDigest } from '../../src/definitions/index.ts';
import { openingViews, versionsOf, viewState } from '../../src/engine/view-state.ts';
import { shopConfig, views } from '../support/shop-config.ts';

const added = { name: 'extra', eventType: 'order', dimensions: [], granularity: 'day', measures: { n: { type: 'count' } } } as const;

test('view state - no record: the config, each view at version 1', () => {
  const opening = openingViews(shopConfig, undefined, () => assert.fail('nothing to discard'));
  assert.deepEqual(Object.values(opening.versions).map((v) => v.version), views.map(() => 1));
  assert.equal(opening.configDigest, viewsDigest(shopConfig.views));
});

test('view state - a record for the same config views: the views as changed, versions and pending changes kept', () => {
  const changed = compileConfig({ ...shopConfig, views: [...shopConfig.views.slice(1), added] });
  const versions = { ...versionsOf(compileConfig(shopConfig), {}), extra: { version: 3, hash: changed.views.get('extra')!.hash } };
  const state = viewState(viewsDigest(shopConfig.views), changed, versions, [{ view: { ...added, granularity: 'hour' }, version: 4 }]);
  const opening = openingViews(JSON.parse(JSON.stringify(shopConfig)), state, () => assert.fail('nothing to discard'));
  assert.deepEqual([...opening.catalog.views.keys()], [...changed.views.keys()]);
  assert.equal(opening.versions.extra?.version, 3);
  assert.equal(opening.pending.length, 1);
});

test('view state - the config\'s views changed since: the config wins, versions of changed definitions rise, and the discard is told', () => {
  const catalog = compileConfig(shopConfig);
  const state = viewState(viewsDigest(shopConfig.views), compileConfig({ ...shopConfig, views: [...shopConfig.views, added] }), versionsOf(catalog, {}), []);
  const edited = { ...shopConfig, views: [{ ...views[0]!, granularity: 'day' as const }, ...views.slice(1)] };
  const told: string[] = [];
  const opening = openingViews(edited, state, (reason) => told.push(reason));
  assert.deepEqual([...opening.catalog.views.keys()], views.map((v) => v.name));
  assert.equal(opening.versions[views[0]!.name]?.version, 2);
  assert.equal(opening.versions[views[1]!.name]?.version, 1);
  assert.match(told[0] ?? '', /the config's views changed since the views were last changed while serving/);
});

test('view state - the version of a dropped view is kept at open, so that defining it again raises it', () => {
  const catalog = compileConfig(shopConfig);
  const dropped = compileConfig({ ...shopConfig, views: shopConfig.views.slice(1) });
  const versions = { ...versionsOf(catalog, {}), [views[0]!.name]: { version: 4, hash: catalog.views.get(views[0]!.name)!.hash } };
  const opening = openingViews(shopConfig, viewState(viewsDigest(shopConfig.views), dropped, versions, []), () => assert.fail('nothing to discard'));
  assert.ok(!opening.catalog.views.has(views[0]!.name));
  assert.equal(opening.versions[views[0]!.name]?.version, 4);
});

test('view state - key order and view order change no digest', () => {
  const reordered = [...shopConfig.views].reverse().map((v) => Object.fromEntries(Object.entries(v).reverse()));
  assert.equal(viewsDigest(reordered), viewsDigest(shopConfig.views));
});
