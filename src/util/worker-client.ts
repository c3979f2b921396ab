/**
 * Requests to a helper worker thread, with the main thread as the fallback.
 * The worker starts on first use; until it is ready, and for good once it has
 * died, {@link WorkerClient.available} says no and callers do the work in
 * place. A request the worker dies holding settles as `undefined`, so its
 * caller can do that one in place too: nothing is ever lost to a worker.
 *
 * @module
 */
import { parentPort, type Transferable, type Worker } from 'node:worker_threads';
import { startWorker } from './start-worker.ts';

type FromWorker<Reply> = { ready: true } | { id: number; reply: Reply };

export class WorkerClient<Request, Reply> {
  readonly #entry: URL;
  readonly #workerData: unknown;
  readonly #onFailed: (error: unknown) => void;
  #worker: Worker | undefined;
  #ready = false;
  #failed = false;
  #nextId = 0;
  readonly #inFlight = new Map<number, (reply: Reply | undefined) => void>();
  /** Callers of {@link whenReady} waiting for the worker to start. */
  #waiting: ((ready: boolean) => void)[] = [];

  /** `onFailed` is told once if the worker cannot start or dies. */
  constructor(entry: URL, workerData: unknown, onFailed: (error: unknown) => void) {
    this.#entry = entry;
    this.#workerData = workerData;
    this.#onFailed = onFailed;
  }

  /** Whether the worker is up and answering (false before it is ready, and after it dies). */
  get ready(): boolean {
    return this.#ready;
  }

  /** Whether requests can go to the worker now; starts it on the first call. */
  available(): boolean {
    if (this.#worker === undefined && !this.#failed) this.#start();
    return this.#ready;
  }

  /**
   * Resolves true once the worker answers (starting it if need be), false if
   * it cannot start or has died. For work that must not fall back to the
   * main thread merely because the worker is still starting: waiting for a
   * start costs less than stalling every request for as long as the work takes.
   */
  whenReady(): Promise<boolean> {
    if (this.available()) return Promise.resolve(true);
    if (this.#failed) return Promise.resolve(false);
    // Held while someone waits, so that a script awaiting the start does not exit under it.
    this.#worker!.ref();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Tells the callers of {@link whenReady} whether the worker came up. */
  #settleWaiting(ready: boolean): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    if (waiting.length > 0 && this.#inFlight.size === 0) this.#worker?.unref();
    for (const resolve of waiting) resolve(ready);
  }

  /** The worker's reply, or undefined if it died first. Only after {@link available} said yes. */
  request(message: Request, transfer: readonly Transferable[] = []): Promise<Reply | undefined> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      // Held while a request is out, so that a script awaiting it does not exit under it.
      if (this.#inFlight.size === 0) this.#worker!.ref();
      this.#inFlight.set(id, resolve);
      this.#worker!.postMessage({ id, message }, [...transfer]);
    });
  }

  #start(): void {
    try {
      const worker = startWorker(this.#entry, this.#workerData);
      worker.on('message', (message: FromWorker<Reply>) => this.#receive(message));
      worker.on('error', (error) => this.#fail(error));
      worker.on('exit', (code) => this.#fail(new Error(`the worker exited with code ${code}`)));
      // After the listeners: attaching a message listener refs the worker again.
      worker.unref();
      this.#worker = worker;
    } catch (error) {
      this.#fail(error);
    }
  }

  #receive(message: FromWorker<Reply>): void {
    if ('ready' in message) {
      this.#ready = true;
      this.#settleWaiting(true);
      return;
    }
    const resolve = this.#inFlight.get(message.id);
    this.#inFlight.delete(message.id);
    if (this.#inFlight.size === 0) this.#worker?.unref();
    resolve?.(message.reply);
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#ready = false;
    this.#settleWaiting(false);
    this.#onFailed(error);
    for (const [id, resolve] of this.#inFlight) {
      this.#inFlight.delete(id);
      resolve(undefined);
    }
  }

  /** Stops the worker. Call once nothing is in flight. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#failed = true;
    this.#ready = false;
    this.#settleWaiting(false);
    this.#worker = undefined;
    if (worker !== undefined) {
      worker.removeAllListeners('exit');
      await worker.terminate();
    }
  }
}

/**
 * The worker's side: answers each request with `handle`'s reply (and the
 * buffers to transfer with it), then says it is ready. A handler that throws
 * answers with `onError`'s reply instead, so the caller is never left waiting.
 */
export function serveRequests<Request, Reply>(
  handle: (message: Request) => { reply: Reply; transfer?: readonly Transferable[] },
  onError: (error: unknown) => Reply,
): void {
  const port = parentPort!;
  port.on('message', ({ id, message }: { id: number; message: Request }) => {
    let answer: { reply: Reply; transfer?: readonly Transferable[] };
    try {
      answer = handle(message);
    } catch (error) {
      answer = { reply: onError(error) };
    }
    port.postMessage({ id, reply: answer.reply }, [...(answer.transfer ?? [])]);
  });
  port.postMessage({ ready: true });
}
