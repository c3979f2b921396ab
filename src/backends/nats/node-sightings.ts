/**
 * When this node last saw each other node's heartbeat change, on this node's
 * own monotonic clock.
 *
 * A heartbeat carries the epoch time its writer wrote it at, but that is the
 * writer's clock: judging liveness by `now - beat.at` trusts that the two
 * clocks agree to well within the liveness window (5 s). Watching for the
 * entry to change, as the registry's name claim already does, needs no such
 * trust: a node is live while its heartbeat keeps changing, measured here.
 *
 * A node seen for the first time has no change to measure yet; its age is
 * then taken from its own timestamp, once, and never as younger than now.
 * So a dead node's last entry, read by a node that just started, looks as
 * old as its writer's clock says, and a live one is measured locally from
 * its next beat on.
 *
 * @module
 */
import type { Heartbeat } from './heartbeat.ts';

interface Sighting {
  readonly instance: string;
  /** The heartbeat's own timestamp, compared only for change. */
  readonly at: number;
  /** When it last changed, on this node's monotonic clock. */
  readonly changedAt: number;
}

export class NodeSightings {
  #seen = new Map<string, Sighting>();

  /** `clock`: this node's monotonic milliseconds. */
  constructor(private readonly clock: () => number = () => performance.now()) {}

  /**
   * Records one reading of the registry; nodes not in it are forgotten.
   *
   * @example
   * ```ts
   * sightings.observe((await registry.census()).nodes);
   * sightings.heardWithin('node-b', LIVENESS_MS);
   * ```
   */
  observe(beats: readonly Heartbeat[], wallNow = Date.now()): void {
    const local = this.clock();
    const next = new Map<string, Sighting>();
    for (const beat of beats) {
      const before = this.#seen.get(beat.node);
      const same = before !== undefined && before.instance === beat.instance && before.at === beat.at;
      const changedAt = same ? before.changedAt : before !== undefined ? local : local - Math.max(0, wallNow - beat.at);
      next.set(beat.node, { instance: beat.instance, at: beat.at, changedAt });
    }
    this.#seen = next;
  }

  /** How long ago `node`'s heartbeat last changed, in milliseconds of this node's clock; undefined when the last reading did not list it. */
  agoMs(node: string): number | undefined {
    const seen = this.#seen.get(node);
    return seen === undefined ? undefined : this.clock() - seen.changedAt;
  }

  /** Whether `node`'s heartbeat changed within the last `ms` milliseconds, as this node measures them. */
  heardWithin(node: string, ms: number): boolean {
    const ago = this.agoMs(node);
    return ago !== undefined && ago <= ms;
  }
}
