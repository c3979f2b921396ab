/**
 * The batch lease and its fence, driven through interleavings chosen by
 * fast-check's scheduler: three nodes take, renew and release the lease and
 * publish versions while the clock moves, and every store operation lands in
 * an order the scheduler picks (a node may act on a read that is stale by the
 * time its write arrives, as a paused or slow node would). Whatever the order:
 * each term has one holder, versions only go up, every published version was
 * written on a record that named its writer as the holder, and once a term
 * has been taken no version is published under an older one.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchControl, type ControlRecord } from '../../../src/backends/nats/batch-control.ts';
import { MemoryRevisionedStore, type Revisioned, type RevisionedStore } from '../../../src/backends/nats/revisioned-store.ts';

const LEASE_MS = 1_000;

/** A store whose every operation runs when the scheduler says, and which records each write. */
class ScheduledStore implements RevisionedStore<ControlRecord> {
  readonly writes: { record: ControlRecord }[] = [];
  readonly #inner = new MemoryRevisionedStore<ControlRecord>();
  constructor(private readonly s: fc.Scheduler) {}

  get(key: string): Promise<Revisioned<ControlRecord> | undefined> {
    return this.s.schedule(Promise.resolve(), 'get').then(() => this.#inner.get(key));
  }

  create(key: string, value: ControlRecord): Promise<number | undefined> {
    return this.s.schedule(Promise.resolve(), 'create').then(() => this.#track(this.#inner.create(key, value), value));
  }

  update(key: string, value: ControlRecord, revision: number): Promise<number | undefined> {
    return this.s.schedule(Promise.resolve(), 'update').then(() => this.#track(this.#inner.update(key, value, revision), value));
  }

  revision(key: string): Promise<number | undefined> {
    return this.s.schedule(Promise.resolve(), 'revision').then(() => this.#inner.revision(key));
  }

  async #track(written: Promise<number | undefined>, value: ControlRecord): Promise<number | undefined> {
    const revision = await written;
    if (revision !== undefined) this.writes.push({ record: value });
    return revision;
  }
}

type Step = { kind: 'acquire' } | { kind: 'publish' } | { kind: 'release' } | { kind: 'wait'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Step>({ kind: 'acquire' }) },
  { weight: 3, arbitrary: fc.constant<Step>({ kind: 'publish' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'release' }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 2 * LEASE_MS }).map<Step>((ms) => ({ kind: 'wait', ms })) },
);

test('batch control - one holder per term, versions only go up, and every publish is fenced by the lease of its writer', async () => {
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), fc.array(fc.array(step, { maxLength: 12 }), { minLength: 3, maxLength: 3 }), async (s, scripts) => {
      const clock = { now: 1_000_000 };
      const store = new ScheduledStore(s);
      const publishedBy = new Map<number, string>();
      let nextVersion = 1;
      const run = async (node: string, script: readonly Step[]) => {
        const control = new BatchControl(store, { node, leaseMs: LEASE_MS, now: () => clock.now });
        for (const st of script) {
          if (st.kind === 'wait') clock.now += st.ms;
          else if (st.kind === 'acquire') await control.acquire();
          else if (st.kind === 'release') await control.release();
          else {
            const version = nextVersion++;
            const outcome = await control.publish(version, [version, version]);
            if (outcome.ok) publishedBy.set(version, node);
          }
        }
      };
      await s.waitFor(Promise.all(scripts.map((script, i) => run(`n${i}`, script))));

      const holders = new Map<number, string>();
      let lastVersion = 0;
      let highestTerm = 0;
      for (const { record } of store.writes) {
        const { lease, published } = record;
        if (lease !== null) {
          highestTerm = Math.max(highestTerm, lease.term);
          const holder = holders.get(lease.term);
          assert.ok(holder === undefined || holder === lease.holder, `term ${lease.term} held by ${holder} and ${lease.holder}`);
          holders.set(lease.term, lease.holder);
        }
        if (published === null) continue;
        assert.ok(published.version >= lastVersion, 'versions only go up');
        if (published.version > lastVersion) {
          // This write published: its writer held an unexpired lease of the version's term.
          assert.equal(lease?.term, published.term);
          assert.equal(lease?.holder, publishedBy.get(published.version));
          // The fence: once a higher term was written, no write publishes under a lower one.
          assert.ok(published.term >= highestTerm, `published under term ${published.term} after term ${highestTerm} was taken`);
        }
        lastVersion = published.version;
      }
    }),
    { seed: 20261129, numRuns: 300 },
  );
});

test('batch control - a node paused past its lease cannot publish once another took it over', async () => {
  const clock = { now: 0 };
  const store = new MemoryRevisionedStore<ControlRecord>();
  const a = new BatchControl(store, { node: 'a', leaseMs: LEASE_MS, now: () => clock.now });
  const b = new BatchControl(store, { node: 'b', leaseMs: LEASE_MS, now: () => clock.now });
  assert.equal(await a.acquire(), true);
  assert.equal(await b.acquire(), false, 'b must wait for a lease that has not expired');
  clock.now += LEASE_MS + 1;
  assert.equal(await b.acquire(), true, 'an expired lease is taken over');
  assert.deepEqual(await a.publish(1, [10]), { ok: false, reason: 'not the lease holder' });
  assert.deepEqual(await b.publish(1, [10]), { ok: true });
  assert.deepEqual(await b.publish(1, [11]), { ok: false, reason: 'version not newer' });
  const record = await b.read();
  assert.deepEqual(record.published, { version: 1, cutoffs: [10], term: 2 });
  await b.release();
  assert.equal(await a.acquire(), true, 'a released lease is free at once');
});
