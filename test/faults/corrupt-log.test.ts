/**
 * Damaged log segments: a flipped byte inside a sealed segment, and inside
 * the active segment with acknowledged frames after it. The engine must
 * refuse to start on them (naming the file, the byte and the way out), and
 * `tandem repair` must keep every readable event, leave out exactly the
 * unreadable offsets in every layer, and set the damaged file aside.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { CorruptLogError, Tandem, type LogRepair } from '../../src/index.ts';
import { decodeFrame } from '../../src/log/index.ts';
import { checkAllQueries } from '../support/check-answers.ts';
import { shopConfig } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent } from '../support/shop-events.ts';
import { runCli } from '../support/spawn-cli.ts';
import { withTempDir } from '../support/temp-dir.ts';

// Unique ids: the generator's few keys are for duplicates, and these tests want many events on disk.
const EVENTS = fc.sample(fc.array(shopEvent, { minLength: 600, maxLength: 600 }), { seed: 20261126, numRuns: 1 })[0]!
  .map((e, i) => ({ ...e, ref: { ...e.ref, id: `u${i}` }, raw: { ...e.raw, id: `u${i}` } }));
// Salvage is tested on segments not exported yet: an exported one is rebuilt from its copy (tested below).
const open = (dir: string, exportInBackground = false) => Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 4096, exportInBackground });

/** Ingests in batches of 20 so the log rolls over many small segments; returns what was accepted, in offset order. */
async function fill(dir: string, batchFirst: boolean, exportInBackground = false): Promise<AcceptedEvents> {
  const accepted = new AcceptedEvents();
  const engine = await open(dir, exportInBackground);
  try {
    for (let i = 0; i < EVENTS.length; i += 20) {
      if (batchFirst && i === 200) await engine.runBatch();
      const slice = EVENTS.slice(i, i + 20);
      await engine.ingestUntyped('order', slice.map((e) => e.raw));
      accepted.add(slice);
    }
    assert.equal(engine.status().logEnd, accepted.events.length);
  } finally {
    await engine.close();
  }
  return accepted;
}

async function segments(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'log'))).filter((n) => n.endsWith('.seg')).sort().map((n) => join(dir, 'log', n));
}

async function flipByte(file: string, at: number): Promise<void> {
  const bytes = await readFile(file);
  bytes[at] = bytes[at]! ^ 0x5a;
  await writeFile(file, bytes);
}

/** The accepted events whose offsets repair did not give up. */
function survivors(accepted: AcceptedEvents, repairs: readonly LogRepair[]): AcceptedEvents {
  const lost = repairs.flatMap((r) => r.lost);
  const kept = new AcceptedEvents();
  kept.events.push(...accepted.events.filter((_, offset) => !lost.some(([from, to]) => offset >= from && offset < to)));
  return kept;
}

async function refusesToOpen(dir: string, file: string): Promise<void> {
  await assert.rejects(open(dir), (error: unknown) => {
    assert.ok(error instanceof CorruptLogError, String(error));
    assert.equal(error.file, file);
    assert.match(error.message, new RegExp(`^Log file .+ is damaged at byte \\d+ \\(checksum mismatch\\): restore it from a backup, or run 'tandem repair --data ${dir}' to keep every readable event and set the damaged file aside\\.$`));
    return true;
  });
}

async function checkRepaired(dir: string, accepted: AcceptedEvents, repairs: readonly LogRepair[], file: string): Promise<void> {
  assert.equal(repairs.length, 1);
  assert.equal(repairs[0]!.file, file);
  assert.equal(repairs[0]!.lost.length, 1);
  const [from, to] = repairs[0]!.lost[0]!;
  assert.ok(to > from, 'the damaged frame held events');
  assert.match(repairs[0]!.quarantined!, /quarantine\/\d{20}\.seg\.\d+$/);
  const kept = survivors(accepted, repairs);
  const engine = await open(dir);
  try {
    assert.equal(engine.status().logEnd, accepted.events.length, 'offsets stay gap-free: the lost range keeps its place');
    await checkAllQueries(engine, kept);
    await engine.runBatch();
    await checkAllQueries(engine, kept);
  } finally {
    await engine.close();
  }
  // Repaired once is repaired: a second pass finds nothing.
  assert.deepEqual(await Tandem.repair(dir), []);
}

test('corrupt log: a flipped byte in a sealed segment stops the engine; repair keeps every other event, in every layer', async () => {
  await withTempDir(async (dir) => {
    const accepted = await fill(dir, true);
    const files = await segments(dir);
    assert.ok(files.length > 4, `${files.length} segments`);
    const damaged = files[1]!;
    await flipByte(damaged, 900);
    await refusesToOpen(dir, damaged);
    await checkRepaired(dir, accepted, await Tandem.repair(dir), damaged);
  });
});

