/**
 * A node's heartbeat: what each node writes to the registry every second and
 * reads of the others. The registry writes it and `record-schemas.ts` checks
 * it as read back, so its shape lives apart from both.
 *
 * @module
 */

/** One node's entry in the registry (`<cluster>_nodes`). */
export interface Heartbeat {
  readonly node: string;
  /** The process writing it: random per process, so a restart under the same name is a new instance. */
  readonly instance: string;
  /** The machine it runs on, and its process id: where to look for it. */
  readonly host: string;
  readonly pid: number;
  readonly url: string | null;
  readonly applied: readonly number[];
  readonly batchVersion: number | null;
  /** Epoch ms when written. */
  readonly at: number;
}
