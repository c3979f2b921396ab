/**
 * Three cluster nodes seen as one engine, for suites written against
 * `ServedEngine`: each ingest is split over the three nodes, a batch cycle
 * is asked of one that may not hold the lease (it runs on the holder), and
 * a query is asked of every node at the latest position ingested, which
 * must answer alike. What a user of any node sees is what one engine would
 * answer.
 */
import assert from 'node:assert/strict';
import type { ClusterNode } from '../../src/backends/nats/index.ts';
import type { BatchOptions, BatchSummary, EngineStatus, ErasureAudit, IngestResult, ServedEngine, ViewChangeAnswer } from '../../src/engine/index.ts';
import type { Query, QueryLimits, QueryResult } from '../../src/serving/index.ts';
import type { TandemConfig } from '../../src/definitions/index.ts';
import { eventually } from './eventually.ts';
import { bounded } from './hang-guard.ts';

export class NodeTrio implements ServedEngine {
  #position: number[];
  #batches = 0;

  constructor(readonly nodes: readonly [ClusterNode, ClusterNode, ClusterNode]) {
    this.#position = new Array<number>(nodes[0].catalog.cluster?.partitions ?? 1).fill(0);
  }

  get catalog(): ServedEngine['catalog'] {
    return this.nodes[0].catalog;
  }

  get dataDir(): string {
    return this.nodes[0].dataDir;
  }

  /** A third of the events through each node, one after the other; the answers summed, the positions joined. */
  async ingest(eventType: string, events: readonly unknown[]): Promise<IngestResult> {
    const third = Math.ceil(events.length / 3);
    const results: IngestResult[] = [];
    for (const [i, node] of this.nodes.entries()) results.push(await bounded(node.ingest(eventType, events.slice(i * third, (i + 1) * third)), `an ingest through node ${i}`, this.nodes));
    for (const r of results) this.#position = this.#position.map((seq, p) => Math.max(seq, r.position?.[p] ?? 0));
    return {
      accepted: results.reduce((n, r) => n + r.accepted, 0),
      stored: results.some((r) => r.stored === null) ? null : results.reduce((n, r) => n + r.stored!, 0),
      duplicates: results.reduce((n, r) => n + r.duplicates, 0),
      rejected: results.flatMap((r) => r.rejected),
      firstOffset: null,
      lastOffset: null,
      position: this.#position,
    };
  }

  /** Every node's answer at the latest position ingested; they must agree. */
  async query(query: Query, limits?: QueryLimits): Promise<QueryResult> {
    const answers = await bounded(Promise.all(this.nodes.map((node) => node.query({ ...query, after: this.#position }, limits))), 'a query of every node', this.nodes);
    for (const [i, answer] of answers.entries()) assert.deepEqual(answer.rows, answers[0]!.rows, `node ${i} answers as node 0 does: ${JSON.stringify(query)}`);
    return answers[0]!;
  }

  /** A cycle asked of the nodes in turn (most do not hold the lease); resolves once every node serves its version. */
  async runBatch(options?: BatchOptions): Promise<BatchSummary> {
    const summary = await bounded(this.nodes[this.#batches++ % 3]!.runBatch(options), 'a cycle', this.nodes);
    await eventually(() => this.nodes.every((n) => (n.status().batch?.version ?? 0) >= summary.version), `every node to serve batch version ${summary.version}`);
    return summary;
  }

  hasNewEvents(): boolean {
    return this.nodes.some((n) => n.hasNewEvents());
  }

  status(): EngineStatus {
    return this.nodes[0].status();
  }

  onPublished(listener: (summary: BatchSummary) => void): () => void {
    const stops = this.nodes.map((n) => n.onPublished(listener));
    return () => stops.forEach((stop) => stop());
  }

  /** Views cannot change while a cluster serves yet: each node refuses alike. */
  applyView(definition: unknown): Promise<ViewChangeAnswer> {
    return this.nodes[0].applyView(definition);
  }

  dropView(name: string): Promise<ViewChangeAnswer> {
    return this.nodes[0].dropView(name);
  }

  cancelViewChange(name: string): Promise<ViewChangeAnswer> {
    return this.nodes[0].cancelViewChange(name);
  }

  reloadConfig(config: TandemConfig): Promise<ViewChangeAnswer[]> {
    return this.nodes[0].reloadConfig(config);
  }

  erase(request: unknown, options?: { readonly by?: string }): Promise<ErasureAudit> {
    return this.nodes[0].erase(request, options);
  }

  erasures(): Promise<ErasureAudit[]> {
    return this.nodes[0].erasures();
  }

  async drain(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.drain()));
  }

  async close(): Promise<void> {
    await bounded(Promise.all(this.nodes.map((n) => n.close())), 'closing the nodes', this.nodes);
  }
}
