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
  /**
   * The partitions whose speed layer the node holds whole (its own, those it
   * is taking over, its standby ones): where other nodes gather a query's
   * recent events. Absent from a node of a release before nodes divided the
   * speed layer, which holds every partition's.
   */
  readonly speed?: readonly number[];
  /**
   * The partitions the node reads (follows): `applied` counts for these
   * only. Absent from a node of a release before nodes divided the reading,
   * which reads every partition.
   */
  readonly reads?: readonly number[];
  /**
   * Per partition, the events the node holds of it (its archive's and its
   * speed layer's), for the partitions whose speed layer it holds; null for
   * the others. Absent from a node of an earlier release.
   */
  readonly events?: readonly (number | null)[];
  /** Epoch ms when written. */
  readonly at: number;
}
