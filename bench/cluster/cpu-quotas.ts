/**
 * CPU quotas for benchmark processes, so that nodes on one machine behave as
 * small machines of their own: one cgroup per process under the cgroup v1
 * `cpu` controller, with `cpu.cfs_quota_us` a fraction of
 * `cpu.cfs_period_us`. Needs root and a v1 `cpu` hierarchy; `unavailable()`
 * says why not, and a benchmark then runs without quotas and says so.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup/cpu';
const PERIOD_US = 100_000;

/** A group's throttling counters, as `cpu.stat` reports them (the time in seconds, not nanoseconds). */
export interface Throttling {
  /** Enforcement periods (of `cpu.cfs_period_us`) in which the group had work. */
  readonly periods: number;
  /** Periods in which it used its whole quota and had to wait for the next. */
  readonly throttled: number;
  /** Wall-clock seconds its threads spent waiting so, summed over the machine's cores. */
  readonly throttledSeconds: number;
}

export class CpuQuotas {
  readonly #groups: string[] = [];

  constructor(private readonly prefix: string) {}

  /** Why quotas cannot be set here, or undefined when they can. */
  static unavailable(): string | undefined {
    if (process.getuid?.() !== 0) return 'not running as root';
    if (!existsSync(join(ROOT, 'cpu.cfs_quota_us'))) return `no cgroup v1 cpu controller at ${ROOT}`;
    return undefined;
  }

  /** Puts process `pid` (all its threads, and any it starts later) in a group of its own limited to `cores` cores. */
  async limit(name: string, pid: number, cores: number): Promise<void> {
    const group = join(ROOT, `${this.prefix}-${name}`);
    await mkdir(group, { recursive: true });
    if (!this.#groups.includes(group)) this.#groups.push(group);
    await writeFile(join(group, 'cpu.cfs_period_us'), String(PERIOD_US));
    await writeFile(join(group, 'cpu.cfs_quota_us'), String(Math.round(cores * PERIOD_US)));
    await writeFile(join(group, 'cgroup.procs'), String(pid));
  }

  /**
   * Group `name`'s throttling so far (its `cpu.stat`): how many quota periods
   * it ran in, in how many of them it used its whole quota and was made to
   * wait, and for how long in all. Undefined when the group does not exist.
   * Two readings around a window say whether the quota held a node back.
   */
  async throttling(name: string): Promise<Throttling | undefined> {
    const stat = await readFile(join(ROOT, `${this.prefix}-${name}`, 'cpu.stat'), 'utf8').catch(() => undefined);
    if (stat === undefined) return undefined;
    const field = (key: string) => Number(stat.match(new RegExp(`^${key} (\\d+)$`, 'm'))?.[1] ?? 0);
    return { periods: field('nr_periods'), throttled: field('nr_throttled'), throttledSeconds: field('throttled_time') / 1e9 };
  }

  /** Removes the groups once their processes are gone (a group with processes in it cannot be removed, and is left). */
  async remove(): Promise<void> {
    for (const group of this.#groups.splice(0)) await rmdir(group).catch(() => undefined);
  }
}

/** A process's peak resident memory (VmHWM), in MiB; undefined once it is gone. */
export async function peakRssMiB(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const kib = status?.match(/^VmHWM:\s+(\d+) kB/m)?.[1];
  return kib === undefined ? undefined : Number(kib) / 1024;
}
