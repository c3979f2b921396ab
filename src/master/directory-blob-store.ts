/**
 * A {@link BlobStore} in a local directory: the embedded default. A put
 * copies the file beside its final name, syncs it and renames it into place,
 * so a crash leaves the old blob or the new one, whole; a blob's digest is
 * its SHA-256, recomputed when it is read back.
 *
 * @module
 */
import { copyFile, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileSha256 } from '../util/checksums.ts';
import { syncDirectory } from '../util/sync-directory.ts';
import { BlobCorruptError, BlobMissingError, checkBlobName, type BlobInfo, type BlobStore } from './blob-store.ts';

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

export class DirectoryBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  #path(name: string): string {
    return join(this.root, ...checkBlobName(name).split('/'));
  }

  async put(name: string, file: string): Promise<BlobInfo> {
    const target = this.#path(name);
    await mkdir(dirname(target), { recursive: true });
    const temporary = `${target}.tmp`;
    await copyFile(file, temporary);
    await syncFile(temporary);
    await rename(temporary, target);
    await syncDirectory(dirname(target));
    return this.#describe(name, target);
  }

  async get(name: string, file: string): Promise<BlobInfo> {
    const source = this.#path(name);
    const expected = await this.info(name);
    if (expected === undefined) throw new BlobMissingError(this.root, name);
    await copyFile(source, file);
    if ((await fileSha256(file)) !== expected.sha256) throw new BlobCorruptError(this.root, name);
    return expected;
  }

  async info(name: string): Promise<BlobInfo | undefined> {
    const path = this.#path(name);
    const exists = await stat(path).then((s) => s.isFile(), () => false);
    return exists ? this.#describe(name, path) : undefined;
  }

  async list(prefix = ''): Promise<BlobInfo[]> {
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true }).catch(() => []);
    const names = entries
      .filter((e) => e.isFile() && !e.name.endsWith('.tmp'))
      .map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join('/'))
      .filter((name) => name.startsWith(prefix))
      .sort();
    return Promise.all(names.map((name) => this.#describe(name, this.#path(name))));
  }

  async delete(name: string): Promise<void> {
    await rm(this.#path(name), { force: true });
  }

  async #describe(name: string, path: string): Promise<BlobInfo> {
    return { name, bytes: (await stat(path)).size, sha256: await fileSha256(path) };
  }
}
