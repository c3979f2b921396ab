/**
 * Who is in the cluster: every node writes a heartbeat (its name, address,
 * applied positions and batch version) to a KV bucket every second, and reads
 * the others'. Status and the dashboard show it, and the batch node purges
 * the log only below what every node listed has applied.
 *
 * A node's name is its key, so two processes under one name would overwrite
 * each other's heartbeats and `/v1/status` would show one of them. A node
 * therefore claims its name when it starts: each process has a random
 * instance id, written in its heartbeat, and a name whose entry belongs to
 * another instance that is still writing heartbeats is refused with
 * {@link NodeNameTakenError}. Whether it still writes is watched, not read
 * from the entry's timestamp (the other node's clock may differ from this
 * one's): an entry that does not change for {@link LIVENESS_MS} is a node
 * that died without leaving, and its name is taken over. A node that stops
 * cleanly removes its entry, so its name is free at once.
 *
 * @module
 */
import type { KV, KvEntry } from '@nats-io/kv';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { InvalidClusterRecordError, NodeNameTakenError } from './errors.ts';
import { isConflict } from './kv-revisioned-store.ts';
import { loadKv, loadNats, type NatsModules } from './nats-modules.ts';
import { DEFAULT_RETRY_POLICY, openBucket, retryTransient } from './publish-retry.ts';
import type { Heartbeat } from './heartbeat.ts';
import { heartbeatCheck, parseRecord } from './record-schemas.ts';

// nats-backend.ts (split from cluster-node.ts in #27) still imports the type from here.
export type { Heartbeat } from './heartbeat.ts';

/** Heartbeats older than this are not listed: the node is gone, or cut off. */
export const FORGET_AFTER_MS = 60_000;

/** How long a name's entry is watched for a heartbeat before its node is taken for dead: five heartbeats. */
export const LIVENESS_MS = 5_000;

const WATCH_EVERY_MS = 250;
/** Claims lost to a write that came between the read and the compare-and-set, before giving up. */
const CLAIM_ATTEMPTS = 5;

/** KV keys may not hold every character a node name might; hex keeps any name. */
const keyOf = (node: string) => `node.${Buffer.from(node, 'utf8').toString('hex')}`;

const taken = (beat: Heartbeat, livenessMs: number) =>
  new NodeNameTakenError(beat.node, beat.url ?? null, beat.host === undefined ? null : `${beat.host} (pid ${beat.pid})`, livenessMs);

/** Every node's view of the registry: the heartbeats heard from, and entries that are not heartbeats. */
export interface Census {
  readonly nodes: Heartbeat[];
  /** Entries that do not read as a heartbeat: how far their node applied the log is unknown. */
  readonly invalid: InvalidClusterRecordError[];
}

const ADVICE = 'the node under that name rewrites it with its next heartbeat; until then the log is not purged, since how far that node applied it is unknown.';

export class NodeRegistry {
  private constructor(private readonly kv: KV, private readonly bucket: string, private readonly nats: NatsModules, private readonly jsm: JetStreamManager) {}

  static async open(connection: NatsConnection, bucket: string, replicas: number): Promise<NodeRegistry> {
    const { Kvm } = await loadKv();
    const nats = await loadNats();
    return new NodeRegistry(await openBucket(() => new Kvm(connection).create(bucket, { replicas, history: 1 })), bucket, nats, await nats.jetstream.jetstreamManager(connection));
  }

