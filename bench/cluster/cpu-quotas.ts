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
