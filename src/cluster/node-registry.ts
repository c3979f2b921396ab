/**
 * Who is in the cluster: every node writes a heartbeat (its name, address,
 * applied positions and batch version) to a KV bucket every second, and reads
 * the others'. Status and the dashboard show it; nothing decides by it (the
 * batch lease does its own compare-and-set), so a plain put is enough.
 *
 * @module
 */
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { loadKv } from './nats-modules.ts';

export interface Heartbeat {
  readonly node: string;
  readonly url: string | null;
  readonly applied: readonly number[];
  readonly batchVersion: number | null;
  /** Epoch ms when written. */
  readonly at: number;
}

/** Heartbeats older than this are not listed: the node is gone, or cut off. */
export const FORGET_AFTER_MS = 60_000;

/** KV keys may not hold every character a node name might; hex keeps any name. */
const keyOf = (node: string) => `node.${Buffer.from(node, 'utf8').toString('hex')}`;

export class NodeRegistry {
  private constructor(private readonly kv: KV) {}

  static async open(connection: NatsConnection, bucket: string, replicas: number): Promise<NodeRegistry> {
    const { Kvm } = await loadKv();
    return new NodeRegistry(await new Kvm(connection).create(bucket, { replicas, history: 1 }));
  }

  async beat(heartbeat: Heartbeat): Promise<void> {
    await this.kv.put(keyOf(heartbeat.node), JSON.stringify(heartbeat));
  }

  /** The nodes heard from within {@link FORGET_AFTER_MS}, by name. */
  async nodes(now = Date.now()): Promise<Heartbeat[]> {
    const beats: Heartbeat[] = [];
    for await (const key of await this.kv.keys('node.*')) {
      const entry = await this.kv.get(key);
      if (entry === null || entry.operation !== 'PUT') continue;
      const beat = JSON.parse(entry.string()) as Heartbeat;
      if (now - beat.at <= FORGET_AFTER_MS) beats.push(beat);
    }
    return beats.sort((a, b) => (a.node < b.node ? -1 : 1));
  }

  /** Removes this node's heartbeat when it stops cleanly. */
  async leave(node: string): Promise<void> {
    await this.kv.delete(keyOf(node));
  }
}
