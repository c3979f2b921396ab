/**
 * A {@link BlobStore} on a JetStream Object Store bucket: the master dataset
 * and batch views shared by every node in cluster mode. Objects are streamed
 * in and out in chunks (128 KiB), never held whole in memory; reading uses
 * the streaming `get`, as `getBlob` was reported to stall after 16 chunks
 * (nats.js#430). The bucket checks each object's SHA-256 as it is read back,
 * and the digest is kept in hex beside it, the form the master manifests use.
 *
 * LESSONS.md: a bucket lives whole on its R servers (it is not a distributed
 * file system), and objects of hundreds of MB have failed at R=3, so the
 * archive keeps objects to one partition range and event type each.
 *
 * @module
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import type { ObjectInfo, ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { BlobCorruptError, BlobMissingError, checkBlobName, type BlobInfo, type BlobStore } from '../../master/index.ts';
import { fileSha256 } from '../../util/checksums.ts';
import { BucketStalledError, ClusterBucketBrokenError, ClusterBucketMissingError } from './errors.ts';
import { loadNats, loadObj } from './nats-modules.ts';
import { openBucket, STREAM_NOT_FOUND } from './publish-retry.ts';

export interface ObjectBlobStoreOptions {
  /** The bucket: prefix it with the cluster's name, as every stream is. */
  readonly bucket: string;
  /** Replicas of the bucket; 3 on a 3-server cluster. */
  readonly replicas: number;
  /** How long a listing or a read may go without an entry or a chunk before it is given up (default 15 s). */
  readonly stallMs?: number;
}

/** The SHA-256, in hex, from the object store's `SHA-256=<base64url>` digest. */
function hexDigest(info: ObjectInfo): string {
  return Buffer.from(info.digest.replace(/^SHA-256=/, ''), 'base64url').toString('hex');
}

function describe(info: ObjectInfo): BlobInfo {
  return { name: info.name, bytes: info.size, sha256: hexDigest(info) };
}

/** The pause between destroying a broken bucket and creating it again. */
const RENEW_PAUSE_MS = 1_000;
/** How long a listing or a read may go without an entry or a chunk before it is given up: far longer than NATS takes between two. */
const STALL_MS = 15_000;

/** A blob store that names itself in errors: `object store bucket shop_master`. */
export interface NamedBlobStore extends BlobStore {
  readonly name: string;
}

export class ObjectBlobStore implements NamedBlobStore {
  private constructor(
    private store: ObjectStore, readonly bucket: string, private readonly reopen: () => Promise<ObjectStore>, private readonly stallMs: number,
    private readonly connection?: NatsConnection,
  ) {}

  get name(): string {
    return `object store bucket ${this.bucket}`;
  }

  /** Opens the bucket, creating it if it is missing. */
  static async open(connection: NatsConnection, options: ObjectBlobStoreOptions): Promise<ObjectBlobStore> {
    const { Objm } = await loadObj();
    // Read once (a missing object reads as null), retried while a bucket just created by another node is not found yet.
    const open = () => openBucket(() => new Objm(connection).create(options.bucket, { replicas: options.replicas }), (store) => store.info('opened'));
    return new ObjectBlobStore(await open(), options.bucket, open, options.stallMs ?? STALL_MS, connection);
  }

  /** Creates the bucket again (empty) if it is gone, as opening does: what restoring the archive into a destroyed bucket starts with. */
  async recreate(): Promise<void> {
    this.store = await this.reopen();
  }

