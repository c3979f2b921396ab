/** A worker that says it is ready, then dies on its first request: tests watch the caller carry on without it. */
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', () => process.exit(3));
parentPort!.postMessage({ ready: true });
