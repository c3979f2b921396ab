/**
 * The JetStream Object Store's BlobStore (R=3 on a real 3-server cluster)
 * passes the conformance suite every BlobStore must, byte for byte as the
 * local directory does.
 */
import { after, before, describe } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ObjectBlobStore } from '../../src/cluster/index.ts';
import { blobStoreConformance } from '../support/blob-store-conformance.ts';
import { NatsCluster, natsSkipReason } from '../support/nats-cluster.ts';

const skip = natsSkipReason();

describe('object store blob store', { skip, timeout: 120_000 }, () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let buckets = 0;
  before(async () => {
    cluster = await NatsCluster.start();
    nc = await connect({ servers: cluster.urls });
  });
  after(async () => {
    await nc?.close().catch(() => undefined);
    await cluster?.stop();
  });
  blobStoreConformance('object store', () => ObjectBlobStore.open(nc, { bucket: `blobs_${buckets++}`, replicas: 3 }));
});