  /**
   * Destroys the bucket and creates it again, empty: for a bucket whose files
   * NATS lost ({@link ClusterBucketBrokenError}), where nothing can be read
   * or written. The pause between lets the server finish removing the old
   * files, which creating it again at once races with.
   */
  async renew(): Promise<void> {
    await this.store.destroy().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, RENEW_PAUSE_MS));
    this.store = await this.reopen();
  }

  async put(name: string, file: string): Promise<BlobInfo> {
    const data = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
    return describe(await this.#bucket(() => this.store.put({ name: checkBlobName(name) }, data)));
  }

  async get(name: string, file: string): Promise<BlobInfo> {
    const result = await this.#bucket(() => this.store.get(checkBlobName(name)));
    if (result === null || result.info.deleted) throw new BlobMissingError(this.bucket, name);
    // The client reads an object's chunks with a consumer of its own: if the bucket goes meanwhile, no chunk and no end ever comes.
    const stall = new AbortController();
    const timer = setTimeout(() => stall.abort(), this.stallMs);
    try {
      const chunks = Readable.fromWeb(result.data as NodeReadableStream<Uint8Array>);
      const watched = async function* (source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          timer.refresh();
          yield chunk;
        }
      };
      await pipeline(chunks, watched, createWriteStream(file), { signal: stall.signal });
      const failed = await result.error;
      if (failed !== null && failed !== undefined) throw failed;
      const info = describe(result.info);
      if ((await fileSha256(file)) !== info.sha256) throw new BlobCorruptError(this.bucket, name);
      return info;
    } catch (error) {
      await rm(file, { force: true });
      if (stall.signal.aborted) throw new BucketStalledError(this.bucket, `reading ${name}`, this.stallMs);
      if (error instanceof Error && /digest/i.test(error.message)) throw new BlobCorruptError(this.bucket, name);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async info(name: string): Promise<BlobInfo | undefined> {
    const info = await this.#bucket(() => this.store.info(checkBlobName(name)));
    return info === null || info.deleted ? undefined : describe(info);
  }

  async list(prefix = ''): Promise<BlobInfo[]> {
    const all = await this.#bucket(() => this.#listAll());
    const listed = all.filter((info) => !info.deleted && info.name.startsWith(prefix));
    return listed.map((info) => ({ ...describe(info), storedAt: Date.parse(info.mtime) })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /**
   * Every object's latest entry, as the client's own `list()` reads them (a
   * watch of the history only), but given up once no entry arrived for
   * `stallMs`: the client counts the entries it awaits up front,
   * and when the bucket is destroyed meanwhile the rest never come, so its
   * `list()` would wait for good and the archive check that asked with it.
   */
  async #listAll(): Promise<ObjectInfo[]> {
    // historyOnly ends the watch after the entries present when it starts: the option the client's list() passes, not in its types.
    const started = performance.now();
    const watch = await this.store.watch({ ignoreDeletes: true, includeHistory: true, historyOnly: true } as Parameters<ObjectStore['watch']>[0]).catch((error: unknown) => {
      // The watch's consumer is created by a request: a bucket destroyed meanwhile may leave it unanswered until the client's timeout.
      if (error instanceof Error && error.name === 'TimeoutError') throw new BucketStalledError(this.bucket, 'listing the objects', Math.round(performance.now() - started));
      throw error;
    });
    const all: ObjectInfo[] = [];
    let stalled = false;
    const timer = setTimeout(function stall() {
      stalled = true;
      watch.stop();
    }, this.stallMs);
    try {
      for await (const info of watch) {
        all.push(info);
        timer.refresh();
      }
    } finally {
      clearTimeout(timer);
    }
    if (stalled) throw new BucketStalledError(this.bucket, 'listing the objects', this.stallMs);
    return all;
  }

  async delete(name: string): Promise<void> {
    const info = await this.#bucket(() => this.store.info(checkBlobName(name)));
    if (info !== null && !info.deleted) await this.#bucket(() => this.store.delete(name));
  }

  /**
   * Deletes `name` after overwriting each of its chunk messages in the
   * servers' files (JetStream's secure erase of single messages): a plain
   * delete only marks them gone, and their bytes stay in the stream's
   * blocks until the server compacts them. For objects that held erased
   * values (`cluster-erasure.ts`); one request per 128 KiB chunk.
   */
  async erase(name: string): Promise<void> {
    const info = await this.#bucket(() => this.store.info(checkBlobName(name)));
    if (info === null || info.deleted) return;
    if (this.connection !== undefined) {
      const jsm = await (await loadNats()).jetstream.jetstreamManager(this.connection);
      const stream = `OBJ_${this.bucket}`;
      const subject = `$O.${this.bucket}.C.${info.nuid}`;
      // The last chunk, erased, until none is left: `last_by_subj` is what NATS 2.9 serves (not `next_by_subj`).
      for (;;) {
        const message = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(() => null);
        if (message === null) break;
        if (!(await jsm.streams.deleteMessage(stream, message.seq, true))) throw new Error(`Chunk ${message.seq} of object ${name} in bucket ${this.bucket} could not be erased.`);
      }
    }
    await this.#bucket(() => this.store.delete(name));
  }

  /** Runs a request of the bucket; a bucket that no longer exists is {@link ClusterBucketMissingError}. */
  async #bucket<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if ((error as { code?: unknown }).code === STREAM_NOT_FOUND) throw new ClusterBucketMissingError(this.bucket, error);
      // The server's own error when the stream's files went missing under it: seen on NATS 2.9 after a destroy and a create at once.
      const message = error instanceof Error ? error.message : '';
      if (error instanceof Error && error.name === 'JetStreamApiError' && /no such file or directory/.test(message)) throw new ClusterBucketBrokenError(this.bucket, message);
      throw error;
    }
  }
}
