/**
 * One partition's share of a node's speed layer. Offsets are the partition's
 * stream sequences, so the embedded {@link SpeedLayer} works unchanged: a seal
 * message starts a generation, and a published version drops the
 * generations below its cutoff. A message's events share one sequence, so
 * the events held are counted here rather than read off the offsets, and
 * their origins are kept per message ({@link ReadOrigins}) until a version
 * absorbs them.
 *
 * @module
 */
import type { Catalog, ViewSchema } from '../../definitions/index.ts';
import { SpeedLayer, viewKey, type RealtimeStats } from '../../speed/index.ts';
import type { Admitted } from './first-occurrence.ts';
import { ReadOrigins, type LostReads, type SeqStretch } from './read-origins.ts';

export class PartitionSpeed {
  readonly layer: SpeedLayer;
  /** Sequences below it are the batch view's: messages there are not applied. */
  #start: number;
  /** Events held per generation, by its first sequence. */
  #events = new Map<number, number>();
  #current: number;
  readonly #origins = new ReadOrigins();
  /** Per definition a seal included (`viewKey`), the seal's sequence: those past the start belong to a cycle not served yet. */
  readonly #includedAt = new Map<string, number>();

  constructor(catalog: Catalog, start: number) {
    this.layer = new SpeedLayer(catalog, start);
    this.#start = start;
    this.#current = start;
    this.#events.set(start, 0);
  }

  get start(): number {
    return this.#start;
  }

  /** The events of a message the duplicate rule kept. */
  apply({ eventType, events, seq, origin, lines }: Admitted): void {
    if (seq < this.#start) return;
    this.layer.apply(eventType, events, seq);
    this.#events.set(this.#current, this.#events.get(this.#current)! + events.count);
    this.#origins.record(seq, origin, lines);
  }

  /**
   * A seal at `seq`: the cutoff of a batch cycle starting now. `include`:
   * the views that cycle switches in, folded from the seal on, so that the
   * version it publishes finds them whole from its cutoff.
   */
  seal(seq: number, include: readonly ViewSchema[] = []): void {
    if (seq < this.#current) return;
    for (const view of include) {
      this.layer.include(view);
      this.#includedAt.set(viewKey(view), seq);
    }
    if (seq === this.#current) return;
    this.layer.rotate(seq);
    this.#current = seq;
    this.#events.set(seq, 0);
  }

  /** Whether a seal past this speed layer's start included `view`: a cycle that switches it in runs, or ran and published nothing yet. */
  includedPast(view: ViewSchema): boolean {
    return (this.#includedAt.get(viewKey(view)) ?? -1) > this.#start;
  }

  /**
   * Drops what a published version absorbed: every sequence below `cutoff`,
   * a seal this partition has applied. Resolves with the events dropped from
   * the stretches `lost` the version records as lost by NATS: the version
   * does not hold them either.
   */
  dropBefore(cutoff: number, lost: readonly SeqStretch[] = []): LostReads {
    const dropped = this.#origins.dropBefore(cutoff, lost);
    if (cutoff <= this.#start) return dropped;
    this.layer.dropBefore(cutoff);
    this.#start = cutoff;
    for (const [key, seq] of this.#includedAt) if (seq < cutoff) this.#includedAt.delete(key);
    for (const first of this.#events.keys()) if (first < cutoff) this.#events.delete(first);
    if (this.#current < cutoff) {
      this.#current = cutoff;
      this.#events.set(cutoff, 0);
    }
    return dropped;
  }

  stats(): RealtimeStats {
    let events = 0;
    for (const n of this.#events.values()) events += n;
    return { ...this.layer.stats(), events };
  }
}
