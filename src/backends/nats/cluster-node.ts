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
import { EngineCore, SILENT } from '../../engine/engine-core.ts';
import type { BatchOptions, BatchSummary } from '../../engine/engine-types.ts';
import { BatchRequests } from './batch-requests.ts';
import { BatchControl } from './batch-control.ts';
import { ClusterLog, connectNats } from './cluster-log.ts';
import { DEFAULT_LEASE_MS, type ClusterNodeOptions } from './cluster-node-options.ts';
import { controlRecordShape, STORED_TYPES_SHAPE } from './control-records.ts';
import { agreeOnRouting, ROUTING_RECORD_SHAPE } from './partition-routing.ts';
import { BatchHolderUnreachableError, BatchLeaseHeldError, MissingClusterConfigError } from './errors.ts';
import { KvRevisionedStore } from './kv-revisioned-store.ts';
import { VIEWS_RECORD_SHAPE } from './cluster-views-record.ts';
import { ERASURE_VALUES_SHAPE, ERASURES_RECORD_SHAPE } from './cluster-erasures-record.ts';
import { PARTITION_LEASE_SHAPE, PartitionLeases } from './partition-leases.ts';
import { partitionLeaseBucket } from './partition-lease-record.ts';
import { PartitionOwnership } from './partition-ownership.ts';
import { heartbeat, NatsBackend, PARTITION_LEASE_MS } from './nats-backend.ts';
import { NodeOutbox } from './node-outbox.ts';
import { NodeRegistry } from './node-registry.ts';
import { historyKeyReader } from './history-objects.ts';
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
  readonly #backend: NatsBackend;
  readonly #leaseMs: number;
  /** Asks of other nodes to run a cycle, and this node's answers to theirs: set once the node has started. */
  #requests: BatchRequests | undefined;

  private constructor(backend: NatsBackend, options: ClusterNodeOptions) {
    super(backend.catalog, backend, options);
    this.name = backend.name;
    this.#backend = backend;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /**
   * Runs a batch cycle and resolves with its summary once it is published,
   * on whichever node can: here when this node holds the batch lease or
   * nobody does, otherwise on the holder, asked over NATS (a holder that
   * names another one is followed once; a holder that no longer answers is
   * waited out, and the cycle runs here once its lease expired). The
   * answer comes once this node serves the new version, so a query sent to
   * it next reads it.
   *
   * @example
   * ```ts
   * const { version } = await node.runBatch();   // from any node of the cluster
   * ```
   */
  override async runBatch(options: BatchOptions = {}): Promise<BatchSummary> {
    let holder: string | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (holder === undefined || holder === this.name) return await super.runBatch(options);
        const summary = await this.#requests!.ask(holder, options);
        await this.#backend.adopted(summary.version, this.#leaseMs);
        return summary;
      } catch (error) {
        holder = await this.#nextHolder(error, holder);
      }
    }
    return super.runBatch(options);
  }

  /**
   * Where a cycle that failed with `error` is to be tried next: the node
   * holding the lease, or this one (undefined) once a holder that does not
   * answer has let its lease expire; anything else is rethrown.
   */
  async #nextHolder(error: unknown, asked: string | undefined): Promise<string | undefined> {
    if (this.#requests === undefined) throw error;
    if (error instanceof BatchLeaseHeldError && error.holder !== asked) return error.holder;
    if (error instanceof BatchHolderUnreachableError) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, this.#backend.leaseExpiresAt() - Date.now()) + 100));
      return undefined;
    }
    throw error;
  }

  /** Stops answering other nodes' requests (after the one running), then closes the node. */
  override async close(): Promise<void> {
    await this.#requests?.close();
    await super.close();
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
        await KvRevisionedStore.open(nc, { bucket: `${cluster.name}_control` }, controlRecordShape(cluster.partitions)), { node, leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS },
      );
      const routing = await KvRevisionedStore.open(nc, { bucket: `${cluster.name}_control` }, ROUTING_RECORD_SHAPE);
      await agreeOnRouting(routing, cluster, async () => (await log.ends()).some((seq) => seq > 0));
      const schema = await SharedSchema.open(
        await KvRevisionedStore.open(nc, { bucket: `${cluster.name}_control` }, STORED_TYPES_SHAPE), catalog, `the stored-schema record of cluster ${cluster.name}`,
      );
      const blobs = await ObjectBlobStore.open(nc, { bucket: `${cluster.name}_master`, replicas: cluster.replicas });
      log.readHistoryKeysWith(historyKeyReader(blobs, join(options.dataDir, 'cluster', 'history-keys')));
      const registry = await NodeRegistry.open(nc, `${cluster.name}_nodes`, cluster.replicas);
      const outbox = await NodeOutbox.open(join(options.dataDir, 'cluster', 'outbox'), catalog, cluster.partitions);
      opened.push(outbox);
      const instanceId = randomBytes(8).toString('hex');
      await registry.claim(heartbeat({ node, instanceId, options }, new Array<number>(cluster.partitions).fill(0), null));
      opened.push({ close: () => registry.leave(node, instanceId) });
      const instance = await DuckDBInstance.create(':memory:');
      const duck = { instance, serving: await instance.connect(), batch: await instance.connect() };
      opened.push({ close: () => instance.closeSync() });
      const leases = new PartitionLeases(await KvRevisionedStore.open(nc, { bucket: partitionLeaseBucket(cluster.name) }, PARTITION_LEASE_SHAPE), {
        node, instance: instanceId, leaseMs: options.partitionLeaseMs ?? PARTITION_LEASE_MS,
      });
      const ownership = new PartitionOwnership(leases, cluster.partitions, options.logger ?? SILENT, cluster.standbys);
      const views = await KvRevisionedStore.open(nc, { bucket: `${cluster.name}_control` }, VIEWS_RECORD_SHAPE);
      const erasures = await KvRevisionedStore.open(nc, { bucket: `${cluster.name}_control` }, ERASURES_RECORD_SHAPE);
      const erasureValues = await KvRevisionedStore.open(nc, { bucket: `${cluster.name}_control` }, ERASURE_VALUES_SHAPE);
      const backend = new NatsBackend({ catalog, cluster, node, instanceId, options, lock, nc, log, control, blobs, registry, schema, outbox, duck, ownership, views, erasures, erasureValues });
      opened.push({ close: () => backend.halt() });
      const engine = new ClusterNode(backend, options);
      await engine.start();
      // Another node's request runs here and never asks further: two nodes that each thought the other held the lease would ask in a circle.
      const runHere = (o: BatchOptions) => EngineCore.prototype.runBatch.call(engine, o);
      engine.#requests = await BatchRequests.serve(nc, { cluster: cluster.name, node, run: runHere, logger: options.logger });
      return engine;
    } catch (error) {
      for (const part of opened.reverse()) await Promise.resolve(part.close()).catch(() => undefined);
      throw error;
    }
  }
}
