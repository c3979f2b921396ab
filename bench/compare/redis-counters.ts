/**
 * The Redis peer: one hash per (customer, day) with count, units and cost
 * counters per hour, kept by pipelined HINCRBY. A point query is one HGETALL.
 * Redis here keeps nothing on disk, so its acknowledgements are not durable.
 */
import { Redis } from 'ioredis';
import { PeerUnavailableError, type ComparedSystem } from './system.ts';
import { DAY, HOUR, type PointAnswer, type UsageEvent } from './workload.ts';

export class RedisCounters implements ComparedSystem {
  readonly name = 'Redis 7: pipelined HINCRBY';
  readonly durability = 'none (in memory, no AOF or snapshot on this machine)';
  readonly #prefix = `tandem-bench:${process.pid}:${Math.random().toString(36).slice(2, 8)}:`;
  #redis: Redis | undefined;

  async open(): Promise<void> {
    const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new PeerUnavailableError(`Redis is not reachable on 127.0.0.1:6379 (${(error as Error).message})`);
    }
    this.#redis = redis;
  }

  async ingest(events: readonly UsageEvent[]): Promise<void> {
    const pipe = this.#redis!.pipeline();
    for (const e of events) {
      const day = Math.floor(e.at / DAY) * DAY;
      const hour = Math.floor(e.at / HOUR) * HOUR;
      const key = `${this.#prefix}${e.customer}:${day}`;
      pipe.hincrby(key, `${hour}:n`, 1).hincrby(key, `${hour}:u`, e.units).hincrby(key, `${hour}:c`, Math.round(e.cost * 100));
    }
    const results = await pipe.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed !== undefined) throw failed[0];
  }

  async point(customer: string, dayStart: number): Promise<PointAnswer> {
    const fields = await this.#redis!.hgetall(`${this.#prefix}${customer}:${dayStart}`);
    const answer = { n: 0, units: 0, costCents: 0 };
    for (const [field, value] of Object.entries(fields)) {
      const kind = field.slice(field.indexOf(':') + 1);
      if (kind === 'n') answer.n += Number(value);
      else if (kind === 'u') answer.units += Number(value);
      else answer.costCents += Number(value);
    }
    return answer;
  }

  async close(): Promise<void> {
    const redis = this.#redis;
    if (redis === undefined) return;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.#prefix}*`, 'COUNT', 10_000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  }
}
