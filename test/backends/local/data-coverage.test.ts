/**
 * The coverage check against a per-offset count: any set of manifest and
 * segment ranges, any cutoff. Below the master dataset's end (or the cutoff)
 * every offset must be in exactly one manifest; from the cutoff to the log's
 * end, in a log segment.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { coverageGaps, type CoverageGap, type OffsetRange } from '../../../src/backends/local/data-coverage.ts';

/** Runs of offsets whose count breaks the rule, as gaps of one kind, from a count per offset. */
function reference(master: readonly OffsetRange[], log: readonly OffsetRange[], cutoff: number, logEnd: number): CoverageGap[] {
  const masterEnd = Math.max(cutoff, ...master.filter((m) => m.end > m.base).map((m) => m.end));
  const gaps: CoverageGap[] = [];
  const push = (kind: CoverageGap['kind'], at: number) => {
    const index = gaps.map((g) => g.kind).lastIndexOf(kind);
    const last = gaps[index];
    if (last !== undefined && last.to === at) gaps[index] = { ...last, to: at + 1 };
    else gaps.push({ kind, from: at, to: at + 1 });
  };
  for (let at = 0; at < masterEnd; at++) {
    const n = master.filter((m) => m.base <= at && at < m.end).length;
    if (n === 0) push('master-missing', at);
  }
  for (let at = cutoff; at < logEnd; at++) if (!log.some((s) => s.base <= at && at < s.end)) push('log-missing', at);
  return gaps;
}

const range = fc.tuple(fc.nat(60), fc.nat(20)).map(([base, length]): OffsetRange => ({ base, end: base + length }));

test('data coverage: missing stretches are exactly the offsets no manifest (below the cutoff and the master\'s end) or no log segment (from the cutoff) holds', () => {
  fc.assert(fc.property(fc.array(range, { maxLength: 6 }), fc.array(range, { maxLength: 6 }), fc.nat(80), fc.nat(80), (master, log, cutoff, logEnd) => {
    const disjoint = (ranges: readonly OffsetRange[]) => ranges.every((a, i) => ranges.every((b, j) => i === j || a.end <= b.base || b.end <= a.base || a.end === a.base || b.end === b.base));
    fc.pre(disjoint(master) && disjoint(log));
    const order = (gaps: CoverageGap[]) => gaps.sort((a, b) => a.from - b.from || a.to - b.to || a.kind.localeCompare(b.kind));
    assert.deepEqual(order(coverageGaps(master, log, cutoff, logEnd).filter((g) => g.kind !== 'master-overlap')), order(reference(master, log, cutoff, logEnd)));
  }), { seed: 20261202, numRuns: 2000 });
});

test('data coverage: a healthy layout has no gap, and losing any one file that a layer reads leaves exactly its stretch missing', () => {
  const layout = fc.record({ sizes: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }), exported: fc.nat(8), cut: fc.nat(8) });
  fc.assert(fc.property(layout, fc.nat(20), ({ sizes, exported, cut }, pick) => {
    const segments = sizes.map((_, i) => ({ base: sizes.slice(0, i).reduce((a, b) => a + b, 0), end: sizes.slice(0, i + 1).reduce((a, b) => a + b, 0) }));
    const m = Math.min(exported, segments.length);
    const c = Math.min(cut, m);
    const cutoff = c === 0 ? 0 : segments[c - 1]!.end;
    const master = segments.slice(0, m);
    const log = segments.slice(c);
    const logEnd = segments.at(-1)!.end;
    assert.deepEqual(coverageGaps(master, log, cutoff, logEnd), []);
    const files = [...master.map((r) => ({ r, from: 'master' })), ...log.map((r) => ({ r, from: 'log' }))];
    const lost = files[pick % files.length]!;
    const gaps = coverageGaps(lost.from === 'master' ? master.filter((r) => r !== lost.r) : master, lost.from === 'log' ? log.filter((r) => r !== lost.r) : log, cutoff, logEnd);
    // A manifest past the cutoff that is the last one only shortens the master's end: the log still holds it.
    const lastPastCutoff = lost.from === 'master' && lost.r === master.at(-1) && lost.r.base >= cutoff;
    assert.deepEqual(gaps, lastPastCutoff ? [] : [{ kind: lost.from === 'master' ? 'master-missing' : 'log-missing', from: lost.r.base, to: lost.r.end }]);
  }), { seed: 20261203, numRuns: 2000 });
});

test('data coverage: two manifests over the same offsets are an overlap', () => {
  assert.deepEqual(coverageGaps([{ base: 0, end: 10 }, { base: 5, end: 15 }], [], 0, 0), [{ kind: 'master-overlap', from: 5, to: 10 }]);
});
