/**
 * Checksums for the files Tandem writes besides the log (whose frames carry
 * their own CRC-32): a SHA-256 of each data file, kept in the manifest that
 * lists it, and a SHA-256 of each manifest's own content, kept inside it. A
 * flipped bit in a cutoff or a row count would otherwise parse as valid JSON
 * and serve wrong numbers.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Bytes read at a time: a read stream's 64 KiB chunks made hashing a 400 MB file 1.7x slower than the hash itself. */
const READ_BYTES = 4 << 20;

/** The SHA-256 of a file's bytes, in hex. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    for (let read = await handle.read(buffer, 0, READ_BYTES, null); read.bytesRead > 0; read = await handle.read(buffer, 0, READ_BYTES, null)) {
      hash.update(buffer.subarray(0, read.bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** Why a file could not be read, in words for an error message. */
export function readFailure(error: unknown): string {
  return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it is missing' : (error as Error).message;
}

function contentSha256(value: object): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** `value` with a `checksum` of its JSON appended; write it with `JSON.stringify`. */
export function withChecksum<T extends object>(value: T): T & { readonly checksum: string } {
  return { ...value, checksum: contentSha256(value) };
}

/**
 * Whether parsed JSON written by {@link withChecksum} is intact. JSON.parse
 * keeps key order, so re-serialising without the checksum gives the bytes it
 * was computed over. One without a checksum is not intact: Tandem has
 * always written one.
 */
export function checksumMatches(parsed: { readonly checksum?: unknown }): boolean {
  const { checksum, ...content } = parsed;
  if (checksum === undefined) return false;
  return checksum === contentSha256(content);
}
