/** `tandem query` and `tandem sql --format`: each format of the same rows, in-process (the spawned CLI is tested in query-formats.test.ts, `tandem sql` in test/sql/sql-cli.test.ts). */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { distinctNames, formatAnswer, formatCells } from '../../src/cli/answer-format.ts';
import { formatTsv } from '../../src/cli/print-tsv.ts';
import type { QueryResult } from '../../src/index.ts';

const meta = { batchVersion: 2, batchCutoff: 10, logEnd: 12, batchAgeMs: 5, layer: 'merged', partialBuckets: [] } as const;
const result: QueryResult = {
  rows: [
    { country: 'DE', revenue: '18014398509481983', p: { p50: 1, p90: 2 } },
    { country: 'Côte "d", Ivoire', revenue: 12.5, p: null },
    { country: null, revenue: 0, p: null, extra: 'late column' },
  ],
  meta,
};

test('formatAnswer - csv quotes what needs it and keeps a big sum as its digits', () => {
  assert.equal(formatAnswer(result, 'csv'), [
    'country,revenue,p,extra',
    'DE,18014398509481983,"{""p50"":1,""p90"":2}",',
    '"Côte ""d"", Ivoire",12.5,,',
    ',0,,late column',
  ].join('\n'));
});

test('formatAnswer - tsv, ndjson, json and table', () => {
  assert.equal(formatAnswer(result, 'tsv'), 'country\trevenue\tp\textra\nDE\t18014398509481983\t{"p50":1,"p90":2}\t\nCôte "d", Ivoire\t12.5\t\t\n\t0\t\tlate column');
  assert.deepEqual(formatAnswer(result, 'ndjson').split('\n').map((line) => JSON.parse(line) as unknown), result.rows);
  assert.ok(formatAnswer(result, 'ndjson').includes('"revenue":"18014398509481983"'));
  assert.deepEqual(JSON.parse(formatAnswer(result, 'json')), result);
  assert.match(formatAnswer(result, 'table'), /^country\s+revenue\s+p\s+extra\n-+/);
});

test('formatAnswer - no rows: a table says so, the formats for programs print nothing', () => {
  const empty = { rows: [], meta };
  assert.equal(formatAnswer(empty, 'table'), '(no rows)');
  for (const format of ['csv', 'tsv', 'ndjson'] as const) assert.equal(formatAnswer(empty, format), '');
});

test('formatTsv - a tab, a line break or a backslash is escaped, so a row stays one line', () => {
  assert.equal(formatTsv(['a', 'b'], [['x\ty', 'one\ntwo\r'], ['C:\\dir', undefined]]), 'a\tb\nx\\ty\tone\\ntwo\\r\nC:\\\\dir\t');
});

test('formatCells - a SQL answer with no rows prints its header in csv and tsv, nothing in ndjson', () => {
  const empty = { columns: ['country', 'n'], rows: [], whole: { columns: [], rows: [], meta } };
  assert.equal(formatCells(empty, 'csv'), 'country,n');
  assert.equal(formatCells(empty, 'tsv'), 'country\tn');
  assert.equal(formatCells(empty, 'ndjson'), '');
  assert.equal(formatCells(empty, 'table'), '(no rows)');
});

test('formatCells - ndjson keys each row by column name, a repeated name renamed so no column is lost', () => {
  const answer = { columns: ['a', 'a', 'a_2', 'b'], rows: [[1, 2, 3, null]], whole: null };
  assert.deepEqual(JSON.parse(formatCells(answer, 'ndjson')), { a: 1, a_3: 2, a_2: 3, b: null });
});

test('distinctNames - every name distinct, first occurrences kept, as many names as columns', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom('a', 'a_2', 'a_3', 'b', 'b_2'), { maxLength: 12 }), (columns) => {
    const names = distinctNames(columns);
    assert.equal(names.length, columns.length);
    assert.equal(new Set(names).size, names.length);
    columns.forEach((name, i) => {
      if (columns.indexOf(name) === i) assert.equal(names[i], name);
    });
  }), { seed: 32 });
});
