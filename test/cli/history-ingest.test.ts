/**
 * `tandem ingest --history`, as users run it (from dist: `npm run build`
 * first): in a terminal it draws a progress bar, then prints the summary
 * with the first rejected rows, into a data directory (`--data`) or into a
 * running server (`--url`), where the files are uploaded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tandem } from '../../src/index.ts';
import { createServer } from '../../src/server/index.ts';
import { dataDirectory } from '../../src/util/data-directory.ts';
import { BIN, runCli } from '../support/spawn-cli.ts';
import { withTempDir } from '../support/temp-dir.ts';

const config = {
  eventTypes: [
    { name: 'visit', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', page: 'string' } },
    { name: 'ping', time: 'at', fields: { at: 'timestamp', page: 'string' } },
  ],
  views: [{ name: 'by_page', eventType: 'visit', dimensions: ['page'], granularity: 'day', measures: { n: { type: 'count' } } }],
};

/** Runs the command in a pseudo-terminal (util-linux `script`), so that stderr is a TTY and the bar is drawn. */
function runInTerminal(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, TZ: 'UTC' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('tandem ingest --history - a progress bar in a terminal, the summary with the first rejected rows, and nothing more on a second load', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'visits.ndjson');
    const lines = Array.from({ length: 2_000 }, (_, i) => JSON.stringify({ id: `v${i}`, at: 1_600_000_000_000 + i * 60_000, page: `/p${i % 7}` }));
    lines[1] = JSON.stringify({ id: 'v1', at: 'yesterday', page: '/p1' });
    await writeFile(file, `${lines.join('\n')}\n`);
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const args = ['ingest', '--history', file, '--event', 'visit', '--data', join(dir, 'data'), '--config', join(dir, 'config.json')];
    const first = await runInTerminal([...args, '--max-rejects', '1']);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /(importing|publishing) \|[█░]+\| \d+% \| [\d,]+\/[\d,]+ rows/);
    assert.match(first.output, /2,000 rows read from 1 file: 1,999 imported \(0 already stored\), 1 rejected/);
    assert.match(first.output, /visits\.ndjson row 2: Field 'at' must be an ISO-8601 date-time/);
    const again = await runCli([...args, '--max-rejects', '1']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 imported \(1,999 already stored\), 1 rejected/);
    const strict = await runCli(args);
    assert.equal(strict.code, 1, 'a reject beyond --max-rejects fails the command');
  });
});

test('tandem ingest --history - says a keyless type would store a file twice; without --data or --nats it goes to the server at --url', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'pings.ndjson');
    await writeFile(file, `${JSON.stringify({ at: 1_600_000_000_000, page: '/' })}\n`);
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const keyless = await runCli(['ingest', '--history', file, '--event', 'ping', '--data', join(dir, 'data'), '--config', join(dir, 'config.json')]);
    assert.equal(keyless.code, 0, keyless.stderr);
    assert.match(keyless.stdout, /^Event type 'ping' declares no idempotencyKey, so importing the same file again would store its events twice\./);
    const served = await runCli(['ingest', '--history', file, '--event', 'ping', '--url', 'http://127.0.0.1:1']);
    assert.equal(served.code, 1);
    assert.match(served.stderr, /^tandem: Cannot reach a Tandem server at http:\/\/127\.0\.0\.1:1\//);
  });
});

test('tandem ingest --history --url - uploads each file to the running server with a progress bar, prints one summary, and a second load adds nothing', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const tandem = await Tandem.open({ dataDir: join(dir, 'data'), config });
    const { app } = createServer({ tandem });
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const visits = join(dir, 'visits.ndjson');
      const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ id: `v${i}`, at: 1_600_000_000_000 + i * 60_000, page: `/p${i % 3}` }));
      lines[4] = JSON.stringify({ id: 'v4', at: 'later', page: '/p1' });
      await writeFile(visits, `${lines.join('\n')}\n`);
      const more = join(dir, 'more.csv');
      await writeFile(more, `id,at,page\n${Array.from({ length: 100 }, (_, i) => `m${i},2020-09-14T00:00:00Z,/m`).join('\n')}\n`);
      const args = ['ingest', '--history', visits, more, '--event', 'visit', '--url', url, '--max-rejects', '1'];
      const first = await runInTerminal(args);
      assert.equal(first.code, 0, first.output);
      assert.match(first.output, /uploading \|[█░]+\| \d+% \| [\d,]+\/[\d,]+ bytes \| visits\.ndjson \(1\/2\)/);
      assert.match(first.output, /600 rows read from 2 files: 599 imported \(0 already stored\), 1 rejected/);
      assert.match(first.output, /visits\.ndjson row 5: Field 'at' must be an ISO-8601 date-time/);
      const { rows } = await tandem.query({ view: 'by_page', groupBy: ['page'], granularity: 'all' });
      assert.deepEqual(Object.fromEntries(rows.map((r) => [r.page, r.n])), { '/p0': 167, '/p1': 166, '/p2': 166, '/m': 100 });
      const again = await runCli(args);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /0 imported \(599 already stored\), 1 rejected/);
      const pings = join(dir, 'pings.ndjson');
      await writeFile(pings, `${JSON.stringify({ at: 1_600_000_000_000, page: '/' })}\n`);
      const keyless = await runCli(['ingest', '--history', pings, '--event', 'ping', '--url', url]);
      assert.equal(keyless.code, 0, keyless.stderr);
      assert.match(keyless.stdout, /^Event type 'ping' declares no idempotencyKey/);
      assert.deepEqual(await readdir(dataDirectory(tandem.dataDir).uploads), [], 'no uploaded file stays');
      const missing = await runCli(['ingest', '--history', visits, join(dir, 'nope.csv'), '--event', 'visit', '--url', url]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /History file .*nope\.csv cannot be imported: it does not exist\./);
      const resume = await runCli([...args, '--resume']);
      assert.equal(resume.code, 1);
      assert.match(resume.stderr, /--resume applies to --data and --nats/);
    } finally {
      await app.close();
      await tandem.close();
    }
  });
});
