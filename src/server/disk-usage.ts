/**
 * Bytes on disk per part of the data directory, for the status page. Walking
 * the directory costs a stat per file, so answers are cached for a few
 * seconds: live dashboards ask every second.
 *
 * @module
 */
import { readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { DATA_SUBDIRECTORIES, dataDirectory } from '../util/data-directory.ts';

export interface DiskUsage {
  /** Log segments not yet absorbed by a batch. */
  readonly logBytes: number;
  /** The master dataset's Parquet files. */
  readonly masterBytes: number;
  /** Published batch-view versions. */
  readonly batchBytes: number;
  /** Space left for this process on the data directory's filesystem; null where the platform cannot tell. */
  readonly freeBytes: number | null;
}

const CACHE_MS = 5000;

export class DiskUsageProbe {
  #cached: { at: number; usage: Promise<DiskUsage> } | undefined;

  constructor(private readonly dataDir: string) {}

  read(now = Date.now()): Promise<DiskUsage> {
    if (this.#cached === undefined || now - this.#cached.at > CACHE_MS) {
      this.#cached = { at: now, usage: this.#measure() };
    }
    return this.#cached.usage;
  }

  async #measure(): Promise<DiskUsage> {
    const layout = dataDirectory(this.dataDir);
    const [logBytes, masterBytes, batchBytes] = await Promise.all(DATA_SUBDIRECTORIES.map((d) => directoryBytes(layout[d])));
    const freeBytes = await statfs(this.dataDir).then((s) => s.bavail * s.bsize, () => null);
    return { logBytes: logBytes!, masterBytes: masterBytes!, batchBytes: batchBytes!, freeBytes };
  }
}

async function directoryBytes(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0; // not created yet, or removed while we looked
  }
  let total = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(path);
    else total += await stat(path).then((s) => s.size, () => 0);
  }
  return total;
}
