/**
 * Whether a view change's `switching` mark still holds: the cycle that set
 * it (batch version and lease term) may yet publish the change, so a cancel
 * must be refused. A node judges from the control record as it last read
 * it, which may be behind: whatever that reading cannot rule out counts as
 * running, and only a version published in the cycle's place or a lease
 * that moved on or ran out frees the mark.
 *
 * @module
 */
import type { ControlRecord } from './batch-control.ts';

/**
 * Whether the cycle computing batch version `version` under lease term
 * `term` may still publish it, or published it, as `control` says at `now`
 * (`term` undefined: a mark written before marks named their term).
 *
 * @example
 * ```ts
 * markHolds({ lease: { holder: 'b', term: 4, expiresAt }, published: { version: 6, cutoffs, term: 3 } }, 7, 3);   // false: term 4 holds the lease
 * ```
 */
export function markHolds(control: ControlRecord, version: number, term: number | undefined, now = Date.now()): boolean {
  const { lease, published } = control;
  // Its version published: by this cycle when the terms match, in its place otherwise.
  if (published !== null && published.version >= version) return published.version === version && (term === undefined || published.term === term);
  // No lease, or one of an older term: this node read the record before the cycle took it.
  if (term === undefined || lease === null || lease.term < term) return true;
  return lease.term === term && lease.expiresAt > now;
}
