/**
 * Starts a worker thread whose entry module is TypeScript. The worker
 * registers tsx itself, because Node 20 does not apply a parent's module hooks
 * to a worker's entry module, and it gets none of the parent's flags (a
 * profiler, an inspector, tsx's hooks), which are not its business.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';

/** The worker, still ref'd: unref it once its listeners are attached, or an idle one holds the process open. */
export function startTsWorker(entry: URL, workerData: unknown): Worker {
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, execArgv: [], workerData });
}
