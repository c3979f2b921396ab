/**
 * A small tmpfs to fill up, for tests of a full disk. Mounting needs root:
 * where it cannot, tests say so and skip, and fail instead under
 * TANDEM_REQUIRE_SERVICES=1, as in CI.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why a tmpfs cannot be mounted here, or false if it can. */
export function mountSkipReason(): string | false {
  const probe = join(tmpdir(), `tandem-mount-probe-${process.pid}`);
  try {
    execFileSync('mkdir', ['-p', probe]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe]);
    return false;
  } catch (error) {
    const reason = `SKIPPED: cannot mount a small tmpfs to fill (${String((error as Error).message).split('\n')[0]}); run as root`;
    if (process.env.TANDEM_REQUIRE_SERVICES === '1') throw new Error(`${reason}, and TANDEM_REQUIRE_SERVICES=1 requires it.`, { cause: error });
    console.warn(reason);
    return reason;
  } finally {
    execFileSync('rm', ['-rf', probe]);
  }
}

/** Runs `fn` with a tmpfs of `megabytes` mounted at a fresh directory, unmounted afterwards. */
export async function withTmpfs<T>(megabytes: number, fn: (mount: string) => Promise<T>): Promise<T> {
  const mount = await mkdtemp(join(tmpdir(), 'tandem-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', mount]);
  try {
    return await fn(mount);
  } finally {
    execFileSync('umount', [mount]);
    await rm(mount, { recursive: true, force: true });
  }
}

/** Fills the tmpfs at `mount` but for `leaveBytes`; removing the returned file frees the space again. */
export async function fillUp(mount: string, leaveBytes: number): Promise<string> {
  const filler = join(mount, 'filler');
  const { bavail, bsize } = await statfs(mount);
  await writeFile(filler, Buffer.alloc(Math.max(0, bavail * bsize - leaveBytes)));
  return filler;
}
