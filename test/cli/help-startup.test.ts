/**
 * `tandem --help` starts fast because it loads only the command definitions:
 * no DuckDB, no server, no engine, no definitions' index (from dist: `npm
 * run build` first). A module hook lists what the process loads.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { BIN } from '../support/spawn-cli.ts';

const HOOKS = `export async function load(url, context, next) {
  if (!url.startsWith('node:')) process.stderr.write('LOADED ' + url + '\\n');
  return next(url, context);
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

function loadedBy(args: readonly string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, BIN, ...args]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`exit ${code}: ${stderr}`));
      resolve([...stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1]!));
    });
  });
}

test('tandem --help - loads the command definitions only, not DuckDB, the server or the engine', async () => {
  for (const args of [['--help'], ['query', '--help'], ['ingest', '--help']]) {
    const loaded = await loadedBy(args);
    assert.ok(loaded.some((url) => url.endsWith('/dist/cli/main.js')), `${args.join(' ')}: the hook saw the CLI load`);
    const heavy = loaded.filter((url) => /@duckdb|fastify|pino|cli-progress|\/dist\/(engine|backends|server|serving|definitions\/index)\b/.test(url));
    assert.deepEqual(heavy, [], args.join(' '));
    assert.ok(loaded.length < 30, `${args.join(' ')}: ${loaded.length} modules`);
  }
});
