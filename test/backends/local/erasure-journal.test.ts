/**
 * The erasure journal under erasures asked together: every one is recorded
 * and reopened, none lost to another's write of the same record.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErasureJournal } from '../../../src/backends/local/erasure-journal.ts';
import { withTempDir } from '../../support/temp-dir.ts';

test('erasure journal: adds, finds and dones asked together each land, and the record reopens with what is still pending', async () => {
  await withTempDir(async (dir) => {
    const journal = await ErasureJournal.open(dir);
    const entry = (i: number) => ({ id: `e${i}`, by: 'test', requestedAt: new Date(0).toISOString(), request: { eventType: 'usage', where: { customer: `c-${i}` } } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => journal.add(entry(i))));
    assert.deepEqual(journal.pending.map((e) => e.id).sort(), Array.from({ length: 20 }, (_, i) => `e${i}`).sort());
    const audit = (i: number) => ({ ...entry(i), eventType: 'usage', fields: ['customer'], events: 1, files: 1, completedAt: new Date(1).toISOString() });
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => journal.done([audit(i)])),
      journal.found('e15', { events: 3, files: 1, keys: [] }),
      journal.add(entry(20)),
    ]);
    const reopened = await ErasureJournal.open(dir);
    assert.deepEqual(reopened.pending.map((e) => e.id).sort(), Array.from({ length: 11 }, (_, i) => `e${i + 10}`).sort());
    assert.equal(reopened.pending.find((e) => e.id === 'e15')?.found?.events, 3);
    assert.deepEqual((await reopened.audit()).map((a) => a.id).sort(), Array.from({ length: 10 }, (_, i) => `e${i}`).sort());
  });
});
