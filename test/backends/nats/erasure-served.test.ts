/**
 * An erase resolves once no answer counts the erased events. In a cluster the
 * batch node records the erasure done once it serves the version that
 * applied it; the other nodes adopt that version at their next poll, and
 * until then answer from views that count the events. So the erase waits for
 * every live node to serve it, and names the nodes that do not within its
 * wait. It also waits out a restarted batch node's old lease term, which
 * refuses cycles for up to a lease time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterErasures } from '../../../src/backends/nats/cluster-erasure.ts';
import { EMPTY_ERASURES_RECORD, ERASURES_KEY, type ClusterErasuresRecord, type ErasureValues } from '../../../src/backends/nats/cluster-erasures-record.ts';
import { ErasureNotServedError, ErasurePendingError } from '../../../src/backends/nats/errors.ts';
import { MemoryRevisionedStore } from '../../../src/backends/nats/revisioned-store.ts';
import { SILENT } from '../../../src/engine/index.ts';

const audit = { id: 'e1', by: 'support', requestedAt: '2026-12-04T00:00:00.000Z', eventType: 'order', fields: ['customer'], events: 2, files: 1 };

/** The values store: what `done` erases is simply deleted here (the servers' secure erase is the KV store's concern). */
class MemoryValues extends MemoryRevisionedStore<ErasureValues> {
  readonly erased: string[] = [];
  async erase(key: string): Promise<void> {
    this.erased.push(key);
  }
}

async function erasures(): Promise<{ erasures: ClusterErasures; record: MemoryRevisionedStore<ClusterErasuresRecord> }> {
  const record = new MemoryRevisionedStore<ClusterErasuresRecord>();
  await record.create(ERASURES_KEY, { ...EMPTY_ERASURES_RECORD, pending: [{ id: 'e1', by: 'support', requestedAt: audit.requestedAt, eventType: 'order' }] });
  return { erasures: new ClusterErasures(record, new MemoryValues(), SILENT), record };
}

test('erasure served - done in version 4: the erase waits until no live node serves a version below it, and the audit read back has no version', async () => {
  const { erasures: e } = await erasures();
  await e.done([audit], 4);
  const asked: number[] = [];
  let polls = 0;
  await e.served('e1', (version) => {
    asked.push(version);
    return ++polls < 3 ? ['n2'] : [];
  });
  assert.deepEqual(asked, [4, 4, 4]);
  assert.deepEqual(await e.audit(), [{ ...audit, completedAt: (await e.audit())[0]!.completedAt }]);
  assert.equal('version' in (await e.audit())[0]!, false);
});

test('erasure served - a node that never serves the version is named once the wait is over', async () => {
  const { erasures: e } = await erasures();
  await e.done([audit], 7);
  await assert.rejects(e.served('e1', () => ['n3'], 300), (error: unknown) => {
    assert.ok(error instanceof ErasureNotServedError);
    assert.deepEqual([error.version, error.nodes], [7, ['n3']]);
    assert.match(error.message, /^Erasure e1 is published in batch version 7, but node n3 still serves an older version/);
    return true;
  });
});

test('erasure served - an erasure done before versions were recorded waits for nothing', async () => {
  const { erasures: e, record } = await erasures();
  const entry = await record.get(ERASURES_KEY);
  await record.update(ERASURES_KEY, { pending: [], audit: [{ ...audit, completedAt: audit.requestedAt }] }, entry!.revision);
  await e.served('e1', () => assert.fail('no version to wait for'));
});

test('erasure served - cycles refused for longer than six tries (a restarted batch node\'s old lease) are asked again while the patience lasts', async (t) => {
  const { erasures: e } = await erasures();
  // The waits between tries do not hold a process open (a node's own tasks do): this test's interval stands in for them.
  const alive = setInterval(() => undefined, 1_000);
  t.after(() => clearInterval(alive));
  let asked = 0;
  const started = Date.now();
  await e.complete('e1', async () => {
    if (++asked < 9) throw new Error('batch lease expiring');
    await e.done([audit], 2);
  }, 10_000);
  assert.equal(asked, 9);
  assert.ok(Date.now() - started < 10_000);
  let refused = 0;
  const { erasures: other } = await erasures();
  await assert.rejects(other.complete('e1', async () => {
    refused++;
    throw new Error('batch lease expiring');
  }), /batch lease expiring/);
  assert.equal(refused, 6, 'without patience, six tries');
});

test('erasure served - cycles that all run without applying the erasure end in ErasurePendingError, naming it', async () => {
  const { erasures: e } = await erasures();
  let cycles = 0;
  await assert.rejects(e.complete('e1', async () => {
    cycles++;
  }), (error: unknown) => {
    assert.ok(error instanceof ErasurePendingError);
    assert.equal(error.code, 'erasure_pending');
    assert.equal(error.cycles, cycles);
    assert.match(error.message, /^Erasure e1 is still pending after \d+ batch cycles; the batch node applies it with a later cycle\.$/);
    return true;
  });
});
