/**
 * Putting back what the object store lost, from the copies the nodes keep.
 * Every node keeps, on its own disk, the files of the version it serves
 * (`versions/batch/v…-t…/`) and the archive objects it wrote or read
 * (`cache/master/…`); the batch node holds every range it archived. When an
 * archive check finds objects of the served chain missing, the node uploads
 * each one it holds a copy of whose SHA-256 is the one the manifest lists.
 * The name and the bytes are both fixed by the manifest, so any node may do
 * this, without the lease, and two nodes doing it at once write the same.
 *
 * Only objects that are missing are put back. One found with other bytes is
 * left as it is and stays reported: a copy is never written over an object
 * another node may have put there.
 *
 * @module
 */
import { join } from 'node:path';
import { fileSha256 } from '../../util/checksums.ts';
import type { ChainPiece } from './archive-check.ts';
import type { MissingPiece } from './damage-report.ts';
import { ClusterBucketBrokenError } from './errors.ts';
import type { NamedBlobStore } from './object-blob-store.ts';

/** Where a node keeps local copies: the archive cache and the versions directory, both named like the blobs. */
export interface LocalCopies {
  /** `<data>/cluster/cache`: archived ranges and snapshots, as `master/...`. */
  readonly cacheDir: string;
  /** `<data>/cluster/versions`: the served version's files, as `batch/v…-t…/...`. */
  readonly versionsDir: string;
}

/** A blob store that can be created again when its bucket is gone. */
export interface RestorableBlobStore extends NamedBlobStore {
  /** Creates the bucket anew (empty) if it does not exist. */
  recreate(): Promise<void>;
  /** Destroys the bucket and creates it anew (empty): for one whose files NATS lost. */
  renew(): Promise<void>;
}

/** The local file that may hold a copy of `blob`. */
export function localCopyOf(blob: string, copies: LocalCopies): string {
  return blob.startsWith('batch/') ? join(copies.versionsDir, blob) : join(copies.cacheDir, blob);
}

/**
 * Uploads a good local copy of every piece found missing, creating the
 * bucket again first when it is gone; resolves with the blobs put back.
 */
export async function restoreMissing(
  blobs: RestorableBlobStore, pieces: readonly ChainPiece[], missing: readonly MissingPiece[], copies: LocalCopies,
): Promise<string[]> {
  const gone = new Set(missing.filter((m) => m.problem === 'missing' || m.problem.startsWith('the bucket ')).map((m) => m.blob));
  if (gone.size === 0) return [];
  const restored: string[] = [];
  // A failure to create the bucket again or to put an object back is not this check's to report: what is still
  // missing stays in status (archiveDamaged), and the next check, a few seconds on, tries again. Seen on NATS 2.9:
  // a put into a bucket destroyed and created again a moment before answers "no such file" for a while, or for good: such
  // a bucket is destroyed and created again, after a pause.
  if (missing.some((m) => m.problem.startsWith('the bucket '))) {
    try {
      await blobs.recreate();
    } catch {
      return restored;
    }
  }
  for (const piece of pieces) {
    if (!gone.has(piece.blob)) continue;
    const file = localCopyOf(piece.copy ?? piece.blob, copies);
    if ((await fileSha256(file).catch(() => undefined)) !== piece.sha256) continue;
    try {
      await blobs.put(piece.blob, file);
      restored.push(piece.blob);
    } catch (error) {
      // A bucket whose files NATS lost takes no write until it is created anew; the next check puts everything back.
      if (error instanceof ClusterBucketBrokenError) await blobs.renew().catch(() => undefined);
      // Gone again (destroyed while restoring), or not writable yet: the next check finds what is missing and starts over.
      break;
    }
  }
  return restored;
}
