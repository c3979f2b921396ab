/**
 * The frame encoder's worker thread: encodes groups and hands the frames back
 * by transfer, so they are not copied on the way.
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Field } from '../definitions/index.ts';
import { encodeFrames, type FrameJob } from './frame-encoder.ts';

const fields = new Map<string, readonly Field[]>((workerData as { fields: [string, readonly Field[]][] }).fields);
const port = parentPort!;

port.on('message', ({ id, jobs }: { id: number; jobs: FrameJob[] }) => {
  try {
    const frames = encodeFrames(fields, jobs).map((frame) => frame.buffer as ArrayBuffer);
    port.postMessage({ id, frames }, frames);
  } catch {
    // The main thread still holds the group and encodes it in place, where the error has a caller to reach.
    port.postMessage({ id });
  }
});
port.postMessage({ ready: true });
