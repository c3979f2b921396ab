/**
 * What the batch node may delete from the object store: of old versions,
 * every object no kept version names (a view file a kept version inherited
 * stays in its old folder); of the archive, every object no kept version,
 * served chain or unpublished work holds, once it is older than a lease,
 * and nothing at all while a kept version has no manifest yet.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { sweepArchive } from '../../../src/backends/nats/archive-sweep.ts';
import type { ArchivedRange, SharedManifest } from '../../../src/backends/nats/shared-manifest.ts';
import { versionFolder } from '../../../src/backends/nats/version-folder.ts';
import { pruneVersions } from '../../../src/backends/nats/version-pruning.ts';
import { DirectoryBlobStore, type BlobInfo } from '../../../src/master/index.ts';
import { withChecksum } from '../../../src/util/checksums.ts';
import { withTempDir } from '../../support/temp-dir.ts';

const NOW = Date.UTC(2026, 11, 2);
const LEASE = 15_000;

/** A directory store whose listing says when each object was stored: an hour ago unless told otherwise. */
class Store extends DirectoryBlobStore {
  readonly name = 'object store bucket sweep_master';
  readonly storedAt = new Map<string, number>();
  override async list(prefix = ''): Promise<BlobInfo[]> {
    return (await super.list(prefix)).map((b) => ({ ...b, storedAt: this.storedAt.get(b.name) ?? NOW - 3_600_000 }));
  }
}

async function putText(store: Store, dir: string, name: string, text: string): Promise<void> {
  const file = join(dir, 'src', name);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, text);
  await store.put(name, file);
}

const sha = 'b'.repeat(64);
function range(name: string, from: number, to: number): ArchivedRange {
  return { partition: 0, from, to, files: { order: { blob: `master/order/${name}.parquet`, rows: 1, sha256: sha } }, filter: { blob: `master/filters/${name}.json`, sha256: sha } };
}

/** Publishes version `v` naming `ranges`, with a base view file of its own or inherited from `base`'s folder. */
async function publish(store: Store, dir: string, v: number, ranges: readonly ArchivedRange[], base?: number): Promise<void> {
  const folder = versionFolder(v, 1);
  const manifest: SharedManifest = {
    version: v, cutoff: 1, cutoffs: [ranges.at(-1)!.to], createdAt: new Date(NOW).toISOString(), durationMs: 1, ranges,
    views: { sales: { hash: 'h', file: 'sales.parquet', sha256: sha, rows: 1, inputEvents: 1, durationMs: 1 } },
    ...(base === undefined ? {} : { inherited: { 'sales.parquet': versionFolder(base, 1) } }),
  };
  if (base === undefined) await putText(store, dir, `${folder}/sales.parquet`, `base of ${v}`);
  await putText(store, dir, `${folder}/manifest.json`, JSON.stringify(withChecksum(manifest)));
  for (const r of ranges) for (const blob of [r.files.order!.blob, r.filter.blob]) if (await store.info(blob) === undefined) await putText(store, dir, blob, blob);
}

const names = async (store: Store, prefix: string) => (await store.list(prefix)).map((b) => b.name);

test('archive sweep - folded ranges go once no kept version names them, orphans once older than a lease; inherited view files stay', async () => {
  await withTempDir(async (dir) => {
    const store = new Store(join(dir, 'store'));
    const keep = { keep: 2, partitions: 1, versionsDir: join(dir, 'versions') };
    const [a, b, c, d, e] = [range('a', 1, 10), range('b', 10, 20), range('c', 20, 30), range('d', 30, 40), range('e', 40, 50)];
    const ab = range('ab', 1, 20);
    await publish(store, dir, 1, [a, b]);
    await publish(store, dir, 2, [a, b, c], 1);
    await publish(store, dir, 3, [ab, c, d], 1);
    await putText(store, dir, 'master/order/orphan.parquet', 'a fenced node\'s range');
    await putText(store, dir, 'master/order/young.parquet', 'a range uploaded a moment ago');
    store.storedAt.set('master/order/young.parquet', NOW - 1_000);
    await putText(store, dir, 'master/order/pending.parquet', 'archived ahead, not published yet');
    const sweep = (published: number, holding: readonly string[] = []) => sweepArchive(store, { ...keep, published: { version: published, term: 1 }, holding: new Set(['master/order/pending.parquet', ...holding]), minAgeMs: LEASE, now: NOW });

    assert.deepEqual(await pruneVersions(store, { ...keep, published: { version: 3, term: 1 } }), [`${versionFolder(1, 1)}/manifest.json`], 'version 1\'s base view file stays: versions 2 and 3 inherited it');
    assert.deepEqual(await sweep(3), ['master/order/orphan.parquet'], 'a and b are named by version 2, which is kept');

    await publish(store, dir, 4, [ab, c, d, e], 1);
    await pruneVersions(store, { ...keep, published: { version: 4, term: 1 } });
    assert.deepEqual(await sweep(4), ['master/filters/a.json', 'master/filters/b.json', 'master/order/a.parquet', 'master/order/b.parquet']);
    assert.deepEqual((await names(store, 'master/order/')).sort(), ['ab', 'c', 'd', 'e', 'pending', 'young'].map((n) => `master/order/${n}.parquet`));
    assert.ok((await names(store, 'batch/')).includes(`${versionFolder(1, 1)}/sales.parquet`), 'still inherited by the kept versions');

    store.storedAt.set('master/order/young.parquet', NOW - LEASE - 1);
    assert.deepEqual(await sweep(4, ['master/order/young.parquet']), [], 'what the served chain holds stays, however old');
  });
});

test('archive sweep - while a kept version has no manifest yet, nothing of the archive is deleted', async () => {
  await withTempDir(async (dir) => {
    const store = new Store(join(dir, 'store'));
    await publish(store, dir, 1, [range('a', 1, 10)]);
    await putText(store, dir, `${versionFolder(2, 1)}/sales.parquet`, 'a cycle still uploading');
    await putText(store, dir, 'master/order/orphan.parquet', 'unnamed');
    const swept = await sweepArchive(store, { keep: 3, partitions: 1, versionsDir: join(dir, 'versions'), published: { version: 1, term: 1 }, holding: new Set(), minAgeMs: LEASE, now: NOW });
    assert.deepEqual(swept, []);
  });
});
