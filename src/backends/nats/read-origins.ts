/**
 * Which events a partition's speed layer holds, by origin (the outbox that
 * took each event and its number there), per message sequence. A batch
 * version may record a stretch of a stream as lost by NATS; a node that had
 * read events there drops them with everything below the version's cutoff,
 * and they come back only when the outbox of the node that took them
 * publishes them again. Knowing their origins is what lets the node say so
 * in its status until then, and stop saying so once it has seen each again.
 *
 * One entry per message, in sequence order, its kept lines as runs;
 * messages are batches, so this costs a few dozen bytes per ingest request
 * above the cutoff.
 *
 * @module
 */
import type { MessageOrigin } from './log-message.ts';
import { OriginSet } from './origin-set.ts';

/** A stretch of a stream's sequences, `[from, to)`. */
export interface SeqStretch {
  readonly from: number;
  readonly to: number;
}

/** Events read in stretches NATS lost: per outbox id, their origins; `unknown` counts those without one. */
export interface LostReads {
  readonly origins: Map<string, OriginSet>;
  readonly events: number;
  readonly unknown: number;
}

interface Entry {
  readonly seq: number;
  readonly origin: MessageOrigin | undefined;
  /** The lines kept, as half-open runs: one run where a message was kept whole, as most are. */
  readonly runs: readonly (readonly [number, number])[];
  readonly events: number;
}

/** Ascending line numbers as half-open runs of consecutive ones. */
function runsOf(lines: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const line of lines) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === line) last[1] = line + 1;
    else runs.push([line, line + 1]);
  }
  return runs;
}

export class ReadOrigins {
  #entries: Entry[] = [];

  /** Message `seq` put the events at `lines` of it into the speed layer. */
  record(seq: number, origin: MessageOrigin | undefined, lines: readonly number[]): void {
    if (lines.length > 0) this.#entries.push({ seq, origin, runs: runsOf(lines), events: lines.length });
  }

  /** Forgets every message below `cutoff`; resolves with the events of those that lie in one of `lost`. */
  dropBefore(cutoff: number, lost: readonly SeqStretch[]): LostReads {
    const origins = new Map<string, OriginSet>();
    let events = 0;
    let unknown = 0;
    let kept = 0;
    while (kept < this.#entries.length && this.#entries[kept]!.seq < cutoff) kept++;
    for (const entry of this.#entries.slice(0, kept)) {
      const { seq, origin, runs } = entry;
      if (!lost.some((s) => seq >= s.from && seq < s.to)) continue;
      events += entry.events;
      if (origin === undefined) {
        unknown += entry.events;
        continue;
      }
      let set = origins.get(origin.id);
      if (set === undefined) origins.set(origin.id, (set = new OriginSet()));
      for (const [from, to] of runs) set.add(origin.first + from, origin.first + to);
    }
    this.#entries = this.#entries.slice(kept);
    return { origins, events, unknown };
  }
}
