/**
 * Which local version folders a node deletes once a newer version serves:
 * every older version's, never the served one's, and not a folder of the
 * same version under an older term, which may be the node's own fenced cycle
 * still writing (its files vanishing made the cycle answer a 500, not
 * `batch_fenced`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldersBelow, versionFolder } from '../../../src/backends/nats/shared-version-store.ts';

const folder = (version: number, term: number) => versionFolder(version, term).split('/')[1]!;

test('shared version store - older versions are pruned; the served one and a fenced cycle\'s folder of the same version stay', () => {
  const names = [folder(1, 1), folder(2, 1), folder(3, 1), folder(3, 2), folder(4, 2)];
  assert.deepEqual(foldersBelow(names, { version: 3, term: 2 }), [folder(1, 1), folder(2, 1)]);
  assert.deepEqual(foldersBelow(names, { version: 4, term: 2 }), [folder(1, 1), folder(2, 1), folder(3, 1), folder(3, 2)]);
  assert.deepEqual(foldersBelow(names, { version: 10, term: 3 }), names, 'version numbers compare as zero-padded names');
});
