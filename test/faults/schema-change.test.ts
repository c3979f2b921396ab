/**
 * Changing an event type after its events are stored. The log keeps
 * normalized values (numbers as integers scaled by their field's scale), so a
 * config that reads them with another type or scale would change acknowledged
 * data for good. Every such config must be refused at open with one sentence
 * naming the conflict, and the stored data must answer as before once the
 * config is put back; every other change must keep the stored answers.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { copyFile, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { StoredSchemaConflictError, Tandem, type TandemConfig } from '../../src/index.ts';
import { withTempDir } from '../support/temp-dir.ts';

type Spec = { readonly type: 'number'; readonly scale: number } | { readonly type: 'string' | 'boolean' | 'timestamp' };

const spec: fc.Arbitrary<Spec> = fc.oneof(
  fc.integer({ min: 0, max: 4 }).map((scale) => ({ type: 'number' as const, scale })),
  fc.constantFrom<Spec>({ type: 'string' }, { type: 'boolean' }, { type: 'timestamp' }),
);

function configWith(value: Spec | undefined, extra: Record<string, unknown> = {}): TandemConfig {
  const fields: Record<string, unknown> = { at: 'timestamp', n: { type: 'number', scale: 0 }, ...extra };
  if (value !== undefined) fields.value = { ...value, optional: true };
  return {
    eventTypes: [{ name: 'e', time: 'at', fields }],
    views: [{ name: 'v', eventType: 'e', dimensions: [], granularity: 'day', measures: { events: { type: 'count' }, total: { type: 'sum', field: 'n' } } }],
  } as unknown as TandemConfig;
}

function sample(s: Spec): unknown {
  switch (s.type) {
    case 'number': return s.scale === 0 ? 5 : 5.25 / 10 ** Math.max(0, 2 - s.scale);
    case 'string': return 'five';
    case 'boolean': return true;
    case 'timestamp': return '2024-05-01T00:00:00Z';
  }
}

function same(a: Spec, b: Spec): boolean {
  return a.type === b.type && (a.type !== 'number' || a.scale === (b as { scale: number }).scale);
}

async function answer(engine: Tandem, layer: 'merged' | 'batch' = 'merged') {
  return (await engine.query({ view: 'v', granularity: 'all', layer })).rows;
}

test('schema change - a changed type or scale of a stored field is refused; any other change keeps the stored answers', async () => {
  await withTempDir(async (dir) => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(spec, fc.option(spec, { nil: undefined }), fc.boolean(), async (before, after, batched) => {
        const dataDir = join(dir, String(run++));
        const original = configWith(before);
        let engine = await Tandem.open({ dataDir, config: original });
        await engine.ingest('e', [{ at: Date.UTC(2024, 4, 1), n: 7, value: sample(before) }, { at: Date.UTC(2024, 4, 2), n: 3 }]);
        if (batched) await engine.runBatch();
        const stored = await answer(engine);
        await engine.close();

        const changed = configWith(after);
        if (after !== undefined && !same(before, after)) {
          await assert.rejects(Tandem.open({ dataDir, config: changed }), (e: unknown) =>
            e instanceof StoredSchemaConflictError && e.field === 'value' && /^Field 'value' of event type 'e' is stored as [^.]+; declare it as stored, or add a field with a new name\.$/.test(e.message));
        } else {
          engine = await Tandem.open({ dataDir, config: changed });
          await engine.runBatch();
          assert.deepEqual(await answer(engine, 'batch'), stored);
          await engine.close();
        }
        // Put back, the config reads what was stored, in both layers.
        engine = await Tandem.open({ dataDir, config: original });
        assert.deepEqual(await answer(engine), stored);
        await engine.runBatch();
        assert.deepEqual(await answer(engine, 'batch'), stored);
        await engine.close();
      }),
      { seed: 20261129, numRuns: 24 },
    );
  });
});

test('schema change - the report: scale 2 to 3 would turn an acknowledged 5.25 into 0.525; refused, and 5.25 stays', async () => {
  await withTempDir(async (dir) => {
    const scale = (s: number) => configWith({ type: 'number', scale: s });
    const engine = await Tandem.open({ dataDir: dir, config: scale(2) });
    await engine.ingest('e', [{ at: 0, n: 1, value: 5.25 }]);
    await engine.close();
    await assert.rejects(Tandem.open({ dataDir: dir, config: scale(3) }), {
      message: "Field 'value' of event type 'e' is stored as number with scale 2, but the config declares it as number with scale 3, which would misread every stored value; declare it as stored, or add a field with a new name.",
    });
    const schema = JSON.parse(await readFile(join(dir, 'schema.json'), 'utf8'));
    assert.deepEqual(schema.eventTypes.e.value, { type: 'number', scale: 2 });
  });
});

test('schema change - an event type with stored events cannot leave the config; one never used can', async () => {
  await withTempDir(async (dir) => {
    const two = (used: string[]) => ({
      eventTypes: used.map((name) => ({ name, time: 'at', fields: { at: 'timestamp' } })),
      views: [],
    }) as unknown as TandemConfig;
    let engine = await Tandem.open({ dataDir: dir, config: two(['kept', 'unused']) });
    await engine.ingest('kept', [{ at: 0 }]);
    await engine.close();
    engine = await Tandem.open({ dataDir: dir, config: two(['kept']) });
    await engine.close();
    await assert.rejects(Tandem.open({ dataDir: dir, config: two(['other']) }), (e: unknown) =>
      e instanceof StoredSchemaConflictError && e.eventType === 'kept' && /holds events of type 'kept', which the config no longer declares/.test(e.message));
  });
});

test('schema change - a field removed and brought back must come back as stored', async () => {
  await withTempDir(async (dir) => {
    let engine = await Tandem.open({ dataDir: dir, config: configWith(undefined, { extra: { type: 'number', scale: 1 } }) });
    await engine.ingest('e', [{ at: 0, n: 1, extra: 0.5 }]);
    await engine.close();
    engine = await Tandem.open({ dataDir: dir, config: configWith(undefined) });
    await engine.ingest('e', [{ at: 1, n: 2 }]);
    await engine.runBatch();
    await engine.close();
    await assert.rejects(Tandem.open({ dataDir: dir, config: configWith(undefined, { extra: { type: 'number', scale: 2 } }) }), /Field 'extra' of event type 'e' is stored as number with scale 1/);
  });
});

test('schema change - a data directory from before the record gets one, from its data and the config it is opened with', async () => {
  await withTempDir(async (dir) => {
    const config = configWith({ type: 'number', scale: 2 });
    let engine = await Tandem.open({ dataDir: dir, config });
    await engine.ingest('e', [{ at: 0, n: 1, value: 1.5 }]);
    await engine.runBatch();
    await engine.ingest('e', [{ at: 1, n: 2, value: 2.5 }]);
    await engine.close();
    await rm(join(dir, 'schema.json'));
    const warnings: string[] = [];
    const logger = { info() {}, warn: (o: object, m: string) => warnings.push(`${m} ${JSON.stringify(o)}`), error() {} };
    engine = await Tandem.open({ dataDir: dir, config, logger });
    await engine.close();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /no schema record yet/);
    await assert.rejects(Tandem.open({ dataDir: dir, config: configWith({ type: 'number', scale: 3 }) }), StoredSchemaConflictError);
  });
});

test('schema change - batch runs that keep failing show in status until one succeeds', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: configWith(undefined) });
    try {
      await engine.ingest('e', [{ at: 0, n: 1 }]);
      await engine.runBatch();
      assert.equal(engine.status().batchFailing, null);
      // A master file gone: every full run (which reads every file) must stop before reading it, and say so.
      const files = (await readdir(join(dir, 'master', 'e'))).filter((f) => f.endsWith('.parquet'));
      const file = join(dir, 'master', 'e', files[0]!);
      await copyFile(file, `${file}.keep`);
      await rm(file);
      for (const n of [1, 2]) {
        await assert.rejects(engine.runBatch({ full: true }));
        const failing = engine.status().batchFailing;
        assert.equal(failing?.consecutive, n);
        assert.equal(failing?.code, 'corrupt_master_file');
        assert.match(failing!.error, /is damaged \(it is missing\)/);
      }
      await copyFile(`${file}.keep`, file);
      await engine.runBatch();
      assert.equal(engine.status().batchFailing, null);
    } finally {
      await engine.close();
    }
  });
});
