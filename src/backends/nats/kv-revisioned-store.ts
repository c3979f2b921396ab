/**
 * A {@link RevisionedStore} on a JetStream KV bucket, replicated like the log:
 * a key's revision is its stream sequence, and `create` / `update` are the
 * bucket's own compare-and-set (expected last sequence), so two nodes racing
 * for one key cannot both win. Values are JSON.
 *
 * Replicas: 1. On nats-server 2.9.10 a bucket of 3 replicas let both of two
 * racing updates at the same revision through, 32 times in 100
 * (`bench/cluster/kv-cas-race.ts`); with 1 replica, never. A compare-and-set
 * that can let two writers win fences nothing, so the control record lives
 * on one server: while that server is down no node can take or renew the
 * lease, and batch cycles pause (ingest and queries go on, the log being
 * replicated); none can run twice. Raise it only on a server whose
 * compare-and-set holds under replication.
 *
 * A conflict is JetStream's "wrong last sequence" (10071). LESSONS.md warns
 * that replicated and single-replica buckets have answered conflicts with
 * different codes, so the message is matched too; any other failure is
 * thrown, and the caller reads the key again before deciding anything.
 *
 * @module
 */
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { loadKv, loadNats } from './nats-modules.ts';
import { openBucket, whileStreamSettles } from './publish-retry.ts';
import { parseRecord, type RecordCheck } from './record-schemas.ts';
import type { Revisioned, RevisionedStore } from './revisioned-store.ts';

const WRONG_LAST_SEQUENCE = 10071;

/** Whether a KV write failed because the key moved on: the compare-and-set lost, nothing is broken. */
export function isConflict(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  const message = String((error as { message?: unknown }).message ?? '');
  return code === WRONG_LAST_SEQUENCE || /wrong last sequence|key exists/i.test(message);
}

export interface KvStoreOptions {
  /** The bucket's name: prefix it with the cluster's name, as every stream is. */
  readonly bucket: string;
  /** Replicas of the bucket's stream. Default 1: see the module's note on 2.9's compare-and-set. */
  readonly replicas?: number;
}

/** How the values read are checked: a value that is not JSON of this shape is an `InvalidClusterRecordError` naming the bucket and key. */
export interface KvRecordShape<T> {
  readonly check: RecordCheck<T>;
  /** What the record is, for the error: `batch control record`. */
  readonly what: string;
  /** What happens while it is invalid, and what to do. */
  readonly advice: string;
}

/** Values taken as they parse: for tests that write the store themselves. */
const ANY: KvRecordShape<never> = { check: (value) => value as never, what: 'record', advice: 'rewrite it.' };

export class KvRevisionedStore<T> implements RevisionedStore<T> {
  private constructor(private readonly kv: KV, private readonly bucket: string, private readonly shape: KvRecordShape<T>, private readonly connection: NatsConnection) {}

  /** Opens the bucket, creating it if it is missing; values read are checked against `shape`. */
  static async open<T>(connection: NatsConnection, options: KvStoreOptions, shape: KvRecordShape<T> = ANY): Promise<KvRevisionedStore<T>> {
    const { Kvm } = await loadKv();
    // Read once as every node will, retried while a bucket just created elsewhere is not found yet; a missing key reads as null.
    const kv = await openBucket(() => new Kvm(connection).create(options.bucket, { replicas: options.replicas ?? 1, history: 1, allow_direct: false }), (bucket) => bucket.get('opened'));
    return new KvRevisionedStore<T>(kv, options.bucket, shape, connection);
  }

  /** The value of `key` and its revision; throws `InvalidClusterRecordError` when the value is not of the store's shape. */
  async get(key: string): Promise<Revisioned<T> | undefined> {
    const entry = await whileStreamSettles(() => this.kv.get(key));
    if (entry === null || entry.operation !== 'PUT') return undefined;
    const value = parseRecord(entry.string(), this.shape.check, { store: `KV bucket ${this.bucket}`, key, what: this.shape.what, advice: this.shape.advice });
    return { value, revision: entry.revision };
  }

  /**
   * Removes `key`'s value by overwriting its message in the servers' files
   * (JetStream's secure erase of one message): a KV delete or a newer
   * revision only marks it gone, and its bytes stay in the stream's blocks
   * until the server compacts them. For values that must not outlive their
   * use (an erasure's, `cluster-erasure.ts`); the key then reads as none.
   */
  async erase(key: string): Promise<void> {
    const revision = await this.revision(key);
    if (revision === undefined) return;
    const jsm = await (await loadNats()).jetstream.jetstreamManager(this.connection);
    await jsm.streams.deleteMessage(`KV_${this.bucket}`, revision, true);
  }

  async revision(key: string): Promise<number | undefined> {
    const entry = await whileStreamSettles(() => this.kv.get(key));
    return entry === null || entry.operation !== 'PUT' ? undefined : entry.revision;
  }

  create(key: string, value: T): Promise<number | undefined> {
    return whileStreamSettles(() => this.kv.create(key, JSON.stringify(value))).catch((error: unknown) => {
      if (isConflict(error)) return undefined;
      throw error;
    });
  }

  update(key: string, value: T, revision: number): Promise<number | undefined> {
    return whileStreamSettles(() => this.kv.update(key, JSON.stringify(value), revision)).catch((error: unknown) => {
      if (isConflict(error)) return undefined;
      throw error;
    });
  }
}
