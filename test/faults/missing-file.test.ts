/**
 * No answer is ever silently short: after any schedule of ingests, batch
 * cycles and restarts, any one file of the data directory is deleted or
 * damaged. The engine then either answers exactly (a copy survived and it
 * used it) or refuses in one sentence naming what is missing; `tandem
 * repair` brings it back to answering exactly, with a lost range only where
 * no copy of the file's events survived, and a full batch agrees.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { Tandem, TandemError } from '../../src/index.ts';
import { checkAllQueries } from '../support/check-answers.ts';
import { shopConfig } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent, type GeneratedEvent } from '../support/shop-events.ts';
import { withTempDir } from '../support/temp-dir.ts';

type Step = { readonly kind: 'ingest'; readonly events: readonly GeneratedEvent[] } | { readonly kind: 'batch' } | { readonly kind: 'restart' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.array(shopEvent.filter((e) => e.valid), { minLength: 1, maxLength: 60 }).map((events) => ({ kind: 'ingest' as const, events })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'batch' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

/** Every file of the data directory a layer reads, relative to it. */
async function dataFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((name) => /^(log|master|batch)\//.test(name))
    .sort();
}

/** Whether another copy of the file's events survives: the log and the master dataset hold each sealed segment twice until a batch releases it. */
function hasCopy(file: string, files: readonly string[]): boolean {
  if (file.startsWith('batch/')) return true;
  const range = /(\d{20})-(\d{20})\.(json|parquet)$/.exec(file);
  if (file.startsWith('master/_segments/') && range !== null) return files.some((f) => f.endsWith(`${range[1]}-${range[2]}.parquet`)) || files.includes(`log/${range[1]}.seg`);
  if (file.startsWith('master/') && range !== null) return files.includes(`log/${range[1]}.seg`);
  const segment = /^log\/(\d{20})\.seg$/.exec(file);
  return segment !== null && files.some((f) => f.startsWith(`master/_segments/${segment[1]}-`));
}

