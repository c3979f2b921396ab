import type { EngineLogger } from './engine-types.ts';
import { SpeedLayerFullError } from './errors.ts';

/** About 0.6 GB of speed-layer state at ~124 bytes per key. */
export const DEFAULT_MAX_SPEED_KEYS = 5_000_000;
export const DEFAULT_MAX_SPEED_BYTES = 2 ** 30;

export interface SpeedMemoryLimits {
  readonly maxSpeedKeys?: number;
  readonly maxSpeedBytes?: number;
}

/**
 * Keeps the speed layer's memory bounded, by keys and by estimated bytes:
 * past half either limit a batch run starts early (it absorbs the keys,
 * which the speed layer then drops); at a limit, ingest is refused until
 * that run publishes. A failed early run is not retried on every request:
 * each failure doubles the wait, from 5 s up to 5 min. The embedded engine
 * and a cluster node share it; a node that may not run the batch layer
 * (another holds the lease) only refuses, and the batch node runs early.
 */
export class SpeedMemoryGuard {
  #backoff = { until: 0, waitMs: 0 };

  constructor(
    private readonly limits: SpeedMemoryLimits,
    private readonly logger: EngineLogger,
    /** Whether an early run may start now (none running, the engine open, and this node allowed to run one). */
    private readonly canStart: () => boolean,
    private readonly startRun: () => Promise<unknown>,
  ) {}

  /** Throws {@link SpeedLayerFullError} at a limit; past half of one, starts an early batch run. */
  check(stats: { readonly keys: number; readonly bytes: number }): void {
    const keyLimit = this.limits.maxSpeedKeys ?? DEFAULT_MAX_SPEED_KEYS;
    const byteLimit = this.limits.maxSpeedBytes ?? DEFAULT_MAX_SPEED_BYTES;
    const [measure, held, limit] = stats.bytes / byteLimit > stats.keys / keyLimit ? ['bytes', stats.bytes, byteLimit] as const : ['keys', stats.keys, keyLimit] as const;
    if (held < limit / 2) return;
    if (Date.now() >= this.#backoff.until && this.canStart()) this.#startEarlyRun(measure, held, limit);
    if (held >= limit) throw new SpeedLayerFullError(held, limit, measure);
  }

  #startEarlyRun(measure: 'keys' | 'bytes', held: number, limit: number): void {
    this.logger.warn({ [measure]: held, limit }, `the speed layer is over half its ${measure === 'keys' ? 'key' : 'byte'} limit; starting a batch run early`);
    this.startRun().then(
      () => (this.#backoff = { until: 0, waitMs: 0 }),
      (error: unknown) => {
        const waitMs = Math.min(Math.max(this.#backoff.waitMs * 2, 5_000), 300_000);
        this.#backoff = { until: Date.now() + waitMs, waitMs };
        this.logger.error({ err: error, retryInMs: waitMs }, 'the early batch run failed; the previous version keeps serving');
      },
    );
  }
}
