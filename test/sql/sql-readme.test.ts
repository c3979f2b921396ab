/**
 * The README's SQL examples are planned against the demo's views (what
 * `npm start` serves), so the statements it shows are ones Tandem answers.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import { compileConfig } from '../../src/definitions/index.ts';
import { demoConfig } from '../../src/demo/index.ts';
import { parameterValue } from '../../src/cli/commands/sql.ts';
import { SqlRunner } from '../../src/sql/index.ts';

const runner = new SqlRunner({ catalog: compileConfig(demoConfig), query: () => Promise.reject(new Error('plans only')) });
after(() => runner.close());

const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('\n## SQL\n'));

/** Each example's statement and parameters: the curl body's, and each `tandem sql` line's with its `-p` values. */
function examples(): { sql: string; params: unknown[] }[] {
  const found: { sql: string; params: unknown[] }[] = [];
  for (const match of section.matchAll(/-d '(\{.*\})'/g)) found.push(JSON.parse(match[1]!) as { sql: string; params: unknown[] });
  for (const match of section.matchAll(/tandem sql (?:"([^"]+)"|'([^']+)')(.*)/g)) {
    const params = [...match[3]!.matchAll(/-p (\S+)/g)].map((p) => parameterValue(p[1]!));
    found.push({ sql: match[1] ?? match[2]!, params });
  }
  return found;
}

test('sql readme - every SQL example of the README plans over the demo\'s views', async () => {
  const all = examples();
  assert.equal(all.length, 3);
  for (const { sql, params } of all) await runner.plan({ sql, params });
});
