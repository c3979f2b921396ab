/**
 * Hostile input to the CLI (seeded): malformed and hostile query JSON,
 * NDJSON, CSV and "Parquet" files full of garbage, and mangled arguments.
 * Every run must end with exit code 0 or 1, never a stack trace, and a
 * failure must say what is wrong in one line; the server stays up and its
 * earlier data is unchanged.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Tandem } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { runCli, type CliResult } from '../support/spawn-cli.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { openTestServer, type TestServer } from '../support/test-server.ts';

const HOSTILE = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom("'; DROP TABLE events; --", '" OR 1=1 --', '__proto__', 'constructor', '\u0000', '\ud800', 'NaN', 'Infinity', '-0', '1e309', '9007199254740993', 'x'.repeat(5000)),
);
const QUERY_TEXT = fc.oneof(
  HOSTILE,
  fc.json({ maxDepth: 4 }),
  fc.record({ view: fc.oneof(HOSTILE, fc.constant('all_time')), groupBy: fc.array(HOSTILE, { maxLength: 2 }), granularity: HOSTILE, limit: fc.oneof(fc.integer(), fc.double()) }, { requiredKeys: ['view'] }).map((q) => JSON.stringify(q)),
);
const LINE = fc.oneof(
  HOSTILE,
  fc.json({ maxDepth: 3 }),
  fc.record({ id: HOSTILE, at: fc.oneof(HOSTILE, fc.constant('2024-05-01T00:00:00Z')), country: HOSTILE, mobile: fc.boolean(), amount: fc.oneof(fc.double(), fc.integer()), qty: fc.integer() }).map((e) => JSON.stringify(e)),
);
const FILE = fc.record({ extension: fc.constantFrom('.ndjson', '.csv', '.parquet', '.txt'), lines: fc.array(LINE, { maxLength: 8 }) });
const ARGS = fc.array(fc.oneof(HOSTILE, fc.constantFrom('--url', '--port', '-1', '--batch-every', '--scopes', 'query', 'status', 'batch', 'keygen', '--json', '--api-key', '--data', '--nope')), { maxLength: 5 });

// 12 of each in `npm test` (each case is a process start); TANDEM_FUZZ_CASES=200 for a deeper run.
const CASES = Number(process.env.TANDEM_FUZZ_CASES ?? 12);
let temp: Awaited<ReturnType<typeof makeTempDir>>;
let opened: TestServer;
let tandem: Tandem;
let url: string;

before(async () => {
  temp = await makeTempDir('tandem-cli-fuzz-');
  opened = await openTestServer(shopConfig);
  tandem = opened.tandem;
  await tandem.ingest('order', [{ id: 'keep-1', at: '2024-05-01T00:00:00Z', country: 'KEEP', mobile: true, amount: 5, qty: 1 }]);
  url = await opened.server.app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await opened.close();
  await temp.remove();
});

function checkOutcome(args: readonly string[], result: CliResult): void {
  const label = JSON.stringify(args).slice(0, 300);
  assert.ok(result.code === 0 || result.code === 1, `${label} exited ${result.code}: ${result.stderr.slice(0, 500)}`);
  assert.doesNotMatch(result.stderr, /\n\s+at |node:internal|TypeError|ReferenceError/, label);
  // Commander's own answers ("error: unknown option", or the usage when no command is given) are fine too.
  if (result.code === 1) assert.match(result.stderr, /^(tandem: |error: |Usage: tandem).+/, label);
  if (result.code === 1 && result.stderr.startsWith('tandem: ')) assert.equal(result.stderr.trim().split('\n').length, 1, `${label}: ${result.stderr}`);
}

/** Runs the cases three at a time: each is a real process start. */
async function runAll(generated: readonly (readonly string[])[]): Promise<void> {
  // An argument cannot hold a NUL byte (the OS ends it there), so none is generated into one.
  const cases = generated.map((args) => args.map((a) => a.replaceAll('\0', '')));
  for (let i = 0; i < cases.length; i += 3) {
    const results = await Promise.all(cases.slice(i, i + 3).map((args) => runCli(args)));
    results.forEach((result, j) => checkOutcome(cases[i + j]!, result));
  }
}

test('cli fuzz: hostile queries, files and arguments exit 0 or 1 with one clear line, never a stack; the server keeps its data', { timeout: 180_000 }, async () => {
  const queries = fc.sample(QUERY_TEXT, { seed: 20261125, numRuns: CASES }).map((text) => ['query', text, '--url', url]);
  const files = await Promise.all(fc.sample(FILE, { seed: 20261126, numRuns: CASES }).map(async (file, i) => {
    const path = join(temp.dir, `input-${i}${file.extension}`);
    await writeFile(path, file.lines.join('\n'));
    return ['ingest', path, '--event', 'order', '--url', url, '--no-progress'];
  }));
  const args = fc.sample(ARGS, { seed: 20261127, numRuns: CASES });
  await runAll([...queries, ...files, ...args]);

  const { rows } = await tandem.query({ view: 'all_time', granularity: 'all', where: { country: 'KEEP' } });
  assert.deepEqual(rows, [{ orders: 1, revenue: 5, sizes: 1, typical: { p50: 1, p90: 1, p99: 1 } }]);
  assert.equal((await opened.server.app.inject({ url: '/healthz' })).statusCode, 200);
});
