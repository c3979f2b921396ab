/**
 * The package as users get it: `npm pack`, installed into an empty project
 * on this Node version, used from TypeScript (strict, `moduleResolution:
 * nodenext`) and from plain JavaScript, `tandem/client` typed by the same
 * config, `tandem/cluster` loaded without its optional NATS peers, and
 * `tandem serve` on a
 * `tandem.config.ts` that imports from 'tandem'. Needs the npm registry for
 * the package's own dependencies (the npm cache serves most of them).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeTempDir } from '../support/temp-dir.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const CONFIG_TS = `import { defineConfig, defineEventType, defineView } from 'tandem';

const order = defineEventType({
  name: 'order',
  time: 'at',
  idempotencyKey: 'id',
  fields: { id: 'string', at: 'timestamp', country: 'string', amount: { type: 'number', scale: 2 } },
});

const revenue = defineView(order, {
  name: 'revenue_by_country',
  dimensions: ['country'],
  granularity: 'hour',
  measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' } },
});

export default defineConfig({ eventTypes: [order], views: [revenue] });
`;

const USE_TS = `import { Tandem, UnknownViewError, type QueryResult } from 'tandem';
import config from './tandem.config.js';

const tandem = await Tandem.open({ dataDir: process.argv[2]!, config });
await tandem.ingest('order', [{ id: 'a', at: '2024-05-01T12:00:00Z', country: 'DE', amount: 19.99 }]);
const result: QueryResult = await tandem.query({ view: 'revenue_by_country', granularity: 'all', groupBy: ['country'] });
const unknown = await tandem.queryUntyped({ view: 'nope' }).catch((e: unknown) => e instanceof UnknownViewError);
console.log(JSON.stringify({ rows: result.rows, unknown }));
await tandem.close();
`;

const USE_JS = `import { compileConfig, Tandem } from 'tandem';

const config = { eventTypes: [{ name: 'hit', time: 'at', fields: { at: 'timestamp', page: 'string' } }],
  views: [{ name: 'by_page', eventType: 'hit', dimensions: ['page'], granularity: 'day', measures: { hits: { type: 'count' } } }] };
compileConfig(config);
const tandem = await Tandem.open({ dataDir: process.argv[2], config });
await tandem.ingest('hit', [{ at: 0, page: '/' }, { at: 1, page: '/' }]);
await tandem.runBatch();
console.log(JSON.stringify((await tandem.query({ view: 'by_page', granularity: 'all', groupBy: ['page'], layer: 'batch' })).rows));
await tandem.close();
`;

const USE_CLIENT_TS = `import { createClient, UnknownViewError } from 'tandem/client';
import type config from './tandem.config.js';

const client = createClient<typeof config>({ url: process.argv[2]! });
const ingest = await client.ingest('order', [{ id: 'c', at: '2024-05-01T14:00:00Z', country: 'JP', amount: 7.5 }]);
const { rows } = await client.query({ view: 'revenue_by_country', groupBy: ['country'], granularity: 'all', orderBy: [{ measure: 'revenue', desc: true }] });
const country: string | null = rows[0]!.country;
// @ts-expect-error a misspelt view is a compile error
const misspelt = () => client.query({ view: 'revenue_by_contry' });
void misspelt;
const unknown = await client.queryUntyped({ view: 'nope' }).catch((e: unknown) => e instanceof UnknownViewError);
console.log(JSON.stringify({ lastOffset: ingest.lastOffset, country, rows: rows.length, unknown }));
`;

// Cluster mode's own entry: typed from the package, and loaded without the NATS clients, which are optional peers left out of this install.
const USE_CLUSTER_TS = `import { ClusterNode, NatsClientMissingError, type ClusterNodeOptions } from 'tandem/cluster';
import config from './tandem.config.js';

const options: ClusterNodeOptions = { dataDir: process.argv[2]!, config: { ...config, cluster: { name: 'shop', partitions: 1 } }, servers: 'nats://127.0.0.1:4222' };
const missing = await ClusterNode.open(options).catch((e: unknown) => e instanceof NatsClientMissingError);
console.log(JSON.stringify({ missing }));
`;

const TSCONFIG = JSON.stringify({
  compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, outDir: 'out', skipLibCheck: false, types: ['node'] },
  include: ['*.ts'],
});

async function pack(into: string): Promise<string> {
  // npm test has built dist already; packing must not rebuild it under a running suite.
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', into], { cwd: ROOT });
  const tarball = (await readdir(into)).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack made no tarball');
  return join(into, tarball);
}

function serveUntilListening(bin: string, cwd: string, args: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, TZ: 'UTC' }, detached: true });
  let output = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch { /* already gone */ }
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => void stop().then(() => reject(new Error(`no URL in 60 s:\n${output}`))), 60_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const match = /serving at (http:\/\/\S+?)"/.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      resolve({ url: match[1]!, stop });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`exited before listening:\n${output}`)));
  });
}

