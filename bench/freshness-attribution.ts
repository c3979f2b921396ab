/**
 * Attributes the freshness probes' tail to causes (issue #29): for each slow
 * probe, how much of its wait overlapped a GC pause, a stall of the main
 * thread while it waited for a CPU (other processes ran: the machine is
 * shared), another stall (the main thread ran), a seal of the log (the
 * roll-over to a new segment), the durable write (`O_DSYNC` writev) of the
 * log, or none of these. Pure: the recorder
 * (`freshness-recorder.ts`) collects the intervals, this splits the time.
 *
 * @module
 */

/** A span of time in `performance.now()` milliseconds. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** The causes a probe's time is split into, in the order they take precedence. */
export const CAUSES = ['gc', 'preempted', 'stall', 'roll', 'write', 'other'] as const;
export type Cause = (typeof CAUSES)[number];

/** What the process was doing, as spans per cause (`other` is what is left). */
export type Activity = Readonly<Record<Exclude<Cause, 'other'>, readonly Span[]>>;

/** Per cause, the milliseconds of one probe spent in it; they add up to the probe's latency. */
export type Split = Record<Cause, number>;

/**
 * The spans merged where they overlap, sorted: time covered twice counts once.
 *
 * @example
 * ```ts
 * union([{ start: 0, end: 2 }, { start: 1, end: 3 }]); // [{ start: 0, end: 3 }]
 * ```
 */
export function union(spans: readonly Span[]): Span[] {
  const sorted = spans.filter((s) => s.end > s.start).sort((a, b) => a.start - b.start);
  const merged: Span[] = [];
  for (const s of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && s.start <= last.end) merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, s.end) };
    else merged.push(s);
  }
  return merged;
}

/** The parts of `spans` (a union) inside `window`. */
function clip(spans: readonly Span[], window: Span): Span[] {
  return spans.flatMap((s) => (s.end <= window.start || s.start >= window.end ? [] : [{ start: Math.max(s.start, window.start), end: Math.min(s.end, window.end) }]));
}

/** `spans` minus `taken` (both unions). */
function subtract(spans: readonly Span[], taken: readonly Span[]): Span[] {
  let left = [...spans];
  for (const t of taken) left = left.flatMap((s) => (t.end <= s.start || t.start >= s.end ? [s] : [
    ...(t.start > s.start ? [{ start: s.start, end: t.start }] : []),
    ...(t.end < s.end ? [{ start: t.end, end: s.end }] : []),
  ]));
  return left;
}

const total = (spans: readonly Span[]): number => spans.reduce((n, s) => n + s.end - s.start, 0);

/**
 * Splits a probe's time among the causes, each taking only what the causes
 * before it in {@link CAUSES} did not: a write that ran while the main thread
 * was stalled counts as the stall, since the probe could not have resolved
 * before the thread came back either way.
 */
export function splitProbe(probe: Span, activity: Activity): Split {
  const split = { other: 0 } as Split;
  let taken: Span[] = [];
  for (const cause of CAUSES) {
    if (cause === 'other') continue;
    const mine = subtract(clip(union(activity[cause]), probe), taken);
    split[cause] = total(mine);
    taken = union([...taken, ...mine]);
  }
  split.other = probe.end - probe.start - total(taken);
  return split;
}

/** The attribution of the probes slower than a threshold. */
export interface Attribution {
  readonly thresholdMs: number;
  readonly slow: number;
  readonly probes: number;
  /** Per cause, its share of the slow probes' summed latency. */
  readonly share: Split;
  /** Per cause, how many slow probes it took the largest part of. */
  readonly dominant: Record<Cause, number>;
}

/** Attributes every probe slower than `thresholdMs`. */
export function attribute(probes: readonly Span[], activity: Activity, thresholdMs: number): Attribution {
  const slow = probes.filter((p) => p.end - p.start > thresholdMs);
  const sums = Object.fromEntries(CAUSES.map((c) => [c, 0])) as Split;
  const dominant = Object.fromEntries(CAUSES.map((c) => [c, 0])) as Record<Cause, number>;
  let all = 0;
  for (const probe of slow) {
    const split = splitProbe(probe, activity);
    for (const c of CAUSES) sums[c] += split[c];
    dominant[CAUSES.reduce((best, c) => (split[c] > split[best] ? c : best), 'other' as Cause)]++;
    all += probe.end - probe.start;
  }
  const share = Object.fromEntries(CAUSES.map((c) => [c, all === 0 ? 0 : sums[c] / all])) as Split;
  return { thresholdMs, slow: slow.length, probes: probes.length, share, dominant };
}

/** One line for the bench output. */
export function formatAttribution(a: Attribution): string {
  const parts = CAUSES.map((c) => `${c} ${(a.share[c] * 100).toFixed(0)}% (largest in ${a.dominant[c]})`);
  return `${a.slow} of ${a.probes} probes over ${a.thresholdMs} ms; their time: ${parts.join(', ')}`;
}

/**
 * Of the log's write time inside the slow probes, the share of each probe's
 * own group's write (the last write that started after the probe was sent
 * and ended before it resolved) against the earlier groups' writes it
 * waited behind: whether fewer writes in a row would help, or only faster
 * ones.
 */
export function ownWriteShare(probes: readonly Span[], writes: readonly Span[], thresholdMs: number): number {
  let own = 0;
  let all = 0;
  for (const probe of probes) {
    if (probe.end - probe.start <= thresholdMs) continue;
    const inside = union(clip(union(writes), probe));
    all += total(inside);
    const mine = writes.filter((w) => w.start >= probe.start && w.end <= probe.end).at(-1);
    if (mine !== undefined) own += mine.end - mine.start;
  }
  return all === 0 ? 0 : Math.min(1, own / all);
}
