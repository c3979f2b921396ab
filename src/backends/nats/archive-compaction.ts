/**
 * Which ranges of the archive chain to fold into one (issue #27). Every
 * cycle adds a range per partition, and the batch node may archive more
 * ahead of a cycle, so an archive left alone grows without bound, and with
 * it every cycle's listing of the bucket, every node's archive check and a
 * restarting node's reading of keys. The batch node folds, in the
 * background, `FANOUT` consecutive ranges of a partition that each hold the
 * same number of folded ranges into one: like a counter in base `FANOUT`, a
 * partition of `n` ranges as archived keeps at most `FANOUT - 1` ranges per
 * power of `FANOUT` below `n`, and each event is rewritten once per power.
 *
 * Left out: a partition's newest range (where nodes resume, compare the
 * duplicate rule's digest and release their outboxes), a range recording a
 * stretch NATS lost (where nodes re-read a partition), and any fold that
 * would write more than `maxRows` rows of one event type into one object
 * (a bucket is no file system: objects of hundreds of MB have failed).
 *
 * @module
 */
import type { ArchivedRange } from './shared-manifest.ts';

/** Ranges folded at once, and so the base of the counter. */
export const FANOUT = 4;
/** The most rows of one event type a fold writes into one object. */
export const MAX_FOLD_ROWS = 4_000_000;

const folds = (r: ArchivedRange) => r.folds ?? 1;
const maxRows = (group: readonly ArchivedRange[]) => {
  const rows = new Map<string, number>();
  for (const r of group) for (const [t, f] of Object.entries(r.files)) rows.set(t, (rows.get(t) ?? 0) + f.rows);
  return Math.max(0, ...rows.values());
};

/** Per partition, its ranges in order, the newest left out. */
function olderRanges(chain: readonly ArchivedRange[]): ArchivedRange[][] {
  const byPartition = new Map<number, ArchivedRange[]>();
  for (const r of chain) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
  return [...byPartition.values()].map((ranges) => ranges.sort((a, b) => a.from - b.from).slice(0, -1));
}

/** Whether `group` may become one range: consecutive, none recording a loss, equal in what each holds, small enough. */
function foldable(group: readonly ArchivedRange[], limit: number): boolean {
  return group.every((r, i) => r.lost === undefined && folds(r) === folds(group[0]!) && (i === 0 || group[i - 1]!.to === r.from)) && maxRows(group) <= limit;
}

/**
 * The first group of `FANOUT` ranges of one partition that compaction
 * folds next, oldest first; undefined when there is none.
 *
 * @example
 * ```ts
 * const group = nextFold(chain);
 * if (group !== undefined) replaceGroup(chain, group, await archive.fold(group, term));
 * ```
 */
export function nextFold(chain: readonly ArchivedRange[], limit = MAX_FOLD_ROWS): ArchivedRange[] | undefined {
  for (const ranges of olderRanges(chain)) {
    for (let i = 0; i + FANOUT <= ranges.length; i++) {
      const group = ranges.slice(i, i + FANOUT);
      if (foldable(group, limit)) return group;
    }
  }
  return undefined;
}

/** `chain` with `group` replaced by `folded`, where the group's first range stood. */
export function replaceGroup(chain: readonly ArchivedRange[], group: readonly ArchivedRange[], folded: ArchivedRange): ArchivedRange[] {
  const gone = new Set(group);
  return chain.flatMap((r) => (r === group[0] ? [folded] : gone.has(r) ? [] : [r]));
}
