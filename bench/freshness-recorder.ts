/**
 * Records, beside the freshness probes, what the process was doing
 * (issue #29): GC pauses (PerformanceObserver), stalls of the main thread (a
 * 1 ms heartbeat that came late, split by the main thread's run-queue wait
 * in `/proc/thread-self/schedstat` into time it waited for a CPU and time it
 * ran), the log's durable writes (every
 * `FileHandle.writev`, which only the log calls), its seals (the roll-over
 * to a new segment with its directory syncs), and, for context, DuckDB's
 * statements (the export's apart) and the batch cycles. The hooks wrap
 * prototypes, so the engine runs unchanged.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { DuckDBConnection, DuckDBPreparedStatement, DuckDBResult } from '@duckdb/node-api';
import { LocalEventLog } from '../src/log/index.ts';
import type { Activity, Span } from './freshness-attribution.ts';

/** A heartbeat later than this (ms past its 1 ms period) counts as a stall of the main thread. */
const STALL_MS = 1;

export interface Recording extends Activity {
  readonly exportSql: readonly Span[];
  readonly batchSql: readonly Span[];
  readonly cycles: Span[];
}

type AnyFn = (...args: never[]) => unknown;

/** Wraps `proto[name]` so that each call's span (until its promise settles) goes to `into(span, args)`. */
function timeMethod(proto: object, name: string, into: (span: Span, args: unknown[]) => void): () => void {
  const target = proto as Record<string, AnyFn>;
  const original = target[name]!;
  target[name] = function (this: unknown, ...args: never[]) {
    const start = performance.now();
    const done = () => into({ start, end: performance.now() }, args);
    const result = original.apply(this, args);
    if (result instanceof Promise) void result.then(done, done);
    else done();
    return result;
  } as AnyFn;
  return () => (target[name] = original);
}

/** Starts recording; `stop` ends it and hands back what was recorded. */
export async function startRecording(scratchFile: string): Promise<{ recording: Recording; stop(): void }> {
  const rec = { gc: [], preempted: [], stall: [], roll: [], write: [], exportSql: [], batchSql: [], cycles: [] } as {
    [K in keyof Recording]: Recording[K] extends readonly (infer T)[] ? T[] : never;
  };
  const handle = await open(scratchFile, 'w');
  const fileHandle = Object.getPrototypeOf(handle) as object;
  await handle.close();
  const sql = (span: Span, args: unknown[]) => (String(args[0]).includes('read_ndjson') ? rec.exportSql : rec.batchSql).push(span);
  const undo = [
    timeMethod(fileHandle, 'writev', (s) => rec.write.push(s)),
    timeMethod(LocalEventLog.prototype, 'seal', (s) => rec.roll.push(s)),
    ...['run', 'runAndReadAll', 'stream', 'prepare'].map((m) => timeMethod(DuckDBConnection.prototype, m, sql)),
    timeMethod(DuckDBPreparedStatement.prototype, 'run', (s) => rec.batchSql.push(s)),
    timeMethod(DuckDBResult.prototype, 'fetchChunk', (s) => rec.batchSql.push(s)),
  ];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) rec.gc.push({ start: e.startTime, end: e.startTime + e.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  let last = performance.now();
  let waited = runQueueWaitMs();
  const heartbeat = setInterval(() => {
    const now = performance.now();
    const wait = runQueueWaitMs();
    if (now - last > 1 + STALL_MS) splitStall(rec, { start: last + 1, end: now }, wait - waited);
    last = now;
    waited = wait;
  }, 1);
  const stop = () => {
    clearInterval(heartbeat);
    observer.disconnect();
    for (const u of undo) u();
  };
  return { recording: rec, stop };
}

/** The main thread's time waiting on a run queue so far, ms; 0 where /proc does not say (not Linux). */
function runQueueWaitMs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[1]) / 1e6;
  } catch {
    return 0;
  }
}

/** A late heartbeat: the part the thread spent waiting for a CPU (placed first: the order within is not known), then the part it ran. */
function splitStall(rec: { preempted: Span[]; stall: Span[] }, span: Span, waitMs: number): void {
  const cut = Math.min(span.end, span.start + Math.max(0, waitMs));
  if (cut > span.start) rec.preempted.push({ start: span.start, end: cut });
  if (span.end > cut) rec.stall.push({ start: cut, end: span.end });
}

/** How many of `probes` overlap any of `spans`. */
export function overlapping(probes: readonly Span[], spans: readonly Span[]): number {
  return probes.filter((p) => spans.some((s) => s.start < p.end && s.end > p.start)).length;
}
