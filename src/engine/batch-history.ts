import { TandemError } from '../definitions/index.ts';
import type { BatchManifest } from '../batch/index.ts';
import type { BatchFailure, BatchSummary, EngineLogger } from './engine-types.ts';

const RECENT_BATCHES = 20;

/** A summary's per-view figures, from the version's manifest. */
export function viewFigures(manifest: BatchManifest): BatchSummary['views'] {
  return Object.fromEntries(Object.entries(manifest.views).map(([n, v]) => [n, { rows: v.rows, durationMs: v.durationMs }]));
}

/**
 * What status pages say of batch cycles, for the embedded engine and a
 * cluster node alike: the recent publications, the failures in a row since
 * the last one, and the listeners told of each publication.
 */
export class BatchHistory {
  #recent: BatchSummary[] = [];
  #failing: BatchFailure | null = null;
  readonly #listeners = new Set<(summary: BatchSummary) => void>();

  constructor(private readonly logger: EngineLogger) {}

  get recent(): readonly BatchSummary[] {
    return this.#recent;
  }

  get failing(): BatchFailure | null {
    return this.#failing;
  }

  /** Records a publication, ends a run of failures, and tells every listener. */
  published(summary: BatchSummary): void {
    this.#failing = null;
    this.#recent = [summary, ...this.#recent].slice(0, RECENT_BATCHES);
    for (const listener of this.#listeners) {
      try {
        listener(summary);
      } catch (error) {
        // The version is published whatever a listener does; one failing listener must not hide it from the others.
        this.logger.error({ err: error }, 'a batch publication listener failed');
      }
    }
  }

  /** A run that fails leaves the published version serving; status and metrics say so until one succeeds. */
  failed(error: unknown): void {
    const now = new Date().toISOString();
    const message = error instanceof Error ? error.message : String(error);
    this.#failing = {
      consecutive: (this.#failing?.consecutive ?? 0) + 1,
      since: this.#failing?.since ?? now,
      lastAt: now,
      error: message.length > 500 ? `${message.slice(0, 499)}…` : message,
      code: error instanceof TandemError ? error.code : null,
    };
  }

  onPublished(listener: (summary: BatchSummary) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
