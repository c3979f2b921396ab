/**
 * A batch cycle that fails once its node lost the lease of the cycle's term
 * answers `batch_fenced`, whatever step failed: every kind of failure a node
 * meets after a freeze (a NATS request timed out, a purged range, an archive
 * that ends short, a refused append, a lease found taken) against every state
 * the control record can be in (still held, expired with nobody taking it,
 * taken by another node, taken and taken back under a later term, taken with
 * a read that times out once, unreadable, never held). Driven through BatchControl on a store in memory and a clock
 * the test moves, so no outcome depends on timing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TimeoutError } from '@nats-io/transport-node';
import { BatchControl, type ControlRecord } from '../../../src/backends/nats/batch-control.ts';
import { AppendUnacknowledgedError, BatchFencedError, BatchLeaseHeldError, PartitionPurgedError } from '../../../src/backends/nats/errors.ts';
import { assertLeaseHeld, cycleFailure, type CycleTerm } from '../../../src/backends/nats/fenced-cycle.ts';
import { MemoryRevisionedStore, type Revisioned } from '../../../src/backends/nats/revisioned-store.ts';
import type { EngineLogger } from '../../../src/engine/index.ts';

const LEASE_MS = 1_000;
const VERSION = 7;

/** A store in memory whose next `failingReads` reads time out, as a control bucket whose server is down or a connection catching up. */
class FlakyStore extends MemoryRevisionedStore<ControlRecord> {
  failingReads = 0;

  override async get(key: string): Promise<Revisioned<ControlRecord> | undefined> {
    if (this.failingReads > 0) {
      this.failingReads--;
      throw new TimeoutError();
    }
    return super.get(key);
  }
}

/** What each step of a cycle can throw when its node runs again after a freeze. */
const FAILURES: Readonly<Record<string, () => Error>> = {
  'a NATS request timed out': () => new TimeoutError(),
  'a replay of a purged range': () => new PartitionPurgedError(0, 1, 120),
  'an archive that ends short': () => new Error('partition 0 ended at sequence 9, before the cutoff 12'),
  'a seal not acknowledged': () => new AppendUnacknowledgedError(1, 30_000, [0, 0], new TimeoutError()),
  'the lease found taken': () => new BatchLeaseHeldError('b'),
};

interface Scene {
  readonly store: FlakyStore;
  readonly a: BatchControl;
  /** The term node a's cycle runs under. */
  readonly term: number | null;
}

/**
 * The record's states, each reached by the nodes' own operations (a runs the
 * cycle, b is the other node): whether a failed cycle is fenced, and whether
 * the check between steps (one read, no retry) already stops it.
 */
const STATES: Readonly<Record<string, { fenced: boolean; stopsBetweenSteps: boolean; build: () => Promise<Scene> }>> = {
  'still held': { fenced: false, stopsBetweenSteps: false, build: () => scene(async () => undefined) },
  'expired, nobody took it': { fenced: false, stopsBetweenSteps: false, build: () => scene(async ({ clock }) => void (clock.now += LEASE_MS + 1)) },
  'taken by another node': { fenced: true, stopsBetweenSteps: true, build: () => scene(async ({ clock, b }) => takeOver(clock, b)) },
  'taken, then taken back under a later term': {
    fenced: true,
    stopsBetweenSteps: true,
    build: () => scene(async ({ clock, a, b }) => {
      await takeOver(clock, b);
      clock.now += LEASE_MS + 1;
      assert.equal(await a.acquire(), true);
    }),
  },
  'taken, its first read timing out': {
    fenced: true,
    stopsBetweenSteps: false,
    build: () => scene(async ({ clock, b, store }) => {
      await takeOver(clock, b);
      store.failingReads = 1;
    }),
  },
  'taken, unreadable': {
    fenced: false,
    stopsBetweenSteps: false,
    build: () => scene(async ({ clock, b, store }) => {
      await takeOver(clock, b);
      store.failingReads = Infinity;
    }),
  },
};

async function takeOver(clock: { now: number }, b: BatchControl): Promise<void> {
  clock.now += LEASE_MS + 1;
  assert.equal(await b.acquire(), true);
}

