import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRuns, summarize } from '../../bench/freshness-summary.ts';

const run = (p99: number, stall: number) => `load+batch: 1500 probes; freshness p50 3.00 ms, p99 ${p99}, p99.9 100.00, max 120.00; event-loop stall p99 8.5 ms
  log writev (O_DSYNC): 5000 p50 0.70 ms, p99 20.00, max 100.00; during a cycle 1 p50 1.00 ms, p99 30.00, max 90.00
  load average 6.20 before, 6.50 after; the first cycle's longest event-loop stall ${stall} ms`;

test('freshness summary - medians with min and max per build, over interleaved runs', () => {
  const text = ['== base 1', run(50, 1000), '== new 1', run(40, 50), '== base 2', run(70, 700), '== new 2', run(20, 40), '== base 3', run(60, 900)].join('\n');
  const builds = parseRuns(text);
  assert.deepEqual([...builds.keys()], ['base', 'new']);
  assert.equal(builds.get('base')!.length, 3);
  assert.equal(builds.get('base')![0]!.get('writev p99'), 20);
  const [base, fresh] = summarize(builds);
  assert.match(base!, /^base \(3 runs\): p50 3\.00 \[3\.00, 3\.00\]; p99 60\.00 \[50\.00, 70\.00\]/);
  assert.match(base!, /first-cycle stall 900\.00 \[700\.00, 1000\.00\]/);
  assert.match(fresh!, /p99 30\.00 \[20\.00, 40\.00\]/);
});