/**
 * npm's warning lines but one: npm 11 lists `prepare` among the install
 * scripts of any non-registry source, so it names tandem's own (which builds
 * dist/ for a git install, and does not run for a tarball, which holds dist/).
 * Any other line, a package listed beside it included, is unexpected.
 */
function unexpectedWarnings(output: string): string[] {
  const warnings = output.split('\n').filter((line) => /^npm warn/i.test(line));
  const listed = /^npm warn install-scripts {3}(\S+)/;
  return warnings.filter((line) => {
    if (!line.startsWith('npm warn install-scripts')) return true;
    const name = listed.exec(line)?.[1];
    return name !== undefined && !(/^tandem@[\d.]+$/.test(name) && line.endsWith('(prepare: npm run build)'));
  });
}

/** npm's answer when the registry cannot be reached: the test then skips, saying so, unless services are required. */
const OFFLINE = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH/;

test('package - the packed tarball installs without any npm warning and works from TypeScript, JavaScript and the CLI', { timeout: 300_000 }, async (t) => {
  const temp = await makeTempDir('tandem-pack-');
  try {
    const tarball = await pack(temp.dir);
    const app = join(temp.dir, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const installed = await run('npm', ['install', tarball, '@types/node@20', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel', 'warn'], { cwd: app, maxBuffer: 1 << 24 })
      .catch((error: { stderr?: string }) => {
        if (process.env.TANDEM_REQUIRE_SERVICES === undefined && OFFLINE.test(error.stderr ?? '')) return undefined;
        throw error;
      });
    if (installed === undefined) return t.skip('SKIPPED: the npm registry is out of reach, so the packed package cannot be installed (set TANDEM_REQUIRE_SERVICES=1 to fail instead)');
    // No warning: no engine mismatch, and no dependency install script npm 11 holds back (esbuild's, through tsx).
    assert.deepEqual(unexpectedWarnings(installed.stdout + installed.stderr), [], 'npm install warned');
    // What only the CLI's TypeScript configs, a terminal or the dashboard's build need stays out of a library install.
    for (const name of ['tsx', 'esbuild', 'pino-pretty', 'uplot']) assert.ok(!existsSync(join(app, 'node_modules', name)), `${name} was installed`);

    await writeFile(join(app, 'tsconfig.json'), TSCONFIG);
    await writeFile(join(app, 'tandem.config.ts'), CONFIG_TS);
    await writeFile(join(app, 'use.ts'), USE_TS);
    await writeFile(join(app, 'use.js'), USE_JS);
    await writeFile(join(app, 'use-client.ts'), USE_CLIENT_TS);
    await writeFile(join(app, 'use-cluster.ts'), USE_CLUSTER_TS);
    await run(process.execPath, [TSC, '-p', app], { cwd: app }).catch((error: { stdout?: string }) => {
      throw new Error(`tsc failed on the user's project:\n${error.stdout}`);
    });
    const fromTs = JSON.parse((await run(process.execPath, [join(app, 'out', 'use.js'), join(temp.dir, 'ts-data')], { cwd: app })).stdout);
    assert.deepEqual(fromTs, { rows: [{ country: 'DE', orders: 1, revenue: 19.99 }], unknown: true });
    const fromJs = JSON.parse((await run(process.execPath, [join(app, 'use.js'), join(temp.dir, 'js-data')], { cwd: app })).stdout);
    assert.deepEqual(fromJs, [{ page: '/', hits: 2 }]);
    const fromCluster = JSON.parse((await run(process.execPath, [join(app, 'out', 'use-cluster.js'), join(temp.dir, 'cluster-data')], { cwd: app })).stdout);
    assert.deepEqual(fromCluster, { missing: true });

    const bin = join(app, 'node_modules', 'tandem', 'bin', 'tandem.js');
    const help = await run(process.execPath, [bin, '--help'], { cwd: app });
    assert.match(help.stdout, /Usage: tandem/);
    // A TypeScript config needs tsx, an optional peer: without it, one sentence says what to install.
    const withoutTsx = await run(process.execPath, [bin, 'serve', '--config', 'tandem.config.ts', '--data', join(temp.dir, 'no-tsx'), '--port', '0'], { cwd: app }).then(() => undefined, (error: { stderr?: string }) => error.stderr);
    assert.match(withoutTsx ?? '', /needs tsx, which is not installed: run 'npm i -D tsx', or write the config as JSON\./);
    // As a user would add it; the app denies esbuild's install script as this package does (npm 11 warns of a script neither allowed nor denied).
    await writeFile(join(app, 'package.json'), JSON.stringify({ ...JSON.parse(await readFile(join(app, 'package.json'), 'utf8')), allowScripts: { esbuild: false } }));
    const tsx = await run('npm', ['install', '-D', 'tsx@4', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel', 'warn'], { cwd: app, maxBuffer: 1 << 24 });
    assert.deepEqual(unexpectedWarnings(tsx.stdout + tsx.stderr), [], 'npm install tsx warned');
    const server = await serveUntilListening(bin, app, ['serve', '--config', 'tandem.config.ts', '--data', join(temp.dir, 'cli-data'), '--port', '0']);
    try {
      const ingest = await fetch(`${server.url}/v1/events/order`, {
        method: 'POST', headers: { 'content-type': 'application/x-ndjson' },
        body: JSON.stringify({ id: 'b', at: '2024-05-01T13:00:00Z', country: 'FR', amount: 5 }),
      });
      assert.equal(ingest.status, 200, await ingest.text());
      const query = await fetch(`${server.url}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ view: 'revenue_by_country', granularity: 'all' }) });
      assert.deepEqual((await query.json() as { rows: unknown }).rows, [{ orders: 1, revenue: 5 }]);
      const fromClient = JSON.parse((await run(process.execPath, [join(app, 'out', 'use-client.js'), server.url], { cwd: app })).stdout);
      assert.deepEqual(fromClient, { lastOffset: 1, country: 'JP', rows: 2, unknown: true });
    } finally {
      await server.stop();
    }
  } finally {
    await temp.remove();
  }
});

test('package - installed from a git URL, npm clones it and its prepare script builds dist/, which then works (a clone of this repository\'s HEAD)', { timeout: 900_000 }, async (t) => {
  const temp = await makeTempDir('tandem-git-');
  try {
    // A clone stands for the remote: git+file:// takes the same path as git+https:// from here on.
    const repo = join(temp.dir, 'repo');
    await run('git', ['clone', '--quiet', ROOT, repo]);
    const app = join(temp.dir, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const installed = await run('npm', ['install', `git+file://${repo}`, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel', 'warn'], { cwd: app, maxBuffer: 1 << 24 })
      .catch((error: { stderr?: string }) => {
        if (process.env.TANDEM_REQUIRE_SERVICES === undefined && OFFLINE.test(error.stderr ?? '')) return undefined;
        throw error;
      });
    if (installed === undefined) return t.skip('SKIPPED: the npm registry is out of reach, so the git clone\'s dependencies cannot be installed (set TANDEM_REQUIRE_SERVICES=1 to fail instead)');
    assert.deepEqual(unexpectedWarnings(installed.stdout + installed.stderr), [], 'npm install warned');
    assert.ok(existsSync(join(app, 'node_modules', 'tandem', 'dist', 'index.js')), 'prepare did not build dist/');
    assert.ok(existsSync(join(app, 'node_modules', 'tandem', 'dist', 'dashboard', 'assets', 'uplot', 'uPlot.iife.min.js')), 'the build did not copy uPlot');
    await writeFile(join(app, 'use.js'), USE_JS);
    const fromJs = JSON.parse((await run(process.execPath, [join(app, 'use.js'), join(temp.dir, 'js-data')], { cwd: app })).stdout);
    assert.deepEqual(fromJs, [{ page: '/', hits: 2 }]);
  } finally {
    await temp.remove();
  }
});