  /**
   * The keys of every entry, as the bucket's stream holds them at one
   * moment. Not KV's `keys()`: that is a live consumer, which lists a key
   * written during the listing twice, or misses it when the listing ends
   * before the key's new message is delivered (a census under steady
   * heartbeats saw 9 nodes of 12).
   */
  async #keys(): Promise<string[]> {
    const prefix = `$KV.${this.bucket}.`;
    const info = await this.jsm.streams.info(`KV_${this.bucket}`, { subjects_filter: `${prefix}node.*` });
    return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length)).sort();
  }

  /** The heartbeat in `entry`, undefined when there is none; throws {@link InvalidClusterRecordError} when it is not one. */
  #beatOf(entry: KvEntry | null): Heartbeat | undefined {
    if (entry === null || entry.operation !== 'PUT') return undefined;
    return parseRecord(entry.string(), heartbeatCheck, { store: `KV bucket ${this.bucket}`, key: entry.key, what: 'heartbeat', advice: ADVICE });
  }

  /** The heartbeat in `entry`, or undefined when there is none or it is not one. */
  #validBeatOf(entry: KvEntry | null): Heartbeat | undefined {
    try {
      return this.#beatOf(entry);
    } catch (error) {
      if (error instanceof InvalidClusterRecordError) return undefined;
      throw error;
    }
  }

  /**
   * Writes `heartbeat` as the first of its instance, unless another instance
   * still beats under its name: then throws {@link NodeNameTakenError}. Waits
   * up to `livenessMs` when the name's entry is another instance's, recent,
   * and silent so far.
   */
  async claim(heartbeat: Heartbeat, livenessMs = LIVENESS_MS): Promise<void> {
    const key = keyOf(heartbeat.node);
    let holder: Heartbeat | undefined;
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const entry = await this.#get(key);
      holder = this.#validBeatOf(entry);
      // An entry that is not a heartbeat may still be a live node's, garbled: it is watched like a silent one.
      const unknown = entry !== null && entry.operation === 'PUT' && holder === undefined;
      if (unknown || (holder !== undefined && holder.instance !== heartbeat.instance && Date.now() - holder.at <= FORGET_AFTER_MS)) {
        const live = await this.#beating(key, entry!.revision, heartbeat.instance, livenessMs);
        if (live !== undefined) throw taken(live, livenessMs);
      }
      if (await this.#write(key, heartbeat, entry?.revision ?? 0)) return;
    }
    throw taken(holder ?? heartbeat, livenessMs);
  }

  /** The heartbeat another instance writes to `key` after `revision` within `ms`, or undefined when none comes (or the entry is removed). */
  async #beating(key: string, revision: number, instance: string, ms: number): Promise<Heartbeat | undefined> {
    for (const deadline = Date.now() + ms; Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, WATCH_EVERY_MS));
      const entry = await this.#get(key);
      if (entry === null || entry.revision === revision) continue;
      const beat = this.#validBeatOf(entry);
      return beat?.instance === instance ? undefined : beat;
    }
    return undefined;
  }

  /**
   * Reads `key`, retrying what may clear by itself: a bucket just created
   * answered reads with timeouts for a moment on NATS 2.9 (seen when three
   * nodes of a new cluster started at once).
   */
  #get(key: string): Promise<KvEntry | null> {
    return retryTransient(this.nats, DEFAULT_RETRY_POLICY.retryForMs, () => this.kv.get(key));
  }

  /**
   * Writes `heartbeat` if `key` is still at `revision` (0: never written);
   * false when another write came first. A write retried after a timeout may
   * find its own first attempt stored: it then loses, and the claim reads
   * its own entry and writes again.
   */
  async #write(key: string, heartbeat: Heartbeat, revision: number): Promise<boolean> {
    const value = JSON.stringify(heartbeat);
    try {
      await retryTransient(this.nats, DEFAULT_RETRY_POLICY.retryForMs, () => (revision === 0 ? this.kv.create(key, value) : this.kv.update(key, value, revision)));
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  async beat(heartbeat: Heartbeat): Promise<void> {
    await this.kv.put(keyOf(heartbeat.node), JSON.stringify(heartbeat));
  }

  /** The nodes heard from within {@link FORGET_AFTER_MS}, by name. */
  async nodes(now = Date.now()): Promise<Heartbeat[]> {
    return (await this.census(now)).nodes;
  }

  /** The nodes heard from within {@link FORGET_AFTER_MS}, by name, and the entries that are not heartbeats. */
  async census(now = Date.now()): Promise<Census> {
    const beats: Heartbeat[] = [];
    const invalid: InvalidClusterRecordError[] = [];
    for (const key of await this.#keys()) {
      try {
        const beat = this.#beatOf(await this.kv.get(key));
        if (beat !== undefined && now - beat.at <= FORGET_AFTER_MS) beats.push(beat);
      } catch (error) {
        if (!(error instanceof InvalidClusterRecordError)) throw error;
        invalid.push(error);
      }
    }
    return { nodes: beats.sort((a, b) => (a.node < b.node ? -1 : 1)), invalid };
  }

  /** Removes the heartbeat of `node` when it stops cleanly, unless another instance has taken the name over since. */
  async leave(node: string, instance: string): Promise<void> {
    const key = keyOf(node);
    const entry = await this.#get(key);
    if (entry === null || this.#validBeatOf(entry)?.instance !== instance) return;
    await this.kv.delete(key, { previousSeq: entry.revision });
  }
}
