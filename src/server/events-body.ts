/**
 * Turns an ingest request body into events. NDJSON is parsed line by line so
 * that one malformed line is rejected alone; a JSON array is all or nothing,
 * because a broken array has no trustworthy element boundaries.
 *
 * @module
 */
import type { RejectedEvent } from '../serving/index.ts';
import { MalformedBodyError } from './errors.ts';

export interface ParsedEvents {
  /** The events that parsed, in request order. */
  readonly events: unknown[];
  /** For each parsed event, its index in the request (its line number minus one for NDJSON). */
  readonly positions: number[];
  /** Lines that are not JSON. */
  readonly rejected: RejectedEvent[];
}

/** Splits an NDJSON body; blank lines are skipped but still count for the index. */
export function parseNdjson(body: string): ParsedEvents {
  return parseNdjsonLines(body.split('\n'));
}

/** Parses NDJSON already split into lines (as a file reader yields them); the index is the line's position. */
export function parseNdjsonLines(lines: readonly string[]): ParsedEvents {
  const parsed: ParsedEvents = { events: [], positions: [], rejected: [] };
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line.length === 0) continue;
    try {
      parsed.events.push(JSON.parse(line));
      parsed.positions.push(index);
    } catch {
      parsed.rejected.push({ index, field: '', error: 'This line is not valid JSON.' });
    }
  }
  return parsed;
}

/** Accepts an already-parsed JSON body, which must be an array of events. */
export function fromJsonBody(body: unknown): ParsedEvents {
  if (!Array.isArray(body)) throw new MalformedBodyError('The body must be a JSON array of events, or NDJSON with one event per line.');
  return { events: body, positions: body.map((_, i) => i), rejected: [] };
}

/** Maps the engine's rejections (indexed into `events`) back to request indexes and merges them with parse failures. */
export function requestRejections(parsed: ParsedEvents, engineRejected: readonly RejectedEvent[]): RejectedEvent[] {
  const mapped = engineRejected.map((r) => ({ ...r, index: parsed.positions[r.index]! }));
  return [...parsed.rejected, ...mapped].sort((a, b) => a.index - b.index);
}
