/**
 * The worker thread that splits sealed segments for export (see
 * `segment-split.ts`), so that the main thread keeps answering meanwhile.
 *
 * @module
 */
import { lowerThreadPriority } from '../util/background-priority.ts';
import { serveRequests } from '../util/worker-client.ts';
import { splitSegment, type SplitReply, type SplitRequest } from './segment-split.ts';

// A split can wait; the main thread's ingests and queries cannot (see background-priority.ts).
lowerThreadPriority();

serveRequests<SplitRequest, SplitReply | null>(
  (request) => ({ reply: splitSegment(request) }),
  // An unexpected failure (no disk space for the files, say): the main thread splits the segment itself and meets it there.
  () => null,
);