test('corrupt log: a sealed segment exported in the background before it was damaged is rebuilt whole from its Parquet copy', async () => {
  await withTempDir(async (dir) => {
    const accepted = await fill(dir, true, true);
    const files = await segments(dir);
    const damaged = files[1]!;
    const exported = (await readdir(join(dir, 'master', '_segments'))).map((n) => n.replace(/-.*/, ''));
    assert.ok(exported.includes(basename(damaged, '.seg')), 'closing waits for the background exports of every rolled segment');
    await flipByte(damaged, 900);
    await refusesToOpen(dir, damaged);
    const repairs = await Tandem.repair(dir);
    assert.equal(repairs.length, 1);
    assert.equal(repairs[0]!.file, damaged);
    assert.deepEqual(repairs[0]!.lost, [], 'nothing is lost: the export holds every event');
    assert.match(repairs[0]!.restoredFrom!, new RegExp(`_segments/${basename(damaged, '.seg')}-\\d{20}\\.json$`));
    assert.match(repairs[0]!.quarantined!, /quarantine\/\d{20}\.seg\.\d+$/);
    const engine = await open(dir, true);
    try {
      assert.equal(engine.status().logEnd, accepted.events.length);
      await checkAllQueries(engine, accepted);
      await engine.runBatch();
      await checkAllQueries(engine, accepted);
    } finally {
      await engine.close();
    }
    assert.deepEqual(await Tandem.repair(dir), []);
  });
});

test('corrupt log: damage in the active segment with acknowledged frames after it is not mistaken for a torn tail', async () => {
  await withTempDir(async (dir) => {
    const accepted = await fill(dir, false);
    // A few one-event appends so the active segment surely holds several frames.
    const engine = await open(dir);
    const extra = EVENTS.slice(0, 5).map((e, i) => ({ ...e, ref: { ...e.ref, id: `x${i}` }, raw: { ...e.raw, id: `x${i}` } })).filter((e) => e.valid);
    for (const e of extra) await engine.ingestUntyped('order', [e.raw]);
    accepted.add(extra);
    await engine.close();
    const active = (await segments(dir)).at(-1)!;
    const bytes = await readFile(active);
    const first = decodeFrame(bytes, 0);
    assert.ok(typeof first !== 'string' && first.size < bytes.length, 'intact frames follow the first one');
    await flipByte(active, Math.floor(first.size / 2));
    await refusesToOpen(dir, active);
    await checkRepaired(dir, accepted, await Tandem.repair(dir), active);
  });
});

test('corrupt log: a sealed segment damaged while the server runs fails the batch run, which names it, and the old answers keep serving', async () => {
  await withTempDir(async (dir) => {
    const accepted = await fill(dir, true);
    const engine = await open(dir);
    try {
      const version = engine.status().batch!.version;
      const sealed = (await segments(dir)).slice(0, -1);
      await flipByte(sealed.at(-1)!, 100);
      await assert.rejects(engine.runBatch(), (error: unknown) => error instanceof CorruptLogError && error.file === sealed.at(-1));
      assert.equal(engine.status().batch!.version, version);
      await checkAllQueries(engine, accepted);
    } finally {
      await engine.close();
    }
  });
});

test('tandem repair prints what it did in one line per file, and says when there is nothing to do', async () => {
  await withTempDir(async (dir) => {
    await fill(dir, false);
    const clean = await runCli(['repair', '--data', dir]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stdout.trim(), `Nothing to repair: every log segment in ${dir} reads whole, and every offset is where the layers read it.`);
    const damaged = (await segments(dir))[0]!;
    await flipByte(damaged, 300);
    const config = join(dir, '..', `${basename(dir)}.config.json`);
    await writeFile(config, JSON.stringify(shopConfig));
    const served = await runCli(['serve', '--config', config, '--data', dir, '--port', '0']);
    await rm(config);
    assert.equal(served.code, 1);
    assert.match(served.stderr, new RegExp(`^tandem: Log file ${damaged} is damaged at byte \\d+ \\(checksum mismatch\\): restore it from a backup, or run 'tandem repair --data ${dir}'`));
    const repaired = await runCli(['repair', '--data', dir]);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.match(repaired.stdout, new RegExp(`^${damaged}: lost offsets [\\d,]+–[\\d,]+ \\(checksum mismatch at byte \\d+\\); the original is kept at .+quarantine/.+\\n\\n(1 event could not be read and is|[\\d,]+ events could not be read and are) left out of every view; the next batch run rebuilds the views without them\\.\\n$`));
    const missing = await runCli(['repair', '--data', join(dir, 'nowhere')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^tandem: .+nowhere holds no Tandem event log \(no log\/ directory\)\.\n$/);
  });
});
