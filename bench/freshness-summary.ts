/**
 * `node --import tsx bench/freshness-summary.ts <output file>`: the medians
 * [min, max] of interleaved `bench:freshness` runs of several builds. The
 * file holds each run's output after a line `== <build> <anything>`; the
 * figures are read off the lines the probe prints.
 *
 * @module
 */
import { readFileSync } from 'node:fs';

/** The figures of one run, by name. */
type Run = Map<string, number>;

const PATTERNS: readonly [string, RegExp][] = [
  ['p50', /freshness p50 ([\d.]+)/],
  ['p99', /, p99 ([\d.]+), p99\.9/],
  ['p99.9', /p99\.9 ([\d.]+)/],
  ['max', /p99\.9 [\d.]+, max ([\d.]+)/],
  ['probes', /: (\d+) probes/],
  ['writev p99', /log writev \(O_DSYNC\): \d+ p50 [\d.]+ ms, p99 ([\d.]+)/],
  ['writev p99 in cycles', /during a cycle \d+ p50 [\d.]+ ms, p99 ([\d.]+)/],
  ['writev p99 outside', /outside \d+ p50 [\d.]+ ms, p99 ([\d.]+)/],
  // The first attribution line a run prints is over 2 ms, the goal.
  ...['gc', 'preempted', 'stall', 'roll', 'write', 'other'].map((cause): [string, RegExp] => [`${cause} %`, new RegExp(`over 2 ms; .*\\b${cause} (\\d+)%`)]),
  ['own write %', /their own group's write (\d+)%/],
  ['longest GC', /longest GC ([\d.]+)/],
  ['first-cycle stall', /first cycle's longest event-loop stall ([\d.]+)/],
  ['load', /load average ([\d.]+) before/],
];

/** Per build, its runs in order. */
export function parseRuns(text: string): Map<string, Run[]> {
  const builds = new Map<string, Run[]>();
  let current: Run | undefined;
  for (const line of text.split('\n')) {
    const header = /^== (\S+)/.exec(line);
    if (header !== null) {
      current = new Map();
      builds.set(header[1]!, [...(builds.get(header[1]!) ?? []), current]);
      continue;
    }
    for (const [name, pattern] of PATTERNS) {
      const match = pattern.exec(line);
      if (match !== null && current !== undefined && !current.has(name)) current.set(name, Number(match[1]));
    }
  }
  return builds;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One line per build and figure: median [min, max] over its runs. */
export function summarize(builds: Map<string, Run[]>): string[] {
  const lines: string[] = [];
  for (const [build, runs] of builds) {
    const figures = PATTERNS.map(([name]) => {
      const values = runs.flatMap((r) => (r.has(name) ? [r.get(name)!] : []));
      return values.length === 0 ? undefined : `${name} ${median(values).toFixed(2)} [${Math.min(...values).toFixed(2)}, ${Math.max(...values).toFixed(2)}]`;
    });
    lines.push(`${build} (${runs.length} runs): ${figures.filter((f) => f !== undefined).join('; ')}`);
  }
  return lines;
}

if (process.argv[2] !== undefined) console.log(summarize(parseRuns(readFileSync(process.argv[2], 'utf8'))).join('\n'));
