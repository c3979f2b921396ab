/**
 * A {@link BlobStore} in a local directory: the embedded default. A put
 * hashes the file once as it copies it in, writes its SHA-256 beside it
 * (`<blob>#sha256`; `#` is never in a blob name, so the two cannot collide),
 * syncs both and renames them into place, so a crash leaves the old blob or
 * the new one, whole. Info and listings read the recorded digest instead of
 * the bytes; a get hashes its copy once and checks it against the record,
 * which catches damage on disk as the object store's check does.
 *
 * @module
 */
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileSha256 } from '../util/checksums.ts';
import { syncDirectory } from '../util/sync-directory.ts';
import { BlobCorruptError, BlobMissingError, checkBlobName, type BlobInfo, type BlobStore } from './blob-store.ts';

const DIGEST = '#sha256';
const TEMPORARY = '#tmp';

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
    await copyFile(file, `${target}${TEMPORARY}`);
    await syncFile(`${target}${TEMPORARY}`);
    const info: BlobInfo = { name, bytes: (await stat(`${target}${TEMPORARY}`)).size, sha256: await fileSha256(`${target}${TEMPORARY}`) };
    await writeFile(`${target}${DIGEST}${TEMPORARY}`, info.sha256, { flush: true });
    await rename(`${target}${DIGEST}${TEMPORARY}`, `${target}${DIGEST}`);
    await rename(`${target}${TEMPORARY}`, target);
    await syncDirectory(dirname(target));
    return info;
  }

  async get(name: string, file: string): Promise<BlobInfo> {
    const expected = await this.info(name);
    if (expected === undefined) throw new BlobMissingError(this.root, name);
    await copyFile(this.#path(name), file);
    if ((await fileSha256(file)) !== expected.sha256) {
      await rm(file, { force: true });
      throw new BlobCorruptError(this.root, name);
    }
    return expected;
  }

  async info(name: string): Promise<BlobInfo | undefined> {
    const path = this.#path(name);
    const size = await stat(path).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
    if (size === undefined) return undefined;
    return { name, bytes: size, sha256: await readFile(`${path}${DIGEST}`, 'utf8') };
  }

  async list(prefix = ''): Promise<BlobInfo[]> {
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true }).catch(() => []);
    const names = entries
      .filter((e) => e.isFile() && !e.name.includes('#'))
      .map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join('/'))
      .filter((name) => name.startsWith(prefix))
      .sort();
    const infos = await Promise.all(names.map((name) => this.info(name)));
    return infos.filter((info) => info !== undefined);
  }

  async delete(name: string): Promise<void> {
    const path = this.#path(name);
    await rm(path, { force: true });
    await rm(`${path}${DIGEST}`, { force: true });
  }
}
