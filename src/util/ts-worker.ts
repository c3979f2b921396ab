/**
 * Starts a worker thread whose entry module is TypeScript. The worker
 * registers tsx itself, because Node 20 does not apply a parent's module hooks
 * to a worker's entry module, and it gets none of the parent's flags (a
 * profiler, an inspector, tsx's hooks), which are not its business.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';

export function startTsWorker(entry: URL, workerData: unknown): Worker {
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  const worker = new Worker(bootstrap, { eval: true, execArgv: [], workerData });
  // An idle worker must not keep the process alive: an engine left open should not hang an exit.
  worker.unref();
  return worker;
}
