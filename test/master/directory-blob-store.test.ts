/** The local directory's BlobStore passes the conformance suite every BlobStore must. */
import { after } from 'node:test';
import { DirectoryBlobStore } from '../../src/master/index.ts';
import { blobStoreConformance } from '../support/blob-store-conformance.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const removals: (() => Promise<void>)[] = [];
after(() => Promise.all(removals.map((remove) => remove())));
blobStoreConformance('directory blob store', async () => {
  const temp = await makeTempDir('tandem-dir-blobs-');
  removals.push(temp.remove);
  return new DirectoryBlobStore(temp.dir);
});
