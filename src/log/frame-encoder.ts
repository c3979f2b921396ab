/**
 * Encodes a commit group's frames, on a worker thread when the group is
 * large. Encoding is most of the log's own CPU cost per event; on its own
 * core it runs while the main thread validates the next requests and folds
 * committed events into the speed layer. The write and the fsync stay with
 * the log, so durability and failure handling do not depend on the worker.
 *
 * The worker starts on the first large group and small groups never wait for
 * it: until it is ready, and for good if it fails, frames are encoded in place.
 *
 * @module
 */
import type { EventColumns, Field } from '../definitions/index.ts';
import { WorkerClient } from '../util/worker-client.ts';
import { siblingModule } from '../util/start-worker.ts';
import { encodeFrame } from './frame.ts';
import { ndjsonBytes } from './ndjson-bytes.ts';
import { packInParts, type PackedColumns } from './packed-columns.ts';

/** One frame to encode: `rows` get offsets from `firstOffset` on. */
export interface FrameJob {
  readonly eventType: string;
  readonly firstOffset: number;
  readonly rows: EventColumns;
}

/** A frame job as it crosses to the worker. */
export interface PackedFrameJob {
  readonly eventType: string;
  readonly firstOffset: number;
  readonly rows: PackedColumns;
}

export type FieldsByType = ReadonlyMap<string, readonly Field[]>;

/** Groups smaller than this are encoded in place: the worker's round trip would cost them more than it saves. */
export const WORKER_MIN_ROWS = 2048;

/** The frames of packed jobs, in order: what the worker runs. */
export function packedFrames(fields: FieldsByType, jobs: readonly PackedFrameJob[]): Buffer[] {
  return jobs.map((job) => encodeFrame(job.eventType, job.firstOffset, job.rows.count, ndjsonBytes(fields.get(job.eventType)!, job.rows, job.firstOffset)));
}

/** The frames of `jobs`, in order, encoded in place. */
export function encodeFrames(fields: FieldsByType, jobs: readonly FrameJob[]): Buffer[] {
  return packedFrames(fields, packJobs(jobs));
}

/**
 * The jobs packed for encoding. A job whose strings are too long to join
 * into one string (V8 caps a string's length) becomes several, each with its
 * own offsets: frames are read one by one, so nothing depends on where a
 * group's frames split.
 */
function packJobs(jobs: readonly FrameJob[]): PackedFrameJob[] {
  return jobs.flatMap((job) => {
    let firstOffset = job.firstOffset;
    return packInParts(job.rows).map((rows) => {
      const part = { eventType: job.eventType, firstOffset, rows };
      firstOffset += rows.count;
      return part;
    });
  });
}

/** The worker's reply: the frames' memory, or nothing if it could not encode them. */
export type EncodedFrames = ArrayBuffer[] | null;

export interface FrameEncoderOptions {
  readonly fields: FieldsByType;
  /** Told once if the worker dies; encoding goes on in place. */
  readonly onWorkerFailed?: (error: unknown) => void;
  /** The worker's module; tests point it elsewhere to watch a worker fail. */
  readonly workerEntry?: URL;
}

export class FrameEncoder {
  readonly #fields: FieldsByType;
  readonly #worker: WorkerClient<readonly PackedFrameJob[], EncodedFrames>;

  constructor(options: FrameEncoderOptions) {
    this.#fields = options.fields;
    const entry = options.workerEntry ?? siblingModule('encode-worker', import.meta.url);
    this.#worker = new WorkerClient(entry, { fields: [...options.fields] }, options.onWorkerFailed ?? (() => undefined));
  }

  /** Whether large groups go to the worker now (false before it is ready, and after it fails). */
  get onWorker(): boolean {
    return this.#worker.ready;
  }

  /** The frames of `jobs`, in order. Groups the worker could not encode (or died holding) are encoded in place. */
  async encode(jobs: readonly FrameJob[]): Promise<Buffer[]> {
    const rows = jobs.reduce((n, job) => n + job.rows.count, 0);
    const packed = packJobs(jobs);
    if (rows >= WORKER_MIN_ROWS && this.#worker.available()) {
      const frames = await this.#worker.request(packed);
      if (frames != null) return frames.map((b) => Buffer.from(b));
    }
    return packedFrames(this.#fields, packed);
  }

  /** Stops the worker. Called once nothing is being encoded. */
  close(): Promise<void> {
    return this.#worker.close();
  }
}
