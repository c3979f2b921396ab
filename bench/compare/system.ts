/** What the harness asks of Tandem and of every peer. */
import type { PointAnswer, TopRow, UsageEvent } from './workload.ts';

export interface ComparedSystem {
  readonly name: string;
  /** How durable an acknowledged ingest is, for the report. */
  readonly durability: string;
  /** Creates fresh, empty storage (its own database, keys or directory). */
  open(): Promise<void>;
  ingest(events: readonly UsageEvent[]): Promise<void>;
  /** Called once after the last ingest, before queries: e.g. an index a peer would build, or Tandem's batch. */
  prepareQueries?(): Promise<void>;
  /** Count, units and cost of one customer over [dayStart, dayStart + 1 day). */
  point(customer: string, dayStart: number): Promise<PointAnswer>;
  /** The 10 customers with the most units over all time, ties by name; undefined if the system has no such query. */
  top10?(): Promise<TopRow[]>;
  /** Removes what open() created. */
  close(): Promise<void>;
}

/** Thrown by open() when a peer's server is not reachable: the harness skips that peer and says so. */
export class PeerUnavailableError extends Error {}
