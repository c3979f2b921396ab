/**
 * `import 'tandem/client'` stays light: nothing it reaches at run time
 * imports DuckDB, Fastify, pino or the engine. Checked two ways: by walking
 * the value imports of its source files, and by loading it in a fresh
 * process and looking at what that process loaded (with the engine's entry
 * as the control that the look would see DuckDB).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = resolve(ROOT, 'src/client/index.ts');

/** Value imports and re-exports of a source file (`import type` and `export type` are erased, and skipped). */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'([^']+)'/gm)) {
    if (m[1] === undefined) found.push(m[2]!);
  }
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) found.push(m[1]!);
  return found;
}

/** Every source file and every outside module reached from `entry` at run time. */
function reach(entry: string): { files: Set<string>; external: Set<string> } {
  const files = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const specifier of valueImports(file)) {
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      else external.add(specifier);
    }
  };
  visit(entry);
  return { files, external };
}

const execFileAsync = promisify(execFile);

/** Imports `module` in a fresh node and reports what that process loaded. */
async function loadedBy(module: string): Promise<{ packages: string[]; sharedObjects: string[]; ms: number }> {
  const probe = `
    import { createRequire } from 'node:module';
    const started = performance.now();
    await import(${JSON.stringify(pathToFileURL(module).href)});
    const ms = performance.now() - started;
    const packages = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('node_modules') && !/node_modules\\/(tsx|esbuild|get-tsconfig|resolve-pkg-maps)\\//.test(f));
    const sharedObjects = process.report.getReport().sharedObjects.filter((f) => f.includes('node_modules'));
    console.log(JSON.stringify({ packages, sharedObjects, ms }));
  `;
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: ROOT });
  return JSON.parse(stdout) as { packages: string[]; sharedObjects: string[]; ms: number };
}

describe('client - imports', () => {
  test('imports - the client reaches only itself, the error files and the URL helpers, and no outside module, not even a node builtin', () => {
    const { files, external } = reach(ENTRY);
    const reached = [...files].map((f) => relative(ROOT, f)).sort();
    // The two URL helpers import nothing: the client shares them with the CLI so that both hide and send credentials alike.
    const allowed = (f: string) => f.startsWith('src/client/') || [
      'src/definitions/errors.ts', 'src/serving/errors.ts', 'src/engine/errors.ts', 'src/log/errors.ts', 'src/server/errors.ts', 'src/sql/errors.ts', 'src/master/history-errors.ts',
      'src/util/redact-url.ts', 'src/util/url-credentials.ts',
    ].includes(f);
    assert.deepEqual(reached.filter((f) => !allowed(f)), [], 'no engine, server or CLI module');
    // Nothing of Node's own either, so the client runs wherever fetch does.
    assert.deepEqual([...external], []);
  });

  test('imports - a fresh process that imports the client loads no package, no DuckDB binary; the engine\'s entry does (the control)', async () => {
    const client = await loadedBy(ENTRY);
    assert.deepEqual(client.packages, []);
    assert.deepEqual(client.sharedObjects, []);
    const engine = await loadedBy(resolve(ROOT, 'src/index.ts'));
    assert.ok(engine.packages.some((f) => f.includes('@duckdb/node-api')), 'the probe sees DuckDB when it is loaded');
    assert.ok(engine.sharedObjects.some((f) => f.endsWith('duckdb.node')));
  });
});
