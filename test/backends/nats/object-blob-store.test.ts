/**
 * The JetStream Object Store's BlobStore (R=3 on a real 3-server cluster)
 * passes the conformance suite every BlobStore must, byte for byte as the
 * local directory does.
 */
import { describe } from 'node:test';
import { ObjectBlobStore } from '../../../src/backends/nats/internal.ts';
import { blobStoreConformance } from '../../support/blob-store-conformance.ts';
import { clusterForSuite, natsSkipReason } from '../../support/nats-cluster.ts';

const skip = natsSkipReason();

describe('object store blob store', { skip, timeout: 240_000 }, () => {
  const suite = clusterForSuite();
  let buckets = 0;
  blobStoreConformance('object store', async () => {
    const nc = await suite.connect({ servers: suite.cluster.urls });
    return ObjectBlobStore.open(nc, { bucket: `blobs_${buckets++}`, replicas: 3 });
  });
});
