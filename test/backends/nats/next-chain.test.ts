/**
 * The chain a cycle takes on the batch node: the served chain with the folds
 * compaction made (one fold may take in another's range, and a fold that ran
 * across a cycle counts in the next), and the ranges archived ahead of its
 * end, which hold only on the chain and lease term they followed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FANOUT } from '../../../src/backends/nats/archive-compaction.ts';
import { NextChain } from '../../../src/backends/nats/next-chain.ts';
import type { PartitionArchive } from '../../../src/backends/nats/partition-archive.ts';
import type { ArchivedRange } from '../../../src/backends/nats/shared-manifest.ts';

const sha = 'c'.repeat(64);
function range(from: number, to: number, folds?: number): ArchivedRange {
  const name = `p0-${from}-${to}-${folds ?? 1}`;
  return { partition: 0, from, to, files: { order: { blob: `master/order/${name}.parquet`, rows: 1, sha256: sha } }, filter: { blob: `master/filters/${name}.json`, sha256: sha }, ...(folds === undefined ? {} : { folds }) };
}

/** An archive that archives a range per call and folds by naming, without objects. */
const archive = {
  endsOf: (chain: readonly ArchivedRange[]) => [Math.max(1, ...chain.map((r) => r.to))],
  extend: async (chain: readonly ArchivedRange[], to: readonly number[]) => {
    const end = Math.max(1, ...chain.map((r) => r.to));
    return to[0]! > end ? [...chain, range(end, to[0]!)] : [...chain];
  },
} as unknown as PartitionArchive;
const fold = async (group: readonly ArchivedRange[]) => range(group[0]!.from, group.at(-1)!.to, group.reduce((n, r) => n + (r.folds ?? 1), 0));

const cycles = (n: number) => Array.from({ length: n }, (_, i) => range(1 + i * 10, 11 + i * 10));
const spans = (chain: readonly ArchivedRange[]) => chain.map((r) => [r.from, r.to, r.folds ?? 1]);

test('next chain - folds of folds made between two cycles all count, in order, and nothing is folded twice', async () => {
  const next = new NextChain(archive);
  const served = cycles(FANOUT * FANOUT + 1);
  let folded = 0;
  while (await next.foldOnce(served, 1, fold)) folded++;
  assert.equal(folded, FANOUT + 1, `${FANOUT} folds of ${FANOUT} ranges, then one of those`);
  assert.deepEqual(spans(next.take(served, 1).chain), [[1, 1 + FANOUT * FANOUT * 10, FANOUT * FANOUT], [1 + FANOUT * FANOUT * 10, 11 + FANOUT * FANOUT * 10, 1]]);
});

test('next chain - a fold made across a cycle counts in the next one; one made under another term does not', async () => {
  const next = new NextChain(archive);
  const served = cycles(FANOUT + 1);
  // The fold runs while a cycle takes what is prepared and publishes a longer chain holding the same ranges.
  let release = () => {};
  const running = next.foldOnce(served, 1, async (group) => {
    await new Promise<void>((resolve) => (release = resolve));
    return fold(group);
  });
  assert.deepEqual(next.take(served, 1).chain, served);
  const published = [...served.map((r) => ({ ...r })), range(51, 61)];
  release();
  assert.equal(await running, true);
  assert.deepEqual(spans(next.take(published, 1).chain), [[1, 41, FANOUT], [41, 51, 1], [51, 61, 1]]);
  await next.foldOnce(published, 1, fold);
  assert.deepEqual(next.take(published, 2).chain, published, 'a new term starts over');
});

test('next chain - ranges archived ahead follow their chain and term; a new chain, a new term or a stream that lost its tail drops them', async () => {
  const next = new NextChain(archive);
  const served = cycles(2);
  await next.archiveAhead(served, 1, [30]);
  await next.archiveAhead(served, 1, [40]);
  assert.deepEqual(next.ends(served, 1), [40]);
  assert.deepEqual(next.unpublished(), ['master/order/p0-21-30-1.parquet', 'master/filters/p0-21-30-1.json', 'master/order/p0-30-40-1.parquet', 'master/filters/p0-30-40-1.json']);
  assert.deepEqual(spans(next.take(served, 1).ahead), [[21, 30, 1], [30, 40, 1]]);
  assert.deepEqual(next.take(served, 1).ahead, [], 'taken once');
  await next.archiveAhead(served, 1, [30]);
  assert.deepEqual(next.take([...served], 1).ahead, [], 'another chain');
  await next.archiveAhead(served, 1, [30]);
  assert.deepEqual(next.take(served, 2).ahead, [], 'another term');
  await next.archiveAhead(served, 1, [30]);
  next.dropAhead();
  assert.deepEqual(next.take(served, 1).ahead, []);
});

test('next chain - paused for an erasing cycle, the fold in flight is waited for and taken, and none starts until resumed', async () => {
  const next = new NextChain(archive);
  const served = cycles(2 * FANOUT + 1);
  let release = () => {};
  let started = 0;
  const slowFold = async (group: readonly ArchivedRange[]) => {
    started++;
    await new Promise<void>((resolve) => (release = resolve));
    return fold(group);
  };
  const running = next.foldOnce(served, 1, slowFold);
  let paused = false;
  const pausing = next.pause().then(() => (paused = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(paused, false, 'the erasing cycle waits for the fold in flight');
  release();
  await pausing;
  assert.equal(await running, true);
  // Taken now, the erasure rewrites the fold's object with the others: nothing it replaces is read after.
  assert.deepEqual(spans(next.take(served, 1).chain).slice(0, 1), [[1, 1 + FANOUT * 10, FANOUT]]);
  assert.equal(await next.foldOnce(served, 1, slowFold), false, 'no fold starts while the cycle runs');
  assert.equal(started, 1);
  next.resume();
  const after = next.foldOnce(served, 1, slowFold);
  await new Promise((resolve) => setTimeout(resolve, 0));
  release();
  assert.equal(await after, true);
  assert.equal(started, 2);
});
