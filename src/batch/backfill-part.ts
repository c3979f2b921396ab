/**
 * One chunk of a view's backfill, computed: shared by the backfill that
 * writes it (`backfill-view.ts`) and the cycle that links it into a version
 * (`batch-runner.ts`).
 *
 * @module
 */
import type { AggregateTable } from '../aggregates/index.ts';

/** One chunk computed: its file in the backfill's directory (null when it held none of the view's rows) and its table. */
export interface BackfillPart {
  readonly file: string | null;
  readonly sha256?: string;
  readonly rows: number;
  readonly inputEvents: number;
  readonly from: number;
  readonly to: number;
  readonly table: AggregateTable;
}
