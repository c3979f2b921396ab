/**
 * A lower CPU priority for a worker thread whose work can wait: the segment
 * export's split, which reads, checks and copies a whole segment. On a
 * machine with more runnable threads than cores, the main thread, which
 * makes ingests visible and answers queries, then gets the CPU first; on an
 * idle machine nothing changes. Issue #29 found the main thread runnable
 * but waiting for a CPU for about 30% of the slow ingests' time on a busy
 * machine, mostly behind other processes, partly behind Tandem's own threads
 * (docs/benchmarks.md).
 *
 * @module
 */
import { getPriority, setPriority } from 'node:os';

/** How far a background thread's nice value goes above its creator's: far enough that the main thread gets about 9 tenths of a shared core. */
export const BACKGROUND_NICE = 10;

/**
 * Lowers the calling thread's CPU priority, where that touches the thread
 * alone: Linux keeps a nice value per thread, so from a worker thread this
 * leaves the main thread as it was. Elsewhere the value is per process, so
 * nothing is done. Returns whether the priority was lowered; a refusal is
 * not an error, the work only runs at the usual priority.
 */
export function lowerThreadPriority(platform: NodeJS.Platform = process.platform): boolean {
  if (platform !== 'linux') return false;
  try {
    // Relative to what the thread inherited: a process already run under `nice` keeps its background threads below it.
    setPriority(Math.min(19, getPriority() + BACKGROUND_NICE));
    return true;
  } catch {
    return false;
  }
}
