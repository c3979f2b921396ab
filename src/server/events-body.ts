/**
 * Turns an ingest request body into events. NDJSON is parsed line by line so
 * that one malformed line is rejected alone; a JSON array is all or nothing,
 * because a broken array has no trustworthy element boundaries.
 *
 * @module
 */
import { isUtf8 } from 'node:buffer';
import type { RejectedEvent } from '../engine/index.ts';
import { MalformedBodyError, TooManyEventsError } from './errors.ts';

/** Limits on one body: bytes per NDJSON line, and events per request. */
export interface BodyLimits {
  readonly lineBytes: number;
  readonly events: number;
}

const NO_LIMITS: BodyLimits = { lineBytes: Infinity, events: Infinity };

export interface ParsedEvents {
  /** The events that parsed, in request order. */
  readonly events: unknown[];
  /** For each parsed event, its index in the request (its line number minus one for NDJSON). */
  readonly positions: number[];
  /** Lines that are not JSON. */
  readonly rejected: RejectedEvent[];
}

/** Splits an NDJSON body; blank lines are skipped but still count for the index. */
export function parseNdjson(body: string, limits: BodyLimits = NO_LIMITS): ParsedEvents {
  return parseNdjsonLines(body.split('\n'), limits);
}

const LF = 0x0a;

/**
 * Parses an NDJSON body as it arrived, in bytes. A line that is not UTF-8 is
 * rejected alone: decoding it would turn each bad byte into U+FFFD, and two
 * events that differ only there (`caf\xe9-1`, `caf\xe8-1`) would share an
 * idempotency key. A valid body (nearly every one) is checked in one pass and
 * parsed as text; only a body with a bad byte is split on bytes, which finds
 * the same lines, since a newline byte is never part of a multi-byte character.
 */
export function parseNdjsonBytes(body: Buffer, limits: BodyLimits = NO_LIMITS): ParsedEvents {
  if (isUtf8(body)) return parseNdjson(body.toString('utf8'), limits);
  const lines: string[] = [];
  const invalid = new Set<number>();
  for (let start = 0; start <= body.length;) {
    const newline = body.indexOf(LF, start);
    const end = newline === -1 ? body.length : newline;
    const line = body.subarray(start, end);
    if (!isUtf8(line)) invalid.add(lines.length);
    lines.push(line.toString('utf8'));
    start = end + 1;
  }
  return parseLines(lines, limits, invalid);
}

/** A line's size in UTF-8 bytes, counted only when its length in UTF-16 units could be over the limit. */
function overLineLimit(line: string, lineBytes: number): boolean {
  return line.length * 3 > lineBytes && Buffer.byteLength(line, 'utf8') > lineBytes;
}

/**
 * Parses NDJSON already split into lines (as a file reader yields them); the
 * index is the line's position. A line over the byte limit is rejected alone;
 * more events than the limit refuse the whole request, before any is parsed.
 */
export function parseNdjsonLines(lines: readonly string[], limits: BodyLimits = NO_LIMITS): ParsedEvents {
  return parseLines(lines, limits, NONE);
}

const NONE: ReadonlySet<number> = new Set();

/** Lines in `invalidUtf8` were decoded with replacement characters: they count as events, and are rejected. */
function parseLines(lines: readonly string[], limits: BodyLimits, invalidUtf8: ReadonlySet<number>): ParsedEvents {
  if (lines.length > limits.events) {
    const events = lines.reduce((n, line) => (line.trim().length === 0 ? n : n + 1), 0);
    if (events > limits.events) throw new TooManyEventsError(events, limits.events);
  }
  const parsed: ParsedEvents = { events: [], positions: [], rejected: [] };
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line.length === 0) continue;
    if (invalidUtf8.has(index)) {
      parsed.rejected.push({ index, field: '', error: 'This line is not valid UTF-8; send text encoded as UTF-8.' });
      continue;
    }
    if (overLineLimit(line, limits.lineBytes)) {
      parsed.rejected.push({ index, field: '', error: `This line is longer than this server's limit of ${limits.lineBytes.toLocaleString('en-US')} bytes per event.` });
      continue;
    }
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
export function fromJsonBody(body: unknown, limits: BodyLimits = NO_LIMITS): ParsedEvents {
  if (!Array.isArray(body)) throw new MalformedBodyError('The body must be a JSON array of events, or NDJSON with one event per line.');
  if (body.length > limits.events) throw new TooManyEventsError(body.length, limits.events);
  return { events: body, positions: body.map((_, i) => i), rejected: [] };
}

/** Maps the engine's rejections (indexed into `events`) back to request indexes and merges them with parse failures. */
export function requestRejections(parsed: ParsedEvents, engineRejected: readonly RejectedEvent[]): RejectedEvent[] {
  const mapped = engineRejected.map((r) => ({ ...r, index: parsed.positions[r.index]! }));
  return [...parsed.rejected, ...mapped].sort((a, b) => a.index - b.index);
}
