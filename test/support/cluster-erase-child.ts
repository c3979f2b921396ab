/**
 * A cluster node in a process of its own that takes the batch lease and
 * erases the fixture's customer, for a test to kill with SIGKILL in the
 * middle: `node --import tsx cluster-erase-child.ts DATA_DIR SERVERS NAME
 * CONFIG_JSON`. It says `erasing` on stdout just before it asks, and
 * `erased` once done.
 */
import { ClusterNode } from '../../src/backends/nats/index.ts';
import type { TandemConfig } from '../../src/index.ts';
import { ERASED_CUSTOMER } from './erasure-fixture.ts';

const [dataDir, servers, name, config] = process.argv.slice(2) as [string, string, string, string];
const node = await ClusterNode.open({ dataDir, config: JSON.parse(config) as TandemConfig, servers: servers.split(','), node: name, leaseMs: 3_000 });
// Its own cycle first: this node holds the lease, so the erasure's cycle runs here.
await node.runBatch();
process.stdout.write('erasing\n');
await node.erase({ eventType: 'usage', where: { customer: ERASED_CUSTOMER } }, { by: 'kill test' });
process.stdout.write('erased\n');
await node.close();
