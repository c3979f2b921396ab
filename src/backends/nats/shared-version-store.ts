/**
 * Batch versions in cluster mode: written on the batch node's disk, uploaded
 * to the shared blob store under `batch/v<version>-t<term>/`, and published
 * by the lease's fenced compare-and-set. A version built incrementally
 * uploads only its new deltas: its manifest names the folders of the files
 * it keeps from the version it follows (`version-objects.ts`).
 *
 * @module
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { viewFiles, type BatchManifest, type PublishedVersion } from '../../batch/index.ts';
import { withChecksum } from '../../util/checksums.ts';
import type { BatchControl } from './batch-control.ts';
import { BatchFencedError } from './errors.ts';
import type { NamedBlobStore } from './object-blob-store.ts';
import type { ArchivedRange, SharedManifest } from './shared-manifest.ts';
import { folderOf, inheritedFrom, versionObjects, type VersionObject } from './version-objects.ts';
import { versionFolder } from './version-folder.ts';
import { pruneVersions } from './version-pruning.ts';

// Where they lived before version-folder.ts: the tests and older callers import them from here.
export { foldersBelow, versionFolder } from './version-folder.ts';

/** The version a cycle writes: fixed when the cycle starts. */
export interface NextVersion {
  readonly version: number;
  readonly term: number;
  readonly cutoffs: readonly number[];
  /** The objects of the version served now: a file it has under the same name and digest is referred to, not uploaded again. */
  readonly served?: readonly VersionObject[];
}

/** What a version's manifest adds to the batch manifest: the archive ranges, and the files other nodes computed and uploaded already. */
export interface VersionContents {
  readonly ranges: readonly ArchivedRange[];
  /** File names in this version's folder that the nodes who computed them uploaded (`cycle-parts.ts`). */
  readonly uploaded: ReadonlySet<string>;
}

/** The one version a batch cycle writes: its number, term and cutoffs are fixed when the cycle starts. */
export class SharedVersionStore {
  constructor(
    private readonly blobs: NamedBlobStore,
    private readonly control: BatchControl,
    private readonly next: NextVersion,
    /** The node's local directory of versions. */
    private readonly dir: string,
  ) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
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

  /**
   * Uploads the view files this version is the first to hold, then the
   * manifest, then publishes through the lease: refused with
   * {@link BatchFencedError} when the node lost it. Resolves with the
   * manifest as published (ranges and inherited files included).
   */
  async publish(dir: string, manifest: BatchManifest, contents: VersionContents): Promise<PublishedVersion> {
    const folder = versionFolder(this.next.version, this.next.term);
    const inherited = inheritedFrom(Object.values(manifest.views).flatMap(viewFiles), this.next.served ?? []);
    const shared = withChecksum<SharedManifest>({ ...manifest, ranges: contents.ranges, ...(Object.keys(inherited).length === 0 ? {} : { inherited }) });
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(shared, null, 2), { flush: true });
    for (const o of versionObjects(shared, folder)) {
      if (folderOf(o.blob) === folder && !contents.uploaded.has(o.file)) await this.blobs.put(o.blob, join(dir, o.file));
    }
    await this.blobs.put(`${folder}/manifest.json`, join(dir, 'manifest.json'));
    const outcome = await this.control.publish(this.next.version, this.next.cutoffs, this.next.term);
    if (!outcome.ok) throw new BatchFencedError(this.next.version, outcome.reason);
    return { manifest: shared, dir };
  }

  /** Deletes the shared objects of all but the newest `keep` versions (and never `published`'s), except those a kept version refers to. */
  async prune(keep: number, published: number): Promise<void> {
    await pruneVersions(this.blobs, { keep, published: { version: published, term: this.next.term }, partitions: this.next.cutoffs.length, versionsDir: this.dir });
  }
}
