/**
 * The SQL parser: DuckDB's parser over the bound text, a statement's tree
 * kept (frozen) for its text, parses side by side, and a closed parser.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SQL_LENGTH, SqlParser, SqlSyntaxError, SqlTooLargeError } from '../../src/sql/index.ts';

test('sql parser - the same short text gives the same frozen tree; the oldest of 256 is forgotten, and a long text is never kept', async () => {
  const parser = new SqlParser();
  try {
    const first = await parser.parse('SELECT sum(orders) FROM totals_month');
    assert.equal(await parser.parse('SELECT sum(orders) FROM totals_month'), first);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.select_list[0]));
    for (let i = 0; i < 256; i++) await parser.parse(`SELECT sum(orders) FROM totals_month LIMIT ${i}`);
    assert.notEqual(await parser.parse('SELECT sum(orders) FROM totals_month'), first);
    const long = `SELECT sum(orders) FROM totals_month WHERE country IN (${"'x', ".repeat(1000)}'y')`;
    assert.notEqual(await parser.parse(long), await parser.parse(long));
  } finally {
    await parser.close();
  }
});

test('sql parser - 24 parses at once each get their own answer', async () => {
  const parser = new SqlParser();
  try {
    const trees = await Promise.all(Array.from({ length: 24 }, (_, i) => parser.parse(`SELECT sum(orders) AS a${i} FROM v${i} WHERE x = ${i}`)));
    trees.forEach((tree, i) => {
      assert.equal(tree.select_list[0]!.alias, `a${i}`);
      assert.equal(tree.from_table.table_name, `v${i}`);
    });
  } finally {
    await parser.close();
  }
});

test('sql parser - the text is a value: quotes and semicolons in it never end a statement of the parser\'s own', async () => {
  const parser = new SqlParser();
  try {
    await assert.rejects(parser.parse("x'); SELECT 1; --"), SqlSyntaxError);
    const tree = await parser.parse("SELECT sum(orders) FROM t WHERE country = '''); DROP TABLE t; --'");
    assert.equal(tree.from_table.table_name, 't');
    await assert.rejects(parser.parse('x'.repeat(MAX_SQL_LENGTH + 1)), SqlTooLargeError);
  } finally {
    await parser.close();
  }
  await assert.rejects(parser.parse('SELECT 2'), /closed/);
});
