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
import { Worker } from 'node:worker_threads';
import type { Field } from '../definitions/index.ts';
import { encodeFrame } from './frame.ts';
import { ndjsonText } from './ndjson-text.ts';
import type { RowColumns } from './row-columns.ts';

/** One frame to encode: `rows` get offsets from `firstOffset` on. */
export interface FrameJob {
  readonly eventType: string;
  readonly firstOffset: number;
  readonly rows: RowColumns;
}

export type FieldsByType = ReadonlyMap<string, readonly Field[]>;

/** Groups smaller than this are encoded in place: a worker round trip (about 0.1 ms) would cost them more than it saves. */
export const WORKER_MIN_ROWS = 2048;

/** The frames of `jobs`, in order. What the worker runs, and the in-place fallback. */
export function encodeFrames(fields: FieldsByType, jobs: readonly FrameJob[]): Buffer[] {
  return jobs.map((job) => encodeFrame(job.eventType, job.firstOffset, job.rows.count, ndjsonText(fields.get(job.eventType)!, job.rows, job.firstOffset)));
}

/** From the worker: it is ready; a job's frames; or a job it could not encode. */
type WorkerMessage = { ready: true } | { id: number; frames: ArrayBuffer[] } | { id: number };

interface InFlight {
  readonly jobs: readonly FrameJob[];
  resolve(frames: Buffer[]): void;
}

export interface FrameEncoderOptions {
  readonly fields: FieldsByType;
  /** Told once if the worker dies; encoding goes on in place. */
  readonly onWorkerFailed?: (error: unknown) => void;
  /** The worker's module; tests point it elsewhere to watch a worker fail. */
  readonly workerEntry?: URL;
}

export class FrameEncoder {
  readonly #fields: FieldsByType;
  readonly #onWorkerFailed: (error: unknown) => void;
  readonly #workerEntry: URL;
  #worker: Worker | undefined;
  #ready = false;
  #failed = false;
  #nextId = 0;
  readonly #inFlight = new Map<number, InFlight>();

  constructor(options: FrameEncoderOptions) {
    this.#fields = options.fields;
    this.#onWorkerFailed = options.onWorkerFailed ?? (() => undefined);
    this.#workerEntry = options.workerEntry ?? new URL('./encode-worker.ts', import.meta.url);
  }

  /** Whether large groups go to the worker now (false before it is ready, and after it fails). */
  get onWorker(): boolean {
    return this.#ready;
  }

  /** The frames of `jobs`, in order. */
  async encode(jobs: readonly FrameJob[]): Promise<Buffer[]> {
    const rows = jobs.reduce((n, job) => n + job.rows.count, 0);
    if (rows >= WORKER_MIN_ROWS && !this.#failed) {
      try {
        this.#start();
      } catch (error) {
        this.#fail(error);
      }
      if (this.#ready) return this.#post(jobs);
    }
    return encodeFrames(this.#fields, jobs);
  }

  #post(jobs: readonly FrameJob[]): Promise<Buffer[]> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      // Held while a job is out, so that a script awaiting an append does not exit under it.
      if (this.#inFlight.size === 0) this.#worker!.ref();
      this.#inFlight.set(id, { jobs, resolve });
      this.#worker!.postMessage({ id, jobs });
    });
  }

  #start(): void {
    if (this.#worker !== undefined) return;
    const worker = new Worker(bootstrap(this.#workerEntry), {
      eval: true,
      // The parent's flags (a profiler, an inspector, tsx's hooks) are not the worker's business; it loads tsx itself.
      execArgv: [],
      workerData: { fields: [...this.#fields] },
    });
    // An idle worker must not keep the process alive: an engine left open should not hang an exit.
    worker.unref();
    worker.on('message', (message: WorkerMessage) => this.#receive(message));
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => this.#fail(new Error(`the frame encoder worker exited with code ${code}`)));
    this.#worker = worker;
  }

  #receive(message: WorkerMessage): void {
    if ('ready' in message) {
      this.#ready = true;
      return;
    }
    const inFlight = this.#inFlight.get(message.id);
    if (inFlight === undefined) return;
    this.#inFlight.delete(message.id);
    if (this.#inFlight.size === 0) this.#worker?.unref();
    inFlight.resolve('frames' in message ? message.frames.map((b) => Buffer.from(b)) : encodeFrames(this.#fields, inFlight.jobs));
  }

  /** Groups the dead worker held are encoded in place: they were cloned to it, not moved. */
  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#ready = false;
    this.#onWorkerFailed(error);
    for (const [id, inFlight] of this.#inFlight) {
      this.#inFlight.delete(id);
      inFlight.resolve(encodeFrames(this.#fields, inFlight.jobs));
    }
  }

  /** Stops the worker. Called once nothing is being encoded. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#failed = true;
    this.#worker = undefined;
    if (worker !== undefined) {
      worker.removeAllListeners('exit');
      await worker.terminate();
    }
  }
}

/**
 * The worker's entry: it registers tsx itself, because Node 20 does not apply
 * a parent's module hooks to a worker's entry module.
 */
function bootstrap(entry: URL): string {
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
}