/** a takes the lease and starts a cycle under its term; then `after` moves the record on. */
async function scene(after: (nodes: { clock: { now: number }; a: BatchControl; b: BatchControl; store: FlakyStore }) => Promise<void>): Promise<Scene> {
  const clock = { now: 1_000_000 };
  const store = new FlakyStore();
  const a = new BatchControl(store, { node: 'a', leaseMs: LEASE_MS, now: () => clock.now });
  const b = new BatchControl(store, { node: 'b', leaseMs: LEASE_MS, now: () => clock.now });
  assert.equal(await a.acquire(), true);
  const term = a.term;
  await after({ clock, a, b, store });
  return { store, a, term };
}

function recordingLogger(): EngineLogger & { readonly warnings: { fields: unknown; message: string }[] } {
  const warnings: { fields: unknown; message: string }[] = [];
  return { warnings, info() {}, error() {}, warn: (fields: unknown, message: string) => void warnings.push({ fields, message }) } as EngineLogger & { warnings: typeof warnings };
}

describe('fenced cycle', () => {
  for (const [state, { fenced, build }] of Object.entries(STATES)) {
    for (const [kind, failure] of Object.entries(FAILURES)) {
      test(`fenced cycle - ${kind}, lease ${state}: ${fenced ? 'batch_fenced, the failure as its cause' : 'the failure itself'}`, async () => {
        const { a, term } = await build();
        const error = failure();
        const logger = recordingLogger();
        const cycle: CycleTerm = { term, version: VERSION };
        const answer = await cycleFailure(error, cycle, a, logger);
        if (!fenced) {
          assert.equal(answer, error);
          return;
        }
        assert.ok(answer instanceof BatchFencedError, String(answer));
        assert.equal(answer.code, 'batch_fenced');
        assert.equal(answer.cause, error);
        assert.equal(answer.version, VERSION);
        assert.equal(answer.message, `Batch version ${VERSION} was not published: this node lost the lease of term ${term} while the cycle ran; the node that holds the lease now publishes instead.`);
        assert.equal((logger.warnings[0]?.fields as { err?: unknown }).err, error, 'the failure is kept in the log');
      });
    }
  }

  test('fenced cycle - a cycle that never held the lease keeps its own error, without reading the record', async () => {
    const { a, store } = await STATES['taken by another node']!.build();
    store.failingReads = Infinity;
    const refused = new BatchLeaseHeldError('b');
    assert.equal(await cycleFailure(refused, { term: null, version: 1 }, a, recordingLogger()), refused);
  });

  test('fenced cycle - an unreadable record is logged, and the failure kept', async () => {
    const { a, term } = await STATES['taken, unreadable']!.build();
    const logger = recordingLogger();
    const error = new TimeoutError();
    assert.equal(await cycleFailure(error, { term, version: 1 }, a, logger), error);
    assert.match(logger.warnings[0]?.message ?? '', /could not read the batch control record/);
  });

  test('fenced cycle - between steps, a taken lease stops the cycle; a held or unreadable one does not', async () => {
    for (const [state, { stopsBetweenSteps, build }] of Object.entries(STATES)) {
      const { a, term } = await build();
      const check = assertLeaseHeld({ term, version: VERSION }, a);
      if (stopsBetweenSteps) await assert.rejects(check, (error: unknown) => error instanceof BatchFencedError && error.cause === undefined, state);
      else await check;
    }
  });

  test('fenced cycle - a node renewing its lease while it publishes is not fenced by its own write', async () => {
    const { a } = await STATES['still held']!.build();
    const [renewed, published, again] = await Promise.all([a.acquire(), a.publish(1, [5]), a.acquire()]);
    assert.deepEqual([renewed, published, again], [true, { ok: true }, true]);
    assert.equal(a.term, 1);
  });

  test('fenced cycle - a version computed under an older term of the same node is refused, since its files are named by that term', async () => {
    const { a, term } = await STATES['taken, then taken back under a later term']!.build();
    assert.deepEqual([term, a.term], [1, 3]);
    assert.deepEqual(await a.publish(1, [5], 1), { ok: false, reason: 'not the lease holder' });
    assert.equal(a.term, 3, 'the node still holds its later term');
    assert.deepEqual(await a.publish(1, [5], 3), { ok: true });
  });
});
