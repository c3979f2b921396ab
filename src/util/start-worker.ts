/**
 * Starts a worker thread on an entry module. From the built package the entry
 * is JavaScript and starts as it is. Run from source (the tests, `tsx`), it is
 * TypeScript, and the worker registers tsx itself, because Node 20 does not
 * apply a parent's module hooks to a worker's entry module. Either way the
 * worker gets none of the parent's flags (a profiler, an inspector, loaders),
 * which are not its business.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';

/** The worker, still ref'd: unref it once its listeners are attached, or an idle one holds the process open. */
export function startWorker(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { execArgv: [], workerData });
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, execArgv: [], workerData });
}

/** A module beside `base` (an `import.meta.url`), in the language `base` itself runs as: `.ts` from source, `.js` once built. */
export function siblingModule(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}
