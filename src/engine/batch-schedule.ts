/**
 * Runs batch cycles on a fixed period. A cycle starts only after the previous
 * one ended (no pile-up when a batch takes longer than the period), and is
 * skipped when no event arrived since the last cutoff.
 *
 * @module
 */
import type { BatchSummary, EngineLogger } from './engine-types.ts';
import type { ServedEngine } from './served-engine.ts';

export class BatchSchedule {
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly tandem: ServedEngine,
    private readonly periodMs: number,
    private readonly logger: EngineLogger,
    private readonly onPublished: (summary: BatchSummary) => void = () => {},
  ) {}

  start(): void {
    this.#stopped = false;
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tick(), this.periodMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    try {
      if (this.tandem.hasNewEvents()) this.onPublished(await this.tandem.runBatch());
    } catch (error) {
      this.logger.error({ err: error }, 'scheduled batch cycle failed; the previous version keeps serving');
    } finally {
      this.#arm();
    }
  }
}
