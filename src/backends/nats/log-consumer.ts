/**
 * A consumer of the log: follows each partition it is given (every one, by
 * default) from its first message or from where its filter left off,
 * applies the duplicate rule (`first-occurrence.ts`) to each, and
 * hands what counts to its listener, partition by partition in sequence
 * order. Two consumers on any nodes that have applied the same position have
 * been handed the same events: that is what lets every node's speed layer,
 * and the batch layer, agree.
 *
 * It also tells how far it has applied each partition, and waits for a
 * position (read-your-writes: an ingest answer carries one).
 *
 * @module
 */
import type { Catalog } from '../../definitions/index.ts';
import type { ClusterLog } from './cluster-log.ts';
import { PartitionPurgedError, PositionWaitTimeoutError } from './errors.ts';
import { FirstOccurrenceFilter, type FirstOccurrenceOptions, type Verdict } from './first-occurrence.ts';
import { reaches, type IngestPosition } from './ingest-position.ts';
import type { LogMessage } from './log-message.ts';
import type { Following } from './partition-reader.ts';

/** Told of every message, in sequence order within its partition. */
export type VerdictListener = (verdict: Verdict, partition: number) => void;

/** How often a long wait looks again at which partitions are still followed. */
const RECHECK_MS = 1_000;

export interface LogConsumerOptions extends FirstOccurrenceOptions {
  /** The catalog the rule reads keys with. Default: the log's. */
  readonly catalog?: Catalog;
  /**
   * One filter per partition that has already seen a prefix of it (fed from
   * an archive, or a replay): each partition is followed from the message
   * after the last its filter saw; null leaves a partition unfollowed until
   * {@link LogConsumer.refollow}. Default: new filters, from each partition's first message.
   */
  readonly filters?: readonly (FirstOccurrenceFilter | null)[];
  /**
   * Told if following a partition ends with an error (the consumer then
   * stops advancing there), and of a partition whose stream no longer holds
   * where its filter left off when the consumer starts (`PartitionPurgedError`):
   * that partition is left unfollowed, the others start.
   */
  readonly onError?: (error: unknown, partition: number) => void;
  /** Handed every message before the duplicate rule reads it, in sequence order within its partition (the batch node keeps them to archive). */
  readonly onMessage?: (message: LogMessage) => void;
}

interface Waiter {
  readonly wanted: IngestPosition;
  resolve(): void;
}

export class LogConsumer {
  readonly #filters: (FirstOccurrenceFilter | null)[];
  readonly #applied: number[];
  readonly #following: (Following | undefined)[] = [];
  #waiters: Waiter[] = [];

  private constructor(
    filters: (FirstOccurrenceFilter | null)[],
    private readonly log: ClusterLog,
    private readonly listener: VerdictListener,
    private readonly options: LogConsumerOptions,
  ) {
    this.#filters = filters;
    this.#applied = filters.map((f) => f?.lastSeq ?? 0);
  }

  /** Starts following every partition of `log`: from its first message, or after what `options.filters` saw. */
  static async start(log: ClusterLog, listener: VerdictListener, options: LogConsumerOptions = {}): Promise<LogConsumer> {
    const catalog = options.catalog ?? log.catalog;
    const filters = options.filters !== undefined ? [...options.filters] : Array.from({ length: log.partitions }, () => new FirstOccurrenceFilter(catalog, options));
    if (filters.length !== log.partitions) throw new Error(`${filters.length} filters for ${log.partitions} partitions`);
    const consumer = new LogConsumer(filters, log, listener, options);
    try {
      for (let p = 0; p < log.partitions; p++) {
        if (filters[p] === null) continue;
        await consumer.#follow(p).catch((error: unknown) => {
          if (!(error instanceof PartitionPurgedError)) throw error;
          consumer.#filters[p] = null;
          options.onError?.(error, p);
        });
      }
    } catch (error) {
      await consumer.stop();
      throw error;
    }
    return consumer;
  }

  /** Each partition's duplicate rule, as far as it has applied it; null for a partition not followed. */
  get filters(): readonly (FirstOccurrenceFilter | null)[] {
    return this.#filters;
  }

  /** Whether partition `p` is followed. */
  follows(p: number): boolean {
    return this.#filters[p] !== null;
  }

  async #follow(p: number): Promise<void> {
    const filter = this.#filters[p]!;
    const following = await this.log.follow(p, filter.lastSeq + 1, (message) => {
      this.options.onMessage?.(message);
      const verdict = filter.admit(message);
      this.#applied[p] = message.seq;
      this.listener(verdict, p);
      this.#wake();
    });
    this.#following[p] = following;
    following.done.catch((error: unknown) => {
      // Ended by an error, not by a stop: the partition is no longer followed (nothing waits on it for good), until refollowed.
      if (this.#following[p] === following) this.#filters[p] = null;
      this.options.onError?.(error, p);
    });
  }

  /**
   * Follows partition `p` again, from after what `filter` saw: after a
   * {@link PartitionDivergedError}, the owner drops what it derived from the
   * partition past a cutoff, and re-reads it from there with the rule's
   * state at that cutoff. The applied position goes back with it.
   * `whileStopped` runs between the old reading's end and the new one's start.
   */
  async refollow(p: number, filter: FirstOccurrenceFilter, whileStopped: () => void = () => {}): Promise<void> {
    await this.#following[p]?.stop();
    // Nothing of the old reading reaches the listener past here: the owner resets what it derived.
    whileStopped();
    this.#filters[p] = filter;
    this.#applied[p] = filter.lastSeq;
    await this.#follow(p).catch((error: unknown) => {
      this.#filters[p] = null;
      throw error;
    });
  }

  /**
   * Stops following partition `p` (another node reads it now): nothing of it
   * reaches the listener once this resolves, and it is no longer waited for.
   */
  async unfollow(p: number): Promise<void> {
    const following = this.#following[p];
    this.#following[p] = undefined;
    this.#filters[p] = null;
    await following?.stop();
  }

  /** Per partition, the sequence of the last message applied. */
  get applied(): IngestPosition {
    return [...this.#applied];
  }

  /** Resolves once every partition is applied at least to `wanted`; {@link PositionWaitTimeoutError} after `timeoutMs`. */
  waitFor(wanted: IngestPosition, timeoutMs: number): Promise<void> {
    if (reaches(this.#applied, wanted)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        wanted,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new PositionWaitTimeoutError(wanted, this.applied, timeoutMs));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /**
   * Like {@link waitFor}, for the partitions followed: one whose following
   * ends meanwhile (an error; it is read again later) is no longer waited
   * for, so a wait never outlasts the reading it waits on.
   */
  async waitForFollowed(wanted: IngestPosition, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const followed = wanted.map((seq, p) => (this.follows(p) ? seq : 0));
      try {
        return await this.waitFor(followed, Math.max(1, Math.min(RECHECK_MS, deadline - Date.now())));
      } catch (error) {
        if (!(error instanceof PositionWaitTimeoutError) || Date.now() >= deadline) throw error;
      }
    }
  }

  /** Waits until everything in the log when called is applied, in the partitions it follows. */
  async catchUp(log: ClusterLog, timeoutMs: number): Promise<IngestPosition> {
    const ends = await log.ends();
    await this.waitForFollowed(ends, timeoutMs);
    return ends;
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const ready = this.#waiters.filter((w) => reaches(this.#applied, w.wanted));
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  /** Stops following every partition. */
  async stop(): Promise<void> {
    await Promise.all(this.#following.map((f) => f?.stop()));
  }
}
