/**
 * Batch versions in cluster mode: written on the batch node's disk, uploaded
 * to the shared blob store under `batch/v<version>-t<term>/`, and published
 * by the lease's fenced compare-and-set. The term in the name keeps the
 * uploads of a fenced node (which may share a version number with the
 * holder's) from overwriting a published version's files.
 *
 * @module
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchManifest, PublishedVersion, VersionStore } from '../../batch/index.ts';
import type { BlobStore } from '../../master/index.ts';
import { withChecksum } from '../../util/checksums.ts';
import type { BatchControl } from './batch-control.ts';
import { BatchFencedError } from './errors.ts';
import type { ArchivedRange, SharedManifest } from './shared-manifest.ts';

/** The blob-store folder of a version. */
export function versionFolder(version: number, term: number): string {
  return `batch/v${String(version).padStart(8, '0')}-t${String(term).padStart(6, '0')}`;
}

/**
 * Of a node's local version folders (`names`, as under `batch/`), those older
 * than `published`, to delete once it serves. A folder of the same version
 * under an older term stays: it may be this node's own cycle, fenced but
 * still writing there, whose files vanishing would turn its answer into an
 * internal error (the next version's adoption removes it).
 */
export function foldersBelow(names: readonly string[], published: { readonly version: number; readonly term: number }): string[] {
  const versionOf = (folder: string) => folder.split('-')[0]!;
  const keep = versionOf(versionFolder(published.version, published.term).split('/')[1]!);
  return names.filter((name) => versionOf(name) < keep);
}

/** The one version a batch cycle writes: its number, term and cutoffs are fixed when the cycle starts. */
export class SharedVersionStore implements VersionStore {
  constructor(
    private readonly blobs: BlobStore,
    private readonly control: BatchControl,
    private readonly next: { readonly version: number; readonly term: number; readonly cutoffs: readonly number[]; readonly ranges: readonly ArchivedRange[] },
    /** The node's local directory of versions. */
    private readonly dir: string,
  ) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** Every node learns the published version from the control record, not from here. */
  async current(): Promise<PublishedVersion | undefined> {
    return undefined;
  }

  dirOf(version: number): string {
    return join(this.dir, versionFolder(version, this.next.term));
  }

  async begin(): Promise<{ version: number; dir: string }> {
    const dir = join(this.dir, versionFolder(this.next.version, this.next.term));
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return { version: this.next.version, dir };
  }

  /** Uploads the views, then the manifest, then publishes through the lease: refused with {@link BatchFencedError} when the node lost it. */
  async publish(dir: string, manifest: BatchManifest): Promise<PublishedVersion> {
    const folder = versionFolder(this.next.version, this.next.term);
    const shared: SharedManifest = { ...manifest, ranges: this.next.ranges };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(withChecksum(shared), null, 2), { flush: true });
    for (const entry of Object.values(manifest.views)) {
      if (entry.file !== null) await this.blobs.put(`${folder}/${entry.file}`, join(dir, entry.file));
    }
    await this.blobs.put(`${folder}/manifest.json`, join(dir, 'manifest.json'));
    const outcome = await this.control.publish(this.next.version, this.next.cutoffs, this.next.term);
    if (!outcome.ok) throw new BatchFencedError(this.next.version, outcome.reason);
    return { manifest, dir };
  }

  /** Deletes the shared copies of all but the newest `keep` versions (and never `published`). */
  async prune(keep: number, published: number): Promise<void> {
    const folders = new Map<string, string[]>();
    for (const blob of await this.blobs.list('batch/')) {
      const folder = blob.name.split('/').slice(0, 2).join('/');
      folders.set(folder, [...(folders.get(folder) ?? []), blob.name]);
    }
    const names = [...folders.keys()].sort();
    const keepName = versionFolder(published, 0).slice(0, -6);
    for (const folder of names.slice(0, Math.max(0, names.length - keep))) {
      if (folder.startsWith(keepName)) continue;
      for (const blob of folders.get(folder)!) await this.blobs.delete(blob);
    }
  }
}
