/**
 * Liveness from heartbeats, judged on this node's clock: a node whose clock
 * runs far behind or ahead of this one's is live while its heartbeat keeps
 * changing, and dead once it stops, whatever timestamps it wrote.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Heartbeat } from '../../../src/backends/nats/heartbeat.ts';
import { LIVENESS_MS } from '../../../src/backends/nats/node-registry.ts';
import { NodeSightings } from '../../../src/backends/nats/node-sightings.ts';

const WALL = 1_800_000_000_000;

function beat(node: string, at: number, instance = `${node}-1`): Heartbeat {
  return { node, instance, host: 'h', pid: 1, url: null, applied: [], batchVersion: null, at };
}

/** A node reading the registry once a second, with its own clock at `WALL + t`. */
function reader() {
  let t = 0;
  const sightings = new NodeSightings(() => t);
  return {
    sightings,
    look(beats: (wall: number) => Heartbeat[]) {
      t += 1000;
      sightings.observe(beats(WALL + t), WALL + t);
    },
  };
}

test('node sightings - a node whose clock is a minute behind is live while it beats, and dead five seconds after it stops', () => {
  const r = reader();
  let stopped = false;
  let last = 0;
  const lagging = (wall: number) => [beat('b', stopped ? last : (last = wall - 60_000))];
  r.look(lagging);
  r.look(lagging);
  // Its first timestamp says a minute old; its next beat proves it live.
  assert.equal(r.sightings.heardWithin('b', LIVENESS_MS), true);
  stopped = true;
  for (let i = 0; i < 5; i++) r.look(lagging);
  assert.equal(r.sightings.heardWithin('b', LIVENESS_MS), true, 'five seconds since its last beat is not yet dead');
  r.look(lagging);
  assert.equal(r.sightings.heardWithin('b', LIVENESS_MS), false);
  assert.equal(r.sightings.agoMs('b'), 6000);
});

test('node sightings - a node whose clock is a minute ahead is dead once it stops beating, though its last timestamp is in this node\'s future', () => {
  const r = reader();
  const ahead = beat('c', WALL + 60_000);
  for (let i = 0; i < 7; i++) r.look(() => [ahead]);
  assert.equal(r.sightings.heardWithin('c', LIVENESS_MS), false);
});

test('node sightings - an entry first read takes its age from its own timestamp, a restart under the same name counts as a beat, and an unlisted node is forgotten', () => {
  const r = reader();
  const frozen = beat('old', WALL - 30_000);
  r.look((wall) => [frozen, beat('new', wall)]);
  assert.equal(r.sightings.heardWithin('old', LIVENESS_MS), false);
  assert.equal(r.sightings.heardWithin('new', LIVENESS_MS), true);
  r.look(() => [frozen]);
  assert.equal(r.sightings.heardWithin('old', LIVENESS_MS), false, 'an unchanged entry is no beat');
  r.look(() => [{ ...frozen, instance: 'old-2' }]);
  assert.equal(r.sightings.heardWithin('old', LIVENESS_MS), true, 'a new instance wrote the entry');
  assert.equal(r.sightings.agoMs('new'), undefined);
});
