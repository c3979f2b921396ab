/**
 * How a node's ingest goes through its outbox (`node-outbox.ts`), and how
 * what NATS lost comes back from it:
 *
 * - **Append.** Each partition's share of an append is made durable in the
 *   outbox (fsynced), which gives its events their origins, and only then
 *   published; the ingest is answered once NATS acknowledged it. An append
 *   answered with an error leaves its events abandoned.
 * - **Reconcile.** Every second the node compares, per partition, its
 *   outbox with what the partition's reader has seen (this node's consumer,
 *   or the partition's owner, asked): an event whose origin the
 *   partition has not seen although its reader has read past where it was
 *   acknowledged (or past the stream's end, or, after a restart, through
 *   everything the stream held) was lost by NATS, and is published again
 *   under its origin. Consumers drop every copy but the first by origin, so
 *   publishing again is always safe.
 * - **Release.** Once a published version covers a partition up to a seal
 *   and the object store holds its whole chain (read back by the batch node
 *   as it archived), the events whose origins the partition had seen by that
 *   seal are in the archive, and the outbox lets them go.
 *
 * @module
 */
import type { EngineLogger } from '../../engine/index.ts';
import type { ClusterAppendOutcome, ClusterLog, OriginSource } from './cluster-log.ts';
import type { EventColumns } from '../../definitions/index.ts';
import type { NodeOutbox, OutboxEntry } from './node-outbox.ts';
import { OriginSet, type OriginRun } from './origin-set.ts';

/** What a partition has seen of this node's outbox, as its reader knows it. */
export interface SeenOrigins {
  readonly seen: OriginSet;
  /** How far the reader had applied the partition then. */
  readonly applied: number;
}

/** What the reconciler needs to know of the partitions' readers: this node's consumer, or each partition's owner. */
export interface ConsumerView {
  /** What partition `p` has seen of this outbox, or null when no reader can say now (it is being read again, its owner did not answer). */
  origins(p: number): SeenOrigins | null;
  /** The stream's last sequence as last looked at, and when (epoch ms). */
  end(p: number): { readonly seq: number; readonly at: number };
  /** The stream's last sequence when this node started, once known: a reader past it has read everything published before. */
  startEnd(p: number): number | undefined;
}

export class OutboxPublisher {
  constructor(private readonly outbox: NodeOutbox, private readonly log: ClusterLog, private readonly logger: EngineLogger) {}

  get outboxId(): string {
    return this.outbox.id;
  }

  /** Appends `events` through the outbox; resolves once NATS acknowledged every message, as `ClusterLog.append` does. */
  async append(eventType: string, events: EventColumns): Promise<ClusterAppendOutcome> {
    const assigned: { partition: number; from: number }[] = [];
    const source: OriginSource = {
      id: this.outbox.id,
      record: async (partition, type, share) => {
        const from = await this.outbox.record(partition, type, share);
        assigned.push({ partition, from });
        return from;
      },
    };
    try {
      const outcome = await this.log.append(eventType, events, source);
      for (const { partition, from } of assigned) await this.outbox.settle(partition, from, { ackSeq: outcome.position[partition]! });
      return outcome;
    } catch (error) {
      for (const { partition, from } of assigned) await this.outbox.settle(partition, from, 'abandoned').catch(() => undefined);
      throw error;
    }
  }

  /** Publishes again, in every partition, what NATS lost; resolves with the events published again. */
  async reconcile(view: ConsumerView): Promise<number> {
    let published = 0;
    for (let p = 0; p < this.log.partitions; p++) {
      const lost = this.#lost(p, view);
      if (lost.runs.length > 0) published += await this.#republish(p, lost);
    }
    return published;
  }

  /** The origin runs of partition `p` its reader should have seen by now and has not, and the entries they belong to. */
  #lost(p: number, view: ConsumerView): { runs: OriginRun[]; entries: OutboxEntry[] } {
    const origins = view.origins(p);
    if (origins === null) return { runs: [], entries: [] };
    const { seen, applied } = origins;
    const startEnd = view.startEnd(p);
    const abandoned = this.outbox.abandoned(p);
    const entries = this.outbox.entries(p);
    const runs: OriginRun[] = [];
    const touched: OutboxEntry[] = [];
    for (let i = firstAbove(entries, seen.prefix); i < entries.length; i++) {
      const e = entries[i]!;
      if (e.inFlight) continue;
      // Acknowledged at a sequence the reader has not reached: not lost, not yet seen; unless the stream was found
      // to end below it since (NATS lost its tail), and the reader has read to that end.
      if (e.ackSeq === undefined ? startEnd === undefined || applied < startEnd : applied < Math.min(e.ackSeq, horizon(e, view.end(p)))) continue;
      const missing = seen.missingFrom(e.from, e.from + e.count).flatMap(([from, to]) => abandoned.missingFrom(from, to));
      if (missing.length === 0) continue;
      runs.push(...missing);
      touched.push(e);
    }
    return { runs, entries: touched };
  }

  async #republish(p: number, lost: { runs: OriginRun[]; entries: OutboxEntry[] }): Promise<number> {
    for (const e of lost.entries) e.inFlight = true;
    let published = 0;
    try {
      for (const { run, eventType, events } of await this.outbox.read(p, lost.runs)) {
        const ackSeq = await this.log.republish(p, eventType, events, { id: this.outbox.id, first: run[0] });
        for (const e of lost.entries) if (e.from <= run[0] && run[0] < e.from + e.count) e.ackSeq = Math.max(e.ackSeq ?? 0, ackSeq);
        published += events.count;
      }
      this.logger.warn({ partition: p, events: published, runs: lost.runs.length }, 'published again from the outbox events NATS lost after acknowledging them');
    } finally {
      for (const e of lost.entries) e.inFlight = false;
    }
    return published;
  }

  /** Origins of partition `p` below which every event was `seen` (the runs its reader saw by a seal) or abandoned: what may be released once archived. */
  watermark(p: number, seen: readonly OriginRun[]): number {
    const settled = OriginSet.of(seen);
    for (const [from, to] of this.outbox.abandoned(p).runs) settled.add(from, to);
    return settled.prefix;
  }

  /** Lets partition `p`'s outbox go below `below`: archived and verified. */
  release(p: number, below: number): Promise<void> {
    return this.outbox.release(p, below);
  }

  /** Events the outbox holds, in partition `p`, or over every partition. */
  held(p?: number): number {
    if (p !== undefined) return this.outbox.held(p);
    let held = 0;
    for (let q = 0; q < this.log.partitions; q++) held += this.outbox.held(q);
    return held;
  }
}

/** How far a reader must have read for `entry` to count as lost: the stream's end, when looked at after its acknowledgement and found below it. */
function horizon(entry: OutboxEntry, end: { readonly seq: number; readonly at: number }): number {
  return entry.ackedAt !== undefined && end.at > entry.ackedAt ? end.seq : Number.MAX_SAFE_INTEGER;
}

/** The index of the first entry of `entries` (in origin order) that reaches `prefix` or past: the ones before are all seen. */
function firstAbove(entries: readonly OutboxEntry[], prefix: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.from + entries[mid]!.count <= prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
