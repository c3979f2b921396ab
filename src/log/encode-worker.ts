/**
 * The frame encoder's worker thread: encodes groups and hands the frames back
 * by transfer, so they are not copied on the way.
 *
 * @module
 */
import { workerData } from 'node:worker_threads';
import type { Field } from '../definitions/index.ts';
import { serveRequests } from '../util/worker-client.ts';
import { packedFrames, type EncodedFrames, type PackedFrameJob } from './frame-encoder.ts';

const fields = new Map<string, readonly Field[]>((workerData as { fields: [string, readonly Field[]][] }).fields);

serveRequests<readonly PackedFrameJob[], EncodedFrames>(
  (jobs) => {
    const frames = packedFrames(fields, jobs).map((frame) => frame.buffer as ArrayBuffer);
    return { reply: frames, transfer: frames };
  },
  // The main thread still holds the group and encodes it in place, where the error has a caller to reach.
  () => null,
);
