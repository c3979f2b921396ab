/**
 * Prometheus metrics for one server. A registry per server (not prom-client's
 * global one) so tests and embedders can run several servers in one process.
 * Engine state is read at scrape time, so gauges never go stale.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServedEngine } from '../engine/index.ts';
import type { DiskUsageProbe } from './disk-usage.ts';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly accepted = new Counter({ name: 'tandem_events_accepted_total', help: 'Valid events accepted by ingest, duplicates included.', labelNames: ['event_type'], registers: [this.registry] });
  readonly duplicates = new Counter({ name: 'tandem_events_duplicate_total', help: 'Accepted events already in the log under the same idempotency key.', labelNames: ['event_type'], registers: [this.registry] });
  readonly rejected = new Counter({ name: 'tandem_events_rejected_total', help: 'Events rejected by validation or parsing.', labelNames: ['event_type'], registers: [this.registry] });
  readonly ingestSeconds = new Histogram({ name: 'tandem_ingest_duration_seconds', help: 'Time from request to durable, visible events.', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry] });
  readonly querySeconds = new Histogram({ name: 'tandem_query_duration_seconds', help: 'Query time inside the server.', labelNames: ['view'], buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25], registers: [this.registry] });
  readonly denied = new Counter({
    name: 'tandem_http_denied_total', labelNames: ['reason'], registers: [this.registry],
    help: 'Requests refused for a missing or unknown API key (unauthorized), a missing scope (forbidden), or, on a keyless loopback server, a Host (host) or a page (origin) not of this machine.',
  });
  readonly requestTimeouts = new Counter({ name: 'tandem_http_request_timeouts_total', help: 'Connections closed because a request did not arrive in time (408).', registers: [this.registry] });
  readonly connectionsRefused = new Counter({ name: 'tandem_http_connections_refused_total', help: 'Connections closed as soon as accepted, at the most open connections.', registers: [this.registry] });
  readonly batchSeconds = new Histogram({ name: 'tandem_batch_duration_seconds', help: 'Batch cycle time, from seal to publication.', buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers: [this.registry] });

  constructor(tandem: ServedEngine, disk: DiskUsageProbe) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tandem_' });
    const gauge = (name: string, help: string, read: () => number | null) => new Gauge({
      name, help, registers: [this.registry],
      collect() {
        const value = read();
        if (value !== null) this.set(value);
      },
    });
    gauge('tandem_log_end_offset', 'One past the last durable offset.', () => tandem.status().logEnd);
    gauge('tandem_log_sealed_segments', 'Sealed log segments not yet absorbed by a batch.', () => tandem.status().sealedSegments);
    gauge('tandem_batch_version', 'Published batch version.', () => tandem.status().batch?.version ?? null);
    gauge('tandem_batch_cutoff_offset', 'Offsets below it are served by the batch view.', () => tandem.status().batch?.cutoff ?? 0);
    gauge('tandem_batch_age_seconds', 'Age of the published batch view.', () => {
      const batch = tandem.status().batch;
      return batch === null ? null : batch.ageMs / 1000;
    });
    gauge('tandem_batch_bytes', 'Estimated heap bytes of the batch tables this process holds (a cluster node\'s own partitions\'), dimension values and sketches included.', () => tandem.status().batch?.bytes ?? 0);
    gauge('tandem_batch_consecutive_failures', 'Batch runs failed in a row since the last that published; above 0 the published view is ageing.', () => tandem.status().batchFailing?.consecutive ?? 0);
    gauge('tandem_speed_events', 'Events held by the speed layer.', () => tandem.status().speed.events);
    gauge('tandem_speed_keys', 'Keys (series and bucket) held by the speed layer.', () => tandem.status().speed.keys);
    gauge('tandem_speed_bytes', 'Estimated heap bytes of the speed layer\'s tables, dimension values included.', () => tandem.status().speed.bytes);
    gauge('tandem_idempotency_keys', 'Idempotency keys held in memory.', () => tandem.status().idempotencyKeys);
    this.#clusterGauges(tandem);
    // Read at scrape time like the rest; the probe caches for a few seconds, so scrapes stay cheap.
    new Gauge({
      name: 'tandem_disk_free_bytes', help: 'Space left on the data directory\'s filesystem (ingest answers 507 when it runs out).', registers: [this.registry],
      async collect() {
        const free = (await disk.read()).freeBytes;
        if (free !== null) this.set(free);
      },
    });
  }

  /** Cluster mode: each partition's end and applied position, the lag of every node, who owns what, and who runs the batch layer. */
  #clusterGauges(tandem: ServedEngine): void {
    const perPartition = (name: string, help: string, read: (p: { end: number; applied: number; batchCutoff: number }) => number) => new Gauge({
      name, help, labelNames: ['partition'], registers: [this.registry],
      collect() {
        this.reset();
        for (const p of tandem.status().cluster?.partitions ?? []) this.set({ partition: String(p.partition) }, read(p));
      },
    });
    perPartition('tandem_cluster_partition_end_sequence', 'Cluster mode: the last sequence of each partition\'s stream.', (p) => p.end);
    perPartition('tandem_cluster_partition_applied_sequence', 'Cluster mode: the last sequence of each partition this node has applied.', (p) => p.applied);
    perPartition('tandem_cluster_partition_batch_cutoff', 'Cluster mode: sequences below it are in the published batch view.', (p) => p.batchCutoff);
    new Gauge({
      name: 'tandem_cluster_node_lag_messages', help: 'Cluster mode: messages each node has yet to apply, from its last heartbeat.', labelNames: ['node'], registers: [this.registry],
      collect() {
        this.reset();
        for (const n of tandem.status().cluster?.nodes ?? []) this.set({ node: n.node }, n.lagMessages);
      },
    });
    new Gauge({
      name: 'tandem_cluster_archive_damaged_objects',
      help: 'Cluster mode: objects of the served batch version missing from the object store, plus records in NATS that are not valid, as this node last found them (0 while whole).',
      registers: [this.registry],
      collect() {
        const cluster = tandem.status().cluster;
        if (cluster !== undefined) this.set((cluster.archiveDamaged?.missing.length ?? 0) + (cluster.archiveDamaged?.invalid.length ?? 0));
      },
    });
    new Gauge({
      name: 'tandem_cluster_partitions_owned', help: 'Cluster mode: partitions this node owns (holds the lease of).', registers: [this.registry],
      collect() {
        const cluster = tandem.status().cluster;
        if (cluster !== undefined) this.set(cluster.partitions.filter((p) => p.owner === cluster.node).length);
      },
    });
    new Gauge({
      name: 'tandem_cluster_speed_partitions_held', help: 'Cluster mode: partitions whose speed layer this node holds (its own, those it takes over or stands by for); queries gather the others from their owners.', registers: [this.registry],
      collect() {
        const cluster = tandem.status().cluster;
        if (cluster !== undefined) this.set(cluster.partitions.filter((p) => p.speedHere === true).length);
      },
    });
    new Gauge({
      name: 'tandem_cluster_partition_owner_moves', help: 'Cluster mode: changes of a partition\'s owner this node has seen since it started.', registers: [this.registry],
      collect() {
        const cluster = tandem.status().cluster;
        if (cluster !== undefined) this.set(cluster.ownerMoves ?? 0);
      },
    });
    new Gauge({
      name: 'tandem_cluster_batch_lease_held', help: 'Cluster mode: 1 on the node holding the batch lease, 0 elsewhere.', registers: [this.registry],
      collect() {
        const cluster = tandem.status().cluster;
        if (cluster !== undefined) this.set(cluster.batchNode === cluster.node ? 1 : 0);
      },
    });
  }
}
