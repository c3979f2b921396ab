/**
 * A node of a Tandem cluster: the engine core over the NATS backend. The
 * same HTTP API and the same exact answers as the embedded engine, over a
 * log, an archive and a batch lease that live in NATS JetStream and are
 * shared by every node (see docs/cluster.md).
 *
 * @module
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { compileConfig } from '../../definitions/index.ts';
import { DataDirLock } from '../../engine/data-dir-lock.ts';
import { EngineCore } from '../../engine/engine-core.ts';
import { BatchControl } from './batch-control.ts';
import { ClusterLog, connectNats } from './cluster-log.ts';
import type { ClusterNodeOptions } from './cluster-node-options.ts';
import { controlRecordShape, STORED_TYPES_SHAPE } from './control-records.ts';
import { MissingClusterConfigError } from './errors.ts';
import { KvRevisionedStore } from './kv-revisioned-store.ts';
import { heartbeat, NatsBackend } from './nats-backend.ts';
import { NodeOutbox } from './node-outbox.ts';
import { NodeRegistry } from './node-registry.ts';
import { ObjectBlobStore } from './object-blob-store.ts';
import { SharedSchema } from './shared-schema.ts';

export type { ClusterNodeOptions } from './cluster-node-options.ts';

/**
 * A node of a Tandem cluster on NATS JetStream. Serves the same API as the
 * embedded {@link Tandem}: `createServer({ tandem: node })` works alike.
 *
 * @example
 * ```ts
 * const node = await ClusterNode.open({ dataDir: './n1', config, servers: 'nats://127.0.0.1:4222' });
 * const { position } = await node.ingest('order', [{ id: 'o1', at: Date.now(), amount: 5 }]);
 * const { rows } = await node.query({ view: 'revenue', granularity: 'all', after: position });
 * await node.close();
 * ```
 */
export class ClusterNode extends EngineCore {
  /** This node's name, unique in the cluster. */
  readonly name: string;

  private constructor(backend: NatsBackend, options: ClusterNodeOptions) {
    super(backend.catalog, backend, options);
    this.name = backend.name;
  }

  /**
   * Joins the cluster: connects to NATS, creates the streams and buckets if
   * this is the first node, loads the published batch version, and rebuilds
   * the speed layer from the partition streams before resolving.
   *
   * @example
   * ```ts
   * const node = await ClusterNode.open({ dataDir: './n1', config, servers: ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222'] });
   * ```
   */
  static async open(options: ClusterNodeOptions): Promise<ClusterNode> {
    const catalog = compileConfig(options.config);
    const cluster = catalog.cluster;
    if (cluster === undefined) throw new MissingClusterConfigError();
    await mkdir(join(options.dataDir, 'cluster'), { recursive: true });
    const lock = await DataDirLock.acquire(options.dataDir);
    const opened: { close(): Promise<void> | void }[] = [{ close: () => lock.release() }];
    try {
      const node = options.node ?? `${hostname()}-${process.pid}`;
      const nc = await connectNats({ servers: options.servers, connectionName: `tandem ${node}` });
      opened.push({ close: () => nc.close() });
      const log = await ClusterLog.open({ connection: nc, clusterName: cluster.name, partitions: cluster.partitions, replicas: cluster.replicas, catalog });
      opened.push(log);
      const control = new BatchControl(
        await KvRevisionedStore.open(nc, { bucket: `${cluster.name}_control` }, controlRecordShape(cluster.partitions)), { node, leaseMs: options.leaseMs ?? 15_000 },
      );
      const schema = await SharedSchema.open(
        await KvRevisionedStore.open(nc, { bucket: `${cluster.name}_control` }, STORED_TYPES_SHAPE), catalog, `the stored-schema record of cluster ${cluster.name}`,
      );
      const blobs = await ObjectBlobStore.open(nc, { bucket: `${cluster.name}_master`, replicas: cluster.replicas });
      const registry = await NodeRegistry.open(nc, `${cluster.name}_nodes`, cluster.replicas);
      const outbox = await NodeOutbox.open(join(options.dataDir, 'cluster', 'outbox'), catalog, cluster.partitions);
      opened.push(outbox);
      const instanceId = randomBytes(8).toString('hex');
      await registry.claim(heartbeat({ node, instanceId, options }, new Array<number>(cluster.partitions).fill(0), null));
      opened.push({ close: () => registry.leave(node, instanceId) });
      const instance = await DuckDBInstance.create(':memory:');
      const duck = { instance, serving: await instance.connect(), batch: await instance.connect() };
      opened.push({ close: () => instance.closeSync() });
      const backend = new NatsBackend({ catalog, cluster, node, instanceId, options, lock, nc, log, control, blobs, registry, schema, outbox, duck });
      opened.push({ close: () => backend.halt() });
      const engine = new ClusterNode(backend, options);
      await engine.start();
      return engine;
    } catch (error) {
      for (const part of opened.reverse()) await Promise.resolve(part.close()).catch(() => undefined);
      throw error;
    }
  }
}
