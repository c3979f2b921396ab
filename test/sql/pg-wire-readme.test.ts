/**
 * The README's Grafana panel queries, with the macros expanded as Grafana
 * expands them for a PostgreSQL data source, plan over the demo's views (what
 * `npm start` serves), so the panels it shows are ones Tandem answers.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import { compileConfig } from '../../src/definitions/index.ts';
import { demoConfig } from '../../src/demo/index.ts';
import { SqlRunner } from '../../src/sql/index.ts';

const runner = new SqlRunner({ catalog: compileConfig(demoConfig), query: () => Promise.reject(new Error('plans only')) });
after(() => runner.close());

const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('\n### Connect psql, Grafana, Metabase'));

/** Grafana's macros as its PostgreSQL data source expands them, for a range in May 2024 and $country = DE, FR. */
function expand(sql: string): string {
  return sql
    .replace(/\$__timeGroupAlias\((\w+), 1h\)/g, 'floor(extract(epoch from $1)/3600)*3600 AS "time"')
    .replace(/\$__timeFilter\((\w+)\)/g, "$1 BETWEEN '2024-05-01T00:00:00Z' AND '2024-05-08T00:00:00Z'")
    .replace(/\$country/g, "'DE','FR'");
}

test('pg readme - the Grafana panels of the README plan over the demo\'s views', async () => {
  const panels = [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
  assert.equal(panels.length, 2);
  for (const panel of panels) {
    assert.match(panel, /\$__timeFilter/);
    await runner.plan({ sql: expand(panel) });
  }
});
