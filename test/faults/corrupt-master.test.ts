/**
 * A damaged master dataset: a flipped byte in, or the loss of, a Parquet file
 * whose log segment is gone, and a damaged segment manifest. A batch run must
 * refuse to read a damaged file (naming it) while the published views keep
 * serving; a damaged manifest is rebuilt from its Parquet files.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CorruptMasterFileError, Tandem, type EngineLogger } from '../../src/index.ts';
import { checkAllQueries } from '../support/check-answers.ts';
import { shopConfig } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent } from '../support/shop-events.ts';
import { withTempDir } from '../support/temp-dir.ts';

const EVENTS = fc.sample(fc.array(shopEvent, { minLength: 500, maxLength: 500 }), { seed: 20261127, numRuns: 1 })[0]!
  .map((e, i) => ({ ...e, ref: { ...e.ref, id: `m${i}` }, raw: { ...e.raw, id: `m${i}` } }));
const open = (dir: string, logger?: EngineLogger) => Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 4096, logger });

/** Two batch runs with events between, then more events for the speed layer. */
async function build(dir: string): Promise<AcceptedEvents> {
  const accepted = new AcceptedEvents();
  const engine = await open(dir);
  try {
    for (const [from, to] of [[0, 200], [200, 400], [400, 500]] as const) {
      const slice = EVENTS.slice(from, to);
      await engine.ingestUntyped('order', slice.map((e) => e.raw));
      accepted.add(slice);
      if (to < 500) await engine.runBatch();
    }
  } finally {
    await engine.close();
  }
  return accepted;
}

async function masterFiles(dir: string): Promise<string[]> {
  const root = join(dir, 'master', 'order');
  return (await readdir(root)).filter((n) => n.endsWith('.parquet')).sort().map((n) => join(root, n));
}

const DAMAGES: Record<string, (file: string) => Promise<void>> = {
  'a flipped byte in a master Parquet file': async (file) => {
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 3)] ^= 0x01;
    await writeFile(file, bytes);
  },
  'a missing master Parquet file': (file) => rm(file),
};

for (const [name, damage] of Object.entries(DAMAGES)) {
  test(`corrupt master dataset: ${name} stops the next full batch run, which names it; the published views keep serving`, async () => {
    await withTempDir(async (dir) => {
      const accepted = await build(dir);
      const engine = await open(dir);
      try {
        const version = engine.status().batch!.version;
        const bad = (await masterFiles(dir))[1]!;
        await damage(bad);
        // An incremental cycle reads (and checks) only the files past the published cutoff; the full recompute reads them all.
        await assert.rejects(engine.runBatch({ full: true }), (error: unknown) => {
          assert.ok(error instanceof CorruptMasterFileError, String(error));
          assert.equal(error.file, bad);
          assert.match(error.message, /^Master dataset file .+ is damaged \(.+\): restore it from a backup, since no batch run can go ahead without it\.$/);
          return true;
        });
        assert.equal(engine.status().batch!.version, version);
        await checkAllQueries(engine, accepted);
      } finally {
        await engine.close();
      }
    });
  });
}

test('corrupt master dataset: a damaged segment manifest is named and rebuilt from its Parquet files', async () => {
  await withTempDir(async (dir) => {
    const accepted = await build(dir);
    const manifests = join(dir, 'master', '_segments');
    const bad = join(manifests, (await readdir(manifests)).sort()[0]!);
    const manifest = JSON.parse(await readFile(bad, 'utf8'));
    manifest.files.order.rows += 1;
    await writeFile(bad, JSON.stringify(manifest));
    const errors: { file?: string }[] = [];
    const engine = await open(dir, { info() {}, warn() {}, error: (object) => void errors.push(object) });
    try {
      assert.deepEqual(errors.map((e) => e.file), [bad]);
      await engine.runBatch();
      await checkAllQueries(engine, accepted);
    } finally {
      await engine.close();
    }
    const rebuilt = JSON.parse(await readFile(bad, 'utf8'));
    assert.equal(rebuilt.files.order.rows, manifest.files.order.rows - 1);
  });
});

test('corrupt master dataset: a file missing at start-up is named, the engine still starts on its published views, and full batch runs wait for it', async () => {
  await withTempDir(async (dir) => {
    const accepted = await build(dir);
    const bad = (await masterFiles(dir))[0]!;
    await rm(bad);
    const errors: { file?: string }[] = [];
    const engine = await open(dir, { info() {}, warn() {}, error: (object) => void errors.push(object) });
    try {
      assert.deepEqual(errors.map((e) => e.file), [bad]);
      await checkAllQueries(engine, accepted);
      await assert.rejects(engine.runBatch({ full: true }), (error: unknown) => error instanceof CorruptMasterFileError && error.file === bad);
      await checkAllQueries(engine, accepted);
    } finally {
      await engine.close();
    }
  });
});

test('corrupt master dataset: a damaged segment manifest whose Parquet file is also gone is not rebuilt short; the start fails naming it', async () => {
  await withTempDir(async (dir) => {
    await build(dir);
    const manifests = join(dir, 'master', '_segments');
    const bad = join(manifests, (await readdir(manifests)).sort()[0]!);
    await writeFile(bad, '{"base": 0, "end');
    await rm((await masterFiles(dir))[0]!);
    await assert.rejects(open(dir), (error: unknown) => error instanceof CorruptMasterFileError && error.file === bad
      && /holds? 0 events where \d+ were due, so one of them is missing or cut short\): restore it from a backup/.test(error.message));
  });
});
