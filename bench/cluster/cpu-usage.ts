/**
 * Where a benchmark's CPU goes over a window: the CPU seconds each process
 * of interest used (from `/proc/<pid>/stat`), and what the whole machine
 * did meanwhile (from `/proc/stat`), so that a figure that does not scale
 * can be blamed on the right thing: a node's quota, the NATS servers, the
 * load client, or the machine's cores running out. Linux only.
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

/**
 * Clock ticks per second, the unit of `/proc` CPU times. Asked of `getconf`
 * once, since Node has no `sysconf`; 100 (what Linux uses almost everywhere)
 * when `getconf` is missing.
 */
export const CLOCK_TICKS: number = (() => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/**
 * The CPU seconds process `pid` has used so far, user and system, all its
 * threads (worker threads included); undefined once it is gone.
 */
export async function processCpuSeconds(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: count fields from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5), utime and stime, are the 12th and 13th after the name.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** The machine's CPU time so far, in core-seconds, from the first line of `/proc/stat`. */
export interface MachineCpu {
  /** Every kind of time below, and the rest (user, system, nice); excludes guest time, which user time already counts. */
  readonly total: number;
  /** Idle and waiting for I/O: what the cores could still have given. */
  readonly idle: number;
  /** Taken by the hypervisor for others while this machine had work: cores it did not really have. */
  readonly steal: number;
  /** Serving hardware and soft interrupts (on loopback, much of the network stack), charged to no process. */
  readonly interrupts: number;
}

/** Reads {@link MachineCpu} now. */
export async function machineCpu(): Promise<MachineCpu> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map((t) => Number(t) / CLOCK_TICKS);
  // proc(5)'s order; guest and guest_nice (after steal) are left out, since user and nice already count them.
  const [user, nice, system, idle, iowait, irq, softirq, steal] = Array.from({ length: 8 }, (_, i) => ticks[i] ?? 0) as [number, number, number, number, number, number, number, number];
  return { total: user + nice + system + idle + iowait + irq + softirq + steal, idle: idle + iowait, steal, interrupts: irq + softirq };
}

/**
 * The processes whose parent is `parent` and whose command line contains
 * `needle`: how a benchmark finds the servers a test harness started for it
 * when the harness does not say their pids. Matching the parent too keeps
 * out the same program started by anyone else on the machine.
 */
export async function childPids(parent: number, needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    if (Number(status.match(/^PPid:\s+(\d+)/m)?.[1]) !== parent) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.replaceAll('\0', ' ').includes(needle)) pids.push(Number(entry));
  }
  return pids;
}

/** The CPU seconds of a set of processes and of the machine at one moment. */
export interface CpuSnapshot {
  readonly at: number;
  readonly processes: ReadonlyMap<number, number | undefined>;
  readonly machine: MachineCpu;
}

/** Takes a {@link CpuSnapshot} of `pids` (read together, so the window is the same for all). */
export async function cpuSnapshot(pids: readonly number[]): Promise<CpuSnapshot> {
  const seconds = await Promise.all(pids.map((pid) => processCpuSeconds(pid)));
  return { at: performance.now(), processes: new Map(pids.map((pid, i) => [pid, seconds[i]])), machine: await machineCpu() };
}

/** What a window between two snapshots cost, in seconds. */
export interface CpuWindow {
  /** Wall-clock seconds between the snapshots. */
  readonly seconds: number;
  /** CPU seconds of `pid` in the window; NaN when it was not in both snapshots (it exited). */
  process(pid: number): number;
  /** The machine's core-seconds in the window (cores × `seconds`, give or take a tick). */
  readonly machine: MachineCpu;
}

/** The window from `before` to `after`. */
export function cpuWindow(before: CpuSnapshot, after: CpuSnapshot): CpuWindow {
  const m = (pick: (c: MachineCpu) => number) => pick(after.machine) - pick(before.machine);
  return {
    seconds: (after.at - before.at) / 1000,
    process: (pid) => (after.processes.get(pid) ?? NaN) - (before.processes.get(pid) ?? NaN),
    machine: { total: m((c) => c.total), idle: m((c) => c.idle), steal: m((c) => c.steal), interrupts: m((c) => c.interrupts) },
  };
}