test('missing or damaged files: the engine answers exactly or refuses naming what is missing, and repair brings back every event that has a copy', { timeout: 600_000 }, async (t) => {
  const outcomes = new Map<string, number>();
  const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 2, maxLength: 8 }), fc.nat(), fc.boolean(), async (steps, pick, damage) => {
    await withTempDir(async (dir) => {
      const open = () => Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 1024 });
      // Unique keys: each accepted event's offset is its place in the accepted list.
      const accepted = new AcceptedEvents();
      let id = 0;
      let engine = await open();
      try {
        for (const s of steps) {
          if (s.kind === 'ingest') {
            const events = s.events.map((e) => ({ ...e, ref: { ...e.ref, id: `u${id}` }, raw: { ...e.raw, id: `u${id++}` } }));
            await engine.ingestUntyped('order', events.map((e) => e.raw));
            accepted.add(events);
          } else if (s.kind === 'batch') await engine.runBatch();
          else {
            await engine.close();
            engine = await open();
          }
        }
      } finally {
        await engine.close();
      }
      // Damage to the newest log segment is out of scope, a known limit (docs/reliability.md): a damaged last frame
      // cannot be told from a write a crash cut short, and is cut off as one.
      const all = await dataFiles(dir);
      const newest = all.filter((f) => /^log\/\d{20}\.seg$/.test(f)).at(-1);
      const files = all.filter((f) => !(damage && f === newest));
      fc.pre(files.length > 0);
      // A kind of file first, then one of that kind, so that the few log segments are picked as often as the many view files.
      const kindOf = (f: string) => (f.startsWith('master/_segments/') ? 'manifest' : f.split('/')[0]!);
      const kinds = [...new Set(files.map(kindOf))].sort();
      const ofKind = files.filter((f) => kindOf(f) === kinds[pick % kinds.length]);
      const file = ofKind[Math.floor(pick / kinds.length) % ofKind.length]!;
      const copy = hasCopy(file, files);
      if (damage) {
        const bytes = await readFile(join(dir, file));
        if (bytes.length > 0) bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
        await writeFile(join(dir, file), bytes);
      } else await rm(join(dir, file));
      const what = `${damage ? 'damaged' : 'deleted'} ${file}`;

      // Either exact, or a refusal in one sentence: never an answer short of events.
      const reopened = await open().catch((error: unknown) => error);
      if (reopened instanceof Tandem) {
        try {
          await checkAllQueries(reopened, accepted);
          const full = await reopened.runBatch({ full: true }).then(() => true, (error: unknown) => {
            assert.ok(error instanceof TandemError, `${what}: a batch failed untyped: ${String(error)}`);
            return false;
          });
          if (full) await checkAllQueries(reopened, accepted);
          count(`${file.split('/').slice(0, 2).join('/').replace(/\/\d.*/, '')} answered`);
        } finally {
          await reopened.close();
        }
      } else {
        assert.ok(reopened instanceof TandemError, `${what}: open failed untyped: ${String(reopened)}`);
        assert.match(reopened.message, /^[^\n]+\.$/, `${what}: one sentence`);
        count(`${file.split('/').slice(0, 2).join('/').replace(/\/\d.*/, '')} refused`);
      }

      const repairs = await Tandem.repair(dir);
      // The newest segment's loss is known, not how many events it held: every event from its base on.
      const lostFrom = repairs.find((r) => r.lostFrom !== undefined)?.lostFrom;
      const lost = [...repairs.flatMap((r) => r.lost), ...(lostFrom === undefined ? [] : [[lostFrom, Infinity] as const])];
      if (copy) assert.deepEqual(lost, [], `${what}: a copy survived, yet repair lost ${JSON.stringify(lost)}`);
      if (file === newest) assert.ok(!copy && lostFrom !== undefined, `${what}: the newest segment's loss is reported`);
      if (lost.length > 0) count('repairs that recorded a lost range');
      const survivors = new AcceptedEvents();
      survivors.add(accepted.events.filter((_, offset) => !lost.some(([from, to]) => offset >= from && offset < to)).map((ref) => ({ ref, raw: {}, valid: true })));
      const repaired = await open();
      try {
        await checkAllQueries(repaired, survivors);
        await repaired.runBatch({ full: true });
        await checkAllQueries(repaired, survivors);
      } catch (error) {
        throw new Error(`${what}, repaired (${JSON.stringify(repairs)}): ${(error as Error).message}`, { cause: error });
      } finally {
        await repaired.close();
      }
    });
  }), { seed: 20261202, numRuns: Number(process.env.TANDEM_FUZZ_CASES ?? 30) });
  t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`);
});

test('missing files: a sealed log segment never exported is refused in one sentence naming its offsets, and repair records exactly its offsets as lost', async () => {
  await withTempDir(async (dir) => {
    const open = () => Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 2048, exportInBackground: false });
    const accepted = new AcceptedEvents();
    const events = fc.sample(shopEvent.filter((e) => e.valid), { seed: 7, numRuns: 120 }).map((e, i) => ({ ...e, ref: { ...e.ref, id: `s${i}` }, raw: { ...e.raw, id: `s${i}` } }));
    let engine = await open();
    for (let i = 0; i < events.length; i += 10) {
      await engine.ingestUntyped('order', events.slice(i, i + 10).map((e) => e.raw));
      accepted.add(events.slice(i, i + 10));
    }
    await engine.close();
    const segments = (await readdir(join(dir, 'log'))).filter((n) => n.endsWith('.seg')).sort();
    assert.ok(segments.length >= 3, `${segments.length} segments`);
    const [base, next] = [Number(segments[1]!.slice(0, 20)), Number(segments[2]!.slice(0, 20))];
    await rm(join(dir, 'log', segments[1]!));
    await assert.rejects(open(), (error: unknown) => {
      assert.ok(error instanceof TandemError && error.code === 'data_missing', String(error));
      assert.equal(error.message, `Offsets ${base.toLocaleString('en-US')} to ${(next - 1).toLocaleString('en-US')} of ${dir} are in no segment of the event log (log/${segments[1]} is missing), so answers would be short of them: run 'tandem repair --data ${dir}', which rebuilds them from a copy that survives or records them as lost.`);
      return true;
    });
    const repairs = await Tandem.repair(dir);
    assert.deepEqual(repairs.flatMap((r) => r.lost), [[base, next]]);
    const survivors = new AcceptedEvents();
    survivors.add(accepted.events.filter((_, offset) => offset < base || offset >= next).map((ref) => ({ ref, raw: {}, valid: true })));
    engine = await open();
    try {
      await checkAllQueries(engine, survivors);
      await engine.runBatch();
      await checkAllQueries(engine, survivors);
    } finally {
      await engine.close();
    }
  });
});
