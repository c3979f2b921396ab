/**
 * The batch node's watch on an owner computing its part of a divided cycle:
 * the part is given up on (and computed by the batch node) once the owner is
 * no longer heard from, or once its heartbeat names another process under
 * the same name. A node killed with SIGKILL and started again keeps being
 * heard from, but the request died with the old process's memory, so only
 * the instance says that no answer is coming; without it the cycle waits
 * out the part's whole timeout (found by the cluster schedule test).
 *
 * @module
 */
import { CyclePartFailedError } from './errors.ts';
import type { Heartbeat } from './heartbeat.ts';

/** What the watch reads on each tick: the owner's latest heartbeat, and whether it was heard from recently enough. */
export interface OwnerSighting {
  readonly beat: Heartbeat | undefined;
  readonly heard: boolean;
}

export interface PartOwnerWatch {
  /** Rejects with {@link CyclePartFailedError} once the owner is gone or restarted; never resolves. */
  readonly gone: Promise<never>;
  stop(): void;
}

/**
 * Watches `node`, asked for its part of `version` while `instance` was its
 * process, every `everyMs`.
 *
 * @example
 * ```ts
 * const watch = watchPartOwner('b', 12, instanceOfB, () => sightingOf('b'), 1_000);
 * try { return await Promise.race([asking, watch.gone]); } finally { watch.stop(); }
 * ```
 */
export function watchPartOwner(node: string, version: number, instance: string | undefined, sight: () => OwnerSighting, everyMs: number): PartOwnerWatch {
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const { beat, heard } = sight();
      if (beat === undefined || !heard) reject(new CyclePartFailedError(node, version, 'it is no longer heard from'));
      else if (instance !== undefined && beat.instance !== instance) reject(new CyclePartFailedError(node, version, 'it restarted while computing'));
    }, everyMs);
  });
  gone.catch(() => undefined);
  return { gone, stop: () => clearInterval(timer) };
}
