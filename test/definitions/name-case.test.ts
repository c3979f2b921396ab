/**
 * DuckDB folds identifiers to one case even when quoted, and file systems
 * may fold file names, so names that differ only in case are one name once
 * they reach SQL or the disk. Configs are built from names drawn so that
 * such pairs (and the reserved `time` in any case) come up often: each must
 * either be refused, naming the clash, or answer the same from the speed
 * layer and from the batch layer after a run.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig, InvalidDefinitionError, Tandem, type TandemConfig } from '../../src/index.ts';
import { withTempDir } from '../support/temp-dir.ts';

const NAMES = ['n', 'N', 'shop', 'Shop', 'SHOP', 'time', 'Time', 'TIME', 'amount', 'Amount', 'x'];
const name = fc.constantFrom(...NAMES);

/** Whether a list holds two names equal when folded to lower case (the independent check the engine must agree with). */
function folds(names: readonly string[]): boolean {
  return new Set(names.map((n) => n.toLowerCase())).size !== names.length;
}

const shape = fc.record({
  fields: fc.uniqueArray(name, { minLength: 1, maxLength: 5 }),
  dimensionCount: fc.integer({ min: 0, max: 2 }),
  measures: fc.uniqueArray(fc.tuple(name, fc.constantFrom('count', 'sum')), { minLength: 1, maxLength: 3, selector: ([n]) => n }),
  viewNames: fc.uniqueArray(fc.constantFrom('v', 'V', 'w'), { minLength: 1, maxLength: 2 }),
});

type Shape = typeof shape extends fc.Arbitrary<infer T> ? T : never;

/** String fields become dimensions; the last field is a number that the sums add up. */
function configOf(s: Shape): TandemConfig {
  const [numberField, ...stringFields] = [...s.fields].reverse();
  const fields: Record<string, unknown> = { at: 'timestamp', [numberField!]: { type: 'number', scale: 2 } };
  for (const f of stringFields) fields[f] = 'string';
  const dimensions = stringFields.slice(0, s.dimensionCount);
  const measures = Object.fromEntries(s.measures.map(([m, type]) => [m, type === 'count' ? { type } : { type, field: numberField }]));
  return {
    eventTypes: [{ name: 'e', time: 'at', fields }],
    views: s.viewNames.map((v) => ({ name: v, eventType: 'e', dimensions, granularity: 'day', measures })),
  } as unknown as TandemConfig;
}

function clashes(s: Shape, config: TandemConfig): boolean {
  const fields = Object.keys(config.eventTypes[0]!.fields);
  const view = config.views[0]!;
  const columns = [...view.dimensions, ...Object.keys(view.measures)];
  return folds(fields) || folds(['time', ...columns]) || folds(s.viewNames);
}

test('names - no two names that fold to one, and no reserved name in any case, reach SQL', async () => {
  await withTempDir(async (dir) => {
    let run = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(shape, async (s) => {
        const config = configOf(s);
        if (clashes(s, config)) {
          assert.throws(() => compileConfig(config), (e: unknown) => e instanceof InvalidDefinitionError && /differs only in case|already used|reserved/.test(e.message));
          refused++;
          return;
        }
        const engine = await Tandem.open({ dataDir: `${dir}/${run++}`, config });
        try {
          const number = [...s.fields].reverse()[0]!;
          const events = [1.25, 2.5, 0.02].map((v, i) => {
            const event: Record<string, unknown> = { at: Date.UTC(2024, 0, 1 + i) };
            for (const f of s.fields) event[f] = f === number ? v : `s${i % 2}`;
            return event;
          });
          assert.equal((await engine.ingest('e', events)).accepted, 3);
          for (const view of config.views) {
            const groupBy = [...view.dimensions];
            const speed = await engine.query({ view: view.name, groupBy, granularity: 'all' });
            await engine.runBatch();
            const batch = await engine.query({ view: view.name, groupBy, granularity: 'all', layer: 'batch' });
            assert.deepEqual(batch.rows, speed.rows);
          }
        } finally {
          await engine.close();
        }
      }),
      { seed: 20261129, numRuns: 60 },
    );
    // Both sides of the property must have been exercised.
    assert.ok(refused >= 10 && run >= 10, `${refused} refused, ${run} run`);
  });
});

test('names - the clashes from the report are refused with one sentence naming both', () => {
  const base = { name: 'e', time: 'at', fields: { at: 'timestamp', shop: 'string', Shop: 'string', amount: { type: 'number', scale: 2 } } };
  assert.throws(() => compileConfig({ eventTypes: [base], views: [] }), {
    message: "eventTypes[0].fields.Shop: 'Shop' differs only in case from field 'shop', and DuckDB and case-insensitive file systems take the two for one name; choose another name.",
  });
  const e = { ...base, fields: { at: 'timestamp', Time: 'string', amount: { type: 'number', scale: 2 } } };
  assert.throws(() => compileConfig({ eventTypes: [e], views: [{ name: 'v', eventType: 'e', dimensions: ['Time'], granularity: 'day', measures: { n: { type: 'count' } } }] }), {
    message: "views[0].dimensions[0]: 'Time' is reserved (in any case) for the bucket column; choose another name.",
  });
  assert.throws(() => compileConfig({ eventTypes: [e], views: [{ name: 'v', eventType: 'e', dimensions: [], granularity: 'day', measures: { n: { type: 'count' }, N: { type: 'sum', field: 'amount' } } }] }), {
    message: "views[0].measures.N: 'N' differs only in case from dimension or measure 'n', and DuckDB and case-insensitive file systems take the two for one name; choose another name.",
  });
  assert.throws(() => compileConfig({ eventTypes: [e, { ...e, name: 'E' }], views: [] }), /eventTypes\[1\].name: 'E' differs only in case from event type 'e'/);
});
