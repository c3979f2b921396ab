import { TandemError } from '../definitions/index.ts';

/** A cutoff that does not fall on a generation boundary: dropping at it would lose or double-count events. */
export class MisalignedCutoffError extends TandemError {
  readonly code = 'misaligned_cutoff';
  constructor(readonly cutoff: number, boundaries: readonly number[]) {
    super(`Cutoff ${cutoff} does not fall on a speed-layer boundary (${boundaries.join(', ')}).`);
  }
}
