/**
 * One partition's share of a node's speed layer. Offsets are the partition's
 * stream sequences, so the embedded {@link SpeedLayer} works unchanged: a seal
 * message starts a generation, and a published version drops the
 * generations below its cutoff. A message's events share one sequence, so
 * the events held are counted here rather than read off the offsets.
 *
 * @module
 */
import type { Catalog, EventColumns } from '../../definitions/index.ts';
import { SpeedLayer, type RealtimeStats } from '../../speed/index.ts';

export class PartitionSpeed {
  readonly layer: SpeedLayer;
  /** Sequences below it are the batch view's: messages there are not applied. */
  #start: number;
  /** Events held per generation, by its first sequence. */
  #events = new Map<number, number>();
  #current: number;

  constructor(catalog: Catalog, start: number) {
    this.layer = new SpeedLayer(catalog, start);
    this.#start = start;
    this.#current = start;
    this.#events.set(start, 0);
  }

  get start(): number {
    return this.#start;
  }

  apply(eventType: string, events: EventColumns, seq: number): void {
    if (seq < this.#start) return;
    this.layer.apply(eventType, events, seq);
    this.#events.set(this.#current, this.#events.get(this.#current)! + events.count);
  }

  /** A seal at `seq`: the cutoff of a batch cycle starting now. */
  seal(seq: number): void {
    if (seq <= this.#current) return;
    this.layer.rotate(seq);
    this.#current = seq;
    this.#events.set(seq, 0);
  }

  /** Drops what a published version absorbed: every sequence below `cutoff`, a seal this partition has applied. */
  dropBefore(cutoff: number): void {
    if (cutoff <= this.#start) return;
    this.layer.dropBefore(cutoff);
    this.#start = cutoff;
    for (const first of this.#events.keys()) if (first < cutoff) this.#events.delete(first);
    if (this.#current < cutoff) {
      this.#current = cutoff;
      this.#events.set(cutoff, 0);
    }
  }

  stats(): RealtimeStats {
    let events = 0;
    for (const n of this.#events.values()) events += n;
    return { ...this.layer.stats(), events };
  }
}
