/**
 * Faults: `tandem ingest --history A B` killed with SIGKILL at several
 * moments, then the data directory opened again. Each file is in every
 * answer whole or not at all (one committed but not yet published when the
 * kill came appears with the next cycle), and the same import run again
 * completes it exactly: a committed file's rows come back as duplicates,
 * the rest are imported once. (The CLI runs from dist: `npm run build` first.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { Tandem } from '../../src/index.ts';
import { BIN } from '../support/spawn-cli.ts';

const ROWS = 600_000;
const config = {
  eventTypes: [
    { name: 'tick', time: 'at', idempotencyKey: 'id', fields: { id: 'string', at: 'timestamp', client: 'string', seq: { type: 'number', scale: 0 } } },
    { name: 'beat', time: 'at', fields: { id: 'string', at: 'timestamp', client: 'string', seq: { type: 'number', scale: 0 } } },
  ],
  views: [
    { name: 'by_client', eventType: 'tick', dimensions: ['client'], granularity: 'none', measures: { n: { type: 'count' }, total: { type: 'sum', field: 'seq' } } },
    { name: 'beats', eventType: 'beat', dimensions: ['client'], granularity: 'none', measures: { n: { type: 'count' }, total: { type: 'sum', field: 'seq' } } },
  ],
};

let dir: string;
let files: string[];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-history-kill-'));
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  files = [];
  for (const client of ['a', 'b']) {
    const path = join(dir, `${client}.parquet`);
    await connection.run(`COPY (SELECT '${client}' || i AS id, TIMESTAMP '2021-01-01' + INTERVAL (i) SECOND AS "at", '${client}' AS client, i AS seq FROM range(${ROWS}) t(i)) TO '${path}' (FORMAT parquet)`);
    files.push(path);
  }
  connection.closeSync();
  instance.closeSync();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts the import and kills it `afterMs` later (or lets it finish first); resolves once it is gone. */
function importKilledAfter(dataDir: string, afterMs: number, eventType = 'tick'): Promise<void> {
  const child = spawn(process.execPath, [BIN, 'ingest', '--history', ...files, '--event', eventType, '--data', dataDir, '--config', join(dir, 'config.json'), '--no-progress'], { stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
  return new Promise((resolve) => child.on('exit', () => {
    clearTimeout(timer);
    resolve();
  }));
}

/** Per client, events counted by the merged answer. */
async function counts(engine: Tandem, view = 'by_client'): Promise<Map<string, number>> {
  const { rows } = await engine.query({ view, granularity: 'all', groupBy: ['client'] });
  return new Map(rows.map((r) => [String(r.client), Number(r.n)]));
}

const TOTAL = (ROWS * (ROWS - 1)) / 2;

for (const afterMs of [400, 1_200, 2_500, 4_000]) {
  test(`kill -9 during a history import (${afterMs} ms in) - each file whole or absent, and the import run again completes it exactly`, { timeout: 180_000 }, async () => {
    const dataDir = join(dir, `data-${afterMs}`);
    await importKilledAfter(dataDir, afterMs);
    const engine = await Tandem.open({ dataDir, config });
    try {
      const seen = await counts(engine);
      for (const client of ['a', 'b']) assert.ok([0, ROWS].includes(seen.get(client) ?? 0), `file ${client}: ${seen.get(client)} of ${ROWS} rows visible`);
      // The files are imported in order: b only after a.
      if ((seen.get('b') ?? 0) > 0) assert.equal(seen.get('a'), ROWS);
      const visible = (seen.get('a') ?? 0) + (seen.get('b') ?? 0);
      const summary = await engine.importHistory('tick', files);
      // A file committed but not yet published when the kill came is found stored, and published by this import's cycle.
      assert.ok([0, ROWS, 2 * ROWS].includes(summary.duplicates) && summary.duplicates >= visible, `${summary.duplicates} found stored, ${visible} visible`);
      assert.equal(summary.imported, 2 * ROWS - summary.duplicates, 'the rest are imported once');
      const { rows } = await engine.query({ view: 'by_client', granularity: 'all', groupBy: ['client'] });
      assert.deepEqual(rows.map((r) => [r.client, r.n, r.total]).sort(), [['a', ROWS, TOTAL], ['b', ROWS, TOTAL]]);
    } finally {
      await engine.close();
    }
  });
}

for (const afterMs of [600, 1_000, 1_400]) {
  test(`kill -9 during a history import of a type without a key (${afterMs} ms in) - resumed with resume, each file ends up imported exactly once`, { timeout: 180_000 }, async () => {
    const dataDir = join(dir, `data-keyless-${afterMs}`);
    await importKilledAfter(dataDir, afterMs, 'beat');
    const engine = await Tandem.open({ dataDir, config });
    try {
      await engine.runBatch({ seal: true });
      const seen = await counts(engine, 'beats');
      for (const client of ['a', 'b']) assert.ok([0, ROWS].includes(seen.get(client) ?? 0), `file ${client}: ${seen.get(client)} of ${ROWS} rows visible`);
      const summary = await engine.importHistory('beat', files, { resume: true });
      assert.equal(summary.skipped.length * ROWS, (seen.get('a') ?? 0) + (seen.get('b') ?? 0), 'the files committed before the kill are skipped');
      const { rows } = await engine.query({ view: 'beats', granularity: 'all', groupBy: ['client'] });
      assert.deepEqual(rows.map((r) => [r.client, r.n, r.total]).sort(), [['a', ROWS, TOTAL], ['b', ROWS, TOTAL]]);
    } finally {
      await engine.close();
    }
  });
}
