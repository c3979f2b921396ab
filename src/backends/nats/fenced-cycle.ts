/**
 * How a batch cycle learns it was fenced. A node frozen in the middle of a
 * cycle (SIGSTOP, a long pause of its VM or its garbage collector) wakes up
 * to find that any step may fail first: a NATS request whose timer ran out
 * while it was frozen (an upload, a read of the log or of the control
 * record), a replay of a range another node's cycle has purged since, an
 * archive that ends short. Whatever failed, once another node took the
 * lease of the cycle's term, the cycle was fenced, and that is what its
 * caller must hear (`batch_fenced`, not a 500): its version would have been
 * refused at publication anyway. While the node still holds that lease, or
 * when the record cannot be read to tell, the failure is the step's own.
 *
 * @module
 */
import type { EngineLogger } from '../../engine/index.ts';
import type { BatchControl } from './batch-control.ts';
import { BatchFencedError } from './errors.ts';

/** What a cycle has fixed so far: the lease term it runs under (null before it holds one) and the version it would publish. */
export interface CycleTerm {
  readonly term: number | null;
  readonly version: number;
}

type LeaseCheck = Pick<BatchControl, 'holds'>;

const lostReason = (term: number) => `this node lost the lease of term ${term} while the cycle ran`;

/**
 * Throws {@link BatchFencedError} once the record shows the cycle's lease
 * taken: checked between a cycle's steps, so a fenced node stops early
 * instead of archiving and computing for nothing. A record that cannot be
 * read stops nothing here; the next step, or the publication, decides.
 */
export async function assertLeaseHeld(cycle: CycleTerm, control: LeaseCheck): Promise<void> {
  if (cycle.term === null) return;
  const held = await control.holds(cycle.term).catch(() => true);
  if (!held) throw new BatchFencedError(cycle.version, lostReason(cycle.term));
}

/**
 * The error a failed cycle answers with: {@link BatchFencedError} (with the
 * step's error as its cause, and in the log) when the node lost the lease of
 * the cycle's term, else the step's error itself.
 */
export async function cycleFailure(error: unknown, cycle: CycleTerm, control: LeaseCheck, logger: EngineLogger): Promise<unknown> {
  if (error instanceof BatchFencedError || cycle.term === null) return error;
  const held = await holdsAfterRetries(control, cycle.term).catch((readError: unknown) => {
    logger.warn({ err: readError }, 'could not read the batch control record to tell whether a failed batch cycle was fenced');
    return true;
  });
  if (held) return error;
  logger.warn({ err: error, term: cycle.term, version: cycle.version }, 'a batch cycle failed after this node lost its lease: the cycle is fenced');
  return new BatchFencedError(cycle.version, lostReason(cycle.term), { cause: error });
}

const READ_ATTEMPTS = 3;
const READ_PAUSE_MS = 250;

/** Whether the lease of `term` is held, read up to three times: just after a freeze, the connection may still be reconnecting. */
async function holdsAfterRetries(control: LeaseCheck, term: number): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await control.holds(term);
    } catch (error) {
      if (attempt >= READ_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, READ_PAUSE_MS));
    }
  }
}
