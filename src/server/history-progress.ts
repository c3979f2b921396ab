/**
 * Where a history file sent to the server is: arriving, imported, then
 * published. `GET /v1/status` shows it under `history` while it runs, and
 * the one import it tracks is also the server's guard against a second.
 *
 * @module
 */
import type { HistoryProgress } from '../engine/index.ts';
import { HistoryImportRunningError } from './errors.ts';

/**
 * The `history` field of `GET /v1/status`, present while an upload runs.
 *
 * @example
 * ```ts
 * const { history } = await client.status();
 * if (history !== undefined) console.log(`${history.phase} ${history.file}: ${history.rowsDone}/${history.rowsKnown} rows`);
 * ```
 */
export interface HistoryUploadStatus {
  readonly eventType: string;
  /** `uploading` while the file arrives, then the import's own phases. */
  readonly phase: 'uploading' | HistoryProgress['phase'];
  /** The file's name as the client gave it. */
  readonly file: string;
  /** Bytes of the file received so far. */
  readonly bytesReceived: number;
  /** Rows read so far, and rows in the file as far as known (0 while uploading). */
  readonly rowsDone: number;
  readonly rowsKnown: number;
}

/**
 * The one upload a server runs at a time.
 *
 * @example
 * ```ts
 * const upload = tracker.begin('order', 'orders-2023.parquet');   // HistoryImportRunningError when one runs
 * try { upload.received(65_536); … } finally { upload.end(); }
 * ```
 */
export class HistoryUploadTracker {
  #current: Upload | undefined;

  /** Claims the server's one import for `eventType`, or throws {@link HistoryImportRunningError}. */
  begin(eventType: string, file: string): Upload {
    if (this.#current !== undefined) throw new HistoryImportRunningError(this.#current.status.eventType);
    const upload = new Upload(eventType, file, () => {
      if (this.#current === upload) this.#current = undefined;
    });
    this.#current = upload;
    return upload;
  }

  /** The running upload's status, or undefined when none runs. */
  status(): HistoryUploadStatus | undefined {
    return this.#current?.status;
  }
}

/** One upload's progress; `end` releases the server's import. */
export class Upload {
  #status: HistoryUploadStatus;

  constructor(eventType: string, file: string, readonly end: () => void) {
    this.#status = { eventType, phase: 'uploading', file, bytesReceived: 0, rowsDone: 0, rowsKnown: 0 };
  }

  get status(): HistoryUploadStatus {
    return this.#status;
  }

  received(bytes: number): void {
    this.#status = { ...this.#status, bytesReceived: this.#status.bytesReceived + bytes };
  }

  /** The import's own progress; its file name is the temporary file's, so the client's is kept. */
  imported(progress: HistoryProgress): void {
    this.#status = { ...this.#status, phase: progress.phase, rowsDone: progress.rowsDone, rowsKnown: progress.rowsKnown };
  }
}
