/**
 * The messages the node's consumer has read of each partition and the
 * archive has not archived yet, kept on every node (each archives the
 * partitions it owns as its part of a cycle, issue #28) so that archiving
 * them does not read and decode the stream a second time (issue #27).
 * Reading a range back from NATS and parsing its NDJSON was about half of
 * what archiving 300,000 events cost on the main thread (a profile of a
 * cycle right after a burst: 1.2 s of 2.6 s in `decodeMessage`), and the
 * consumer has just done both.
 *
 * A partition's kept messages are consecutive sequences, exactly as the
 * consumer was handed them (the reader hands each sequence once, in order).
 * The archive runs them through its own duplicate rule, as it would the
 * stream's, so nothing about what it writes changes: only where the
 * messages come from. A message that does not follow the last one kept
 * (the consumer re-read the partition from elsewhere) starts the partition
 * over. Past {@link ConsumedTail.maxEvents} events kept, everything is let
 * go and keeping starts again with the next message: a range starting
 * before what is kept is read from the stream, as before.
 *
 * @module
 */
import type { LogMessage } from './log-message.ts';

/**
 * Events kept by default: seconds of a burst at the consumer's rate. Decoded
 * columns took 21 bytes an event for `bench:incremental`'s usage events
 * (strings repeat, and V8 shares them); a unique key per event adds about
 * 40 more, so at most some 60 MiB.
 */
export const DEFAULT_TAIL_EVENTS = 1_000_000;

export class ConsumedTail {
  /** Per partition, consecutive messages, the oldest first; `#first[p]` indexes the first still kept. */
  readonly #messages: LogMessage[][];
  readonly #first: number[];
  #events = 0;
  #keeping = false;

  constructor(partitions: number, readonly maxEvents = DEFAULT_TAIL_EVENTS) {
    this.#messages = Array.from({ length: partitions }, () => []);
    this.#first = new Array<number>(partitions).fill(0);
  }

  /** Whether messages are kept; turning it off lets everything go. */
  set keeping(on: boolean) {
    if (!on && this.#keeping) this.clear();
    this.#keeping = on;
  }

  get keeping(): boolean {
    return this.#keeping;
  }

  /** Events kept, over every partition. */
  get events(): number {
    return this.#events;
  }

  /** Keeps a message the consumer was just handed. */
  keep(message: LogMessage): void {
    if (!this.#keeping) return;
    const p = message.partition;
    const last = this.#messages[p]!.at(-1);
    if (last !== undefined && last.seq + 1 !== message.seq) this.drop(p);
    this.#messages[p]!.push(message);
    this.#events += eventsOf(message);
    if (this.#events > this.maxEvents) this.clear();
  }

  /** Lets partition `p` go: its messages are read from the stream until kept again from the next. */
  drop(p: number): void {
    const kept = this.#messages[p]!;
    for (let i = this.#first[p]!; i < kept.length; i++) this.#events -= eventsOf(kept[i]!);
    this.#messages[p] = [];
    this.#first[p] = 0;
  }

  clear(): void {
    for (let p = 0; p < this.#messages.length; p++) this.drop(p);
  }

  /**
   * Messages `from` to `to` (inclusive) of partition `p`, when every one of
   * them is kept; undefined otherwise (read them from the stream).
   */
  take(p: number, from: number, to: number): readonly LogMessage[] | undefined {
    const kept = this.#messages[p]!;
    const first = kept[this.#first[p]!];
    if (first === undefined || first.seq > from || kept.at(-1)!.seq < to) return undefined;
    const start = this.#first[p]! + (from - first.seq);
    return kept.slice(start, start + (to - from + 1));
  }

  /** Lets go of partition `p`'s messages below `seq`: archived. */
  releaseBelow(p: number, seq: number): void {
    const kept = this.#messages[p]!;
    let i = this.#first[p]!;
    for (; i < kept.length && kept[i]!.seq < seq; i++) this.#events -= eventsOf(kept[i]!);
    // Shifting on every release would copy the rest each time; compact once the released half is the larger.
    if (i > kept.length / 2) {
      this.#messages[p] = kept.slice(i);
      this.#first[p] = 0;
    } else {
      this.#first[p] = i;
    }
  }
}

/** What a kept message weighs, in events: a history message holds its keys (a string a row), never its rows. */
function eventsOf(message: LogMessage): number {
  if (message.kind === 'history') return message.keys?.length ?? 0;
  return message.kind === 'events' ? message.events.count : 0;
}
