/**
 * One engine per data directory. Two processes appending to the same log
 * would assign the same offsets and overwrite each other's frames, so the
 * engine holds `LOCK` (its pid inside) while open. A lock left by a process
 * that died (kill -9, power loss) is taken over: its pid is no longer alive.
 *
 * @module
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataDirectoryLockedError } from './errors.ts';

/** Directories locked by engines in this process: our own pid in a LOCK file is live only if listed here. */
const heldHere = new Set<string>();

export class DataDirLock {
  private constructor(private readonly path: string) {}

  static async acquire(dataDir: string): Promise<DataDirLock> {
    const path = resolve(join(dataDir, 'LOCK'));
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const file = await open(path, 'wx');
        await file.writeFile(`${process.pid}\n`);
        await file.close();
        heldHere.add(path);
        return new DataDirLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (isAlive(holder, path)) throw new DataDirectoryLockedError(dataDir, holder);
      await unlink(path).catch(() => undefined); // stale: its process is gone
    }
    throw new DataDirectoryLockedError(dataDir, null);
  }

  async release(): Promise<void> {
    heldHere.delete(this.path);
    await unlink(this.path).catch(() => undefined);
  }
}

function isAlive(pid: number, path: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return heldHere.has(path);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by another user
  }
}
