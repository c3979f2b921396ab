/**
 * `tandem ingest --history`, as users run it (from dist: `npm run build`
 * first): in a terminal it draws a progress bar, then prints the summary
 * with the first rejected rows; it refuses to run without a data directory.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
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

test('tandem ingest --history - says a keyless type would store a file twice, and needs a data directory', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'pings.ndjson');
    await writeFile(file, `${JSON.stringify({ at: 1_600_000_000_000, page: '/' })}\n`);
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const keyless = await runCli(['ingest', '--history', file, '--event', 'ping', '--data', join(dir, 'data'), '--config', join(dir, 'config.json')]);
    assert.equal(keyless.code, 0, keyless.stderr);
    assert.match(keyless.stdout, /^Event type 'ping' declares no idempotencyKey, so importing the same file again would store its events twice\./);
    const served = await runCli(['ingest', '--history', file, '--event', 'ping', '--url', 'http://127.0.0.1:1']);
    assert.equal(served.code, 1);
    assert.match(served.stderr, /History imports \(--history\) write a data directory \(pass --data and --config\) or a cluster \(pass --nats and --config, with --url naming one of its nodes\); a running embedded server cannot import history/);
  });
});
