import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attribute, CAUSES, ownWriteShare, splitProbe, union, type Activity, type Span } from '../../bench/freshness-attribution.ts';

const none: Activity = { gc: [], preempted: [], stall: [], roll: [], write: [] };

const span = fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 30 })).map(([start, length]) => ({ start, end: start + length }));
const activity = fc.record({
  gc: fc.array(span, { maxLength: 4 }),
  preempted: fc.array(span, { maxLength: 4 }),
  stall: fc.array(span, { maxLength: 4 }),
  roll: fc.array(span, { maxLength: 4 }),
  write: fc.array(span, { maxLength: 4 }),
});

test('freshness attribution - a probe is split among the causes by precedence, the rest is other', () => {
  const probe: Span = { start: 0, end: 10 };
  const split = splitProbe(probe, { ...none, gc: [{ start: 2, end: 4 }], write: [{ start: 3, end: 8 }, { start: 7, end: 12 }] });
  assert.deepEqual(split, { gc: 2, preempted: 0, stall: 0, roll: 0, write: 6, other: 2 });
});

test('freshness attribution - the parts of a probe add up to its latency, none negative, none counted twice', () => {
  fc.assert(fc.property(span, activity, (probe, act) => {
    const split = splitProbe(probe, act);
    const sum = CAUSES.reduce((n, c) => n + split[c], 0);
    assert.ok(Math.abs(sum - (probe.end - probe.start)) < 1e-9);
    for (const c of CAUSES) assert.ok(split[c] >= -1e-9, `${c} ${split[c]}`);
    // A cause alone takes exactly its covered time inside the probe.
    const gcAlone = splitProbe(probe, { ...none, gc: act.gc });
    const covered = union(act.gc).reduce((n, s) => n + Math.max(0, Math.min(s.end, probe.end) - Math.max(s.start, probe.start)), 0);
    assert.ok(Math.abs(gcAlone.gc - covered) < 1e-9);
  }), { seed: 29, numRuns: 500 });
});

test('freshness attribution - only probes over the threshold count, and shares sum to one', () => {
  fc.assert(fc.property(fc.array(span, { minLength: 1, maxLength: 20 }), activity, (probes, act) => {
    const a = attribute(probes, act, 5);
    assert.equal(a.slow, probes.filter((p) => p.end - p.start > 5).length);
    assert.equal(CAUSES.reduce((n, c) => n + a.dominant[c], 0), a.slow);
    const shares = CAUSES.reduce((n, c) => n + a.share[c], 0);
    assert.ok(a.slow === 0 ? shares === 0 : Math.abs(shares - 1) < 1e-9);
  }), { seed: 29, numRuns: 300 });
});

test('freshness attribution - a slow probe\'s own write is told from the earlier writes it waited behind', () => {
  const writes = [{ start: 0, end: 6 }, { start: 6, end: 10 }, { start: 20, end: 21 }];
  // Sent during the first write, resolved after the second: 4 ms of its own in 9 ms of writes.
  assert.ok(Math.abs(ownWriteShare([{ start: 1, end: 10 }, { start: 20, end: 21 }], writes, 2) - 4 / 9) < 1e-9);
  assert.equal(ownWriteShare([{ start: 30, end: 40 }], writes, 2), 0);
  fc.assert(fc.property(fc.array(span, { maxLength: 10 }), fc.array(span, { maxLength: 10 }), (probes, ws) => {
    const share = ownWriteShare(probes, [...ws].sort((a, b) => a.end - b.end), 2);
    assert.ok(share >= 0 && share <= 1);
  }), { seed: 29, numRuns: 300 });
});
