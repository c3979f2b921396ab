/**
 * Versioned, immutable batch views on disk, after Marz's VersionedStore:
 *
 *   <data>/batch/v00000007/<view>.parquet, manifest.json   one directory per version
 *   <data>/batch/CURRENT                                    the name of the published version
 *
 * A version is built in `vN.tmp/`, renamed into place, and published by
 * atomically replacing CURRENT. A crash at any step leaves the old version
 * serving and, at worst, a `.tmp` directory that the next start removes.
 *
 * @module
 */
import type { PublishedVersion, VersionStore } from './version-store.ts';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checksumMatches, withChecksum } from '../util/checksums.ts';
import { syncDirectory } from '../util/sync-directory.ts';
import type { BatchManifest } from './batch-manifest.ts';
import { CorruptBatchViewError } from './errors.ts';

const VERSION_DIR = /^v(\d{8})$/;

export function versionName(version: number): string {
  return `v${String(version).padStart(8, '0')}`;
}

export class LocalVersionStore implements VersionStore {
  constructor(readonly dir: string) {}

  /** Creates the directory and removes what a crashed run left behind. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      if (name.endsWith('.tmp')) await rm(join(this.dir, name), { recursive: true, force: true });
    }
  }

  /** The published version, or undefined before the first batch. */
  async current(): Promise<PublishedVersion | undefined> {
    const pointer = join(this.dir, 'CURRENT');
    const name = await readFile(pointer, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (name === undefined) return undefined;
    if (!VERSION_DIR.test(name.trim())) throw new CorruptBatchViewError(pointer, `it names ${JSON.stringify(name.slice(0, 40))}, not a version`);
    const dir = join(this.dir, name.trim());
    const manifestPath = join(dir, 'manifest.json');
    let manifest: BatchManifest;
    try {
      manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as BatchManifest;
    } catch (error) {
      throw new CorruptBatchViewError(manifestPath, (error as Error).message.replace(/\.$/, ''), { cause: error });
    }
    if (!checksumMatches(manifest)) throw new CorruptBatchViewError(manifestPath, 'its checksum does not match its content');
    return { manifest, dir };
  }

  /**
   * The newest version whose manifest reads whole: what `CURRENT` named, or
   * a version a crash kept it from naming (versions are moved into place
   * before `CURRENT` points at them, whole). Undefined when there is none.
   */
  async newestValid(): Promise<PublishedVersion | undefined> {
    for (const version of (await this.#versions()).reverse()) {
      const dir = join(this.dir, versionName(version));
      const manifest = await readFile(join(dir, 'manifest.json'), 'utf8').then((text) => JSON.parse(text) as BatchManifest, () => undefined);
      if (manifest !== undefined && checksumMatches(manifest) && manifest.version === version) return { manifest, dir };
    }
    return undefined;
  }

  /** Points `CURRENT` at `version`, atomically. */
  async point(version: number): Promise<void> {
    await writeFile(join(this.dir, 'CURRENT.tmp'), versionName(version), { flush: true });
    await rename(join(this.dir, 'CURRENT.tmp'), join(this.dir, 'CURRENT'));
    await syncDirectory(this.dir);
  }

  async #versions(): Promise<number[]> {
    const names = await readdir(this.dir);
    return names.flatMap((n) => (VERSION_DIR.test(n) ? [Number(n.slice(1))] : [])).sort((a, b) => a - b);
  }

  /** Where a published version's files are. */
  dirOf(version: number): string {
    return join(this.dir, versionName(version));
  }

  /** Reserves the next version number and creates its temporary directory. */
  async begin(): Promise<{ version: number; dir: string }> {
    const version = ((await this.#versions()).at(-1) ?? 0) + 1;
    const dir = join(this.dir, `${versionName(version)}.tmp`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    return { version, dir };
  }

  /** Writes the manifest, moves the version into place and points CURRENT at it. */
  async publish(tmpDir: string, manifest: BatchManifest): Promise<PublishedVersion> {
    await writeFile(join(tmpDir, 'manifest.json'), JSON.stringify(withChecksum(manifest), null, 2), { flush: true });
    await syncDirectory(tmpDir);
    const name = versionName(manifest.version);
    const dir = join(this.dir, name);
    await rename(tmpDir, dir);
    await this.point(manifest.version);
    return { manifest, dir };
  }

  /** Deletes all but the newest `keep` versions (never the published one). */
  async prune(keep: number, published: number): Promise<void> {
    const versions = await this.#versions();
    for (const v of versions.slice(0, Math.max(0, versions.length - keep))) {
      if (v !== published) await rm(join(this.dir, versionName(v)), { recursive: true, force: true });
    }
  }
}
