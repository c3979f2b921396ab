/**
 * Views added, changed, dropped and cancelled while the engine serves
 * (issue #31): whatever the schedule of ingests, view changes, batch cycles
 * and restarts, every answer equals the reference over all accepted events
 * computed with the definition that answered (`meta.viewVersion`), and a
 * view being added answers `view_backfilling` until it switches in.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { defineView, Tandem, ViewBackfillingError, type Query, type ViewJson as ViewDefinition } from '../../src/index.ts';
import { canonicalRows, referenceQuery } from '../support/reference.ts';
import { order, shopConfig, views as shopViews } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent, type GeneratedEvent } from '../support/shop-events.ts';
import { withTempDir } from '../support/temp-dir.ts';

/** The definitions a schedule applies: changes of two shop views, and a view the config lacks. */
const VARIANTS: readonly ViewDefinition[] = [
  defineView(order, { name: 'by_device_week', dimensions: ['device'], granularity: 'day', measures: { orders: { type: 'count' }, spend: { type: 'sum', field: 'amount' } } }),
  defineView(order, {
    name: 'by_device_week', dimensions: ['mobile'], granularity: 'week',
    measures: { orders: { type: 'count' }, buyers: { type: 'countDistinct', field: 'id' }, p: { type: 'quantiles', field: 'qty', quantiles: [0.5] } },
    filter: [{ field: 'country', op: '!=', value: 'BR' }],
  }),
  defineView(order, { name: 'totals_month', dimensions: ['country'], granularity: 'month', measures: { orders: { type: 'count' }, smallest: { type: 'min', field: 'amount' } } }),
  defineView(order, { name: 'by_mobile_day', dimensions: ['mobile', 'country'], granularity: 'day', measures: { orders: { type: 'count' }, revenue: { type: 'sum', field: 'amount' } } }),
];
const CHANGED = ['by_device_week', 'totals_month', 'by_mobile_day'] as const;

type Step =
  | { readonly kind: 'ingest'; readonly events: readonly GeneratedEvent[] }
  | { readonly kind: 'batch'; readonly seal: boolean }
  | { readonly kind: 'apply'; readonly variant: number }
  | { readonly kind: 'drop' | 'cancel'; readonly view: (typeof CHANGED)[number] }
  | { readonly kind: 'settle' }
  | { readonly kind: 'restart' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.array(shopEvent, { maxLength: 40 }).map((events) => ({ kind: 'ingest' as const, events })) },
  { weight: 2, arbitrary: fc.boolean().map((seal) => ({ kind: 'batch' as const, seal })) },
  { weight: 3, arbitrary: fc.nat(VARIANTS.length - 1).map((variant) => ({ kind: 'apply' as const, variant })) },
  { weight: 1, arbitrary: fc.constantFrom(...CHANGED).map((view) => ({ kind: 'drop' as const, view })) },
  { weight: 1, arbitrary: fc.constantFrom(...CHANGED).map((view) => ({ kind: 'cancel' as const, view })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'settle' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

function queriesOf(view: ViewDefinition): Query[] {
  const dims = [...view.dimensions];
  const measure = Object.keys(view.measures)[0]!;
  return [
    { view: view.name, groupBy: dims },
    { view: view.name, granularity: 'all' },
    { view: view.name, groupBy: dims, granularity: 'all', orderBy: [{ measure, desc: true }], limit: 3 },
  ];
}

/** What the test knows of each view: its definition per version, as the engine answered with them. */
class Definitions {
  readonly #byVersion = new Map<string, Map<number, ViewDefinition>>();
  constructor(initial: readonly ViewDefinition[]) {
    for (const view of initial) this.record(view, 1);
  }
  record(view: ViewDefinition, version: number): void {
    const versions = this.#byVersion.get(view.name) ?? new Map<number, ViewDefinition>();
    versions.set(version, view);
    this.#byVersion.set(view.name, versions);
  }
  of(name: string, version: number): ViewDefinition {
    const view = this.#byVersion.get(name)?.get(version);
    assert.ok(view !== undefined, `no definition recorded for ${name} version ${version}`);
    return view;
  }
}

/** Every view served or being added answers as {@link checkView} says; one switched in while its queries ran is checked again. */
async function checkAnswers(engine: Tandem, accepted: AcceptedEvents, definitions: Definitions): Promise<void> {
  const names = new Set([...engine.catalog.views.keys(), ...engine.status().viewChanges.map((c) => c.view)]);
  for (const name of names) {
    for (let attempt = 1; ; attempt++) {
      const before = servedVersion(engine, name);
      try {
        await checkView(engine, accepted, definitions, name);
        break;
      } catch (error) {
        // A backfill ends, and its view switches in, at any moment: queries shaped for the version served before may
        // not fit the next one, which is checked again. An error with no switch in between fails here.
        if (error instanceof assert.AssertionError || attempt === 3 || servedVersion(engine, name) === before) throw error;
      }
    }
  }
}

/** The version of view `name` served now, 0 while it is not: a switch changes it. */
function servedVersion(engine: Tandem, name: string): number {
  return engine.catalog.views.has(name) ? engine.status().viewVersions[name] ?? 0 : 0;
}

/** View `name` answers as the reference with the definition of the version that answered; one being added says so. */
async function checkView(engine: Tandem, accepted: AcceptedEvents, definitions: Definitions, name: string): Promise<void> {
  const served = engine.catalog.views.get(name);
  const queries = served === undefined ? [{ view: name, granularity: 'all' as const }] : queriesOf(definitions.of(name, engine.status().viewVersions[name]!));
  for (const query of queries) {
    let answer;
    try {
      answer = await engine.query(query);
    } catch (error) {
      if (served === undefined && error instanceof ViewBackfillingError) break;
      throw error;
    }
    const view = definitions.of(name, answer.meta.viewVersion!);
    const rows = await engine.query({ ...query, version: answer.meta.viewVersion! }).then((a) => a.rows);
    const expected = referenceQuery(view, accepted.events, query);
    if (query.limit !== undefined) assert.deepEqual(rows, expected, JSON.stringify(query));
    else assert.deepEqual(canonicalRows(rows), canonicalRows(expected), `${JSON.stringify(query)} v${answer.meta.viewVersion}`);
  }
}

/** The events with an idempotency key each of their own, so that every one is stored. */
function distinct(events: readonly GeneratedEvent[], prefix: string): GeneratedEvent[] {
  return events.map((e, i) => ({ ...e, ref: { ...e.ref, id: `${prefix}${i}` }, raw: { ...e.raw, id: `${prefix}${i}` } }));
}

async function settle(engine: Tandem): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (engine.status().viewChanges.length > 0) {
    assert.ok(Date.now() < deadline, `view changes did not settle: ${JSON.stringify(engine.status().viewChanges)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function runSchedule(steps: readonly Step[]): Promise<void> {
  await withTempDir(async (dir) => {
    const open = () => Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 4096, backfillRestShare: 0 });
    let engine = await open();
    const accepted = new AcceptedEvents();
    const definitions = new Definitions(shopViews);
    try {
      for (const s of steps) {
        if (s.kind === 'ingest') await engine.ingestUntyped('order', s.events.map((e) => e.raw)).then(() => accepted.add(s.events));
        else if (s.kind === 'batch') await engine.runBatch({ seal: s.seal });
        else if (s.kind === 'apply') {
          const answer = await engine.applyView(VARIANTS[s.variant]);
          definitions.record(VARIANTS[s.variant]!, answer.version);
        } else if (s.kind === 'drop') await engine.dropView(s.view).catch((error: unknown) => assert.match(String(error), /Unknown view/));
        else if (s.kind === 'cancel') await engine.cancelViewChange(s.view).catch((error: unknown) => assert.match(String(error), /no change under way|switching in now/));
        else if (s.kind === 'settle') await settle(engine);
        else {
          await engine.close();
          engine = await open();
        }
        await checkAnswers(engine, accepted, definitions);
      }
      await settle(engine);
      await checkAnswers(engine, accepted, definitions);
    } finally {
      await engine.close();
    }
    assert.deepEqual(await readdir(join(dir, 'backfill')).catch(() => []), [], 'a settled engine leaves no backfill files');
  });
}

test('view changes - answers equal the reference for the definition that answered, across changes, drops, cancels, cycles and restarts', async () => {
  await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), runSchedule), { numRuns: 30, seed: 20261203, endOnFailure: true });
});

test('view changes - a changed view answers with its old definition until the switch, then with the new one as if always defined', async () => {
  await withTempDir(async (dir) => {
    // A backfill that rests long after each chunk: the old definition is seen answering meanwhile.
    const engine = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 2048, backfillRestShare: 50 });
    const accepted = new AcceptedEvents();
    try {
      const events = distinct(fc.sample(shopEvent, { numRuns: 400, seed: 3 }), 'a');
      // In appends of 20: a segment rolls over only between appends, so the master dataset gets several files.
      for (let i = 0; i < events.length; i += 20) await engine.ingestUntyped('order', events.slice(i, i + 20).map((e) => e.raw));
      accepted.add(events);
      await engine.runBatch({ seal: true });
      const change = await engine.applyView(VARIANTS[0]);
      assert.deepEqual(change, { view: 'by_device_week', action: 'change', version: 2, state: 'backfilling' });
      const during = await engine.query({ view: 'by_device_week', granularity: 'all' });
      assert.equal(during.meta.viewVersion, 1);
      assert.deepEqual(during.rows, referenceQuery(shopViews[1]!, accepted.events, { view: 'by_device_week', granularity: 'all' }));
      await assert.rejects(engine.query({ view: 'by_device_week', version: 2 }), (error: unknown) => error instanceof ViewBackfillingError && /version 1 answers/.test(error.message));
      await assert.rejects(engine.query({ view: 'by_device_week', version: 7 }), /is at version 1; version 7 is not served/);
      const [pending] = engine.status().viewChanges;
      assert.equal(pending?.state, 'backfilling');
      assert.ok(pending.filesTotal > 1, 'the master dataset is read in several files');
      // Events ingested during the backfill are in the new definition's answers too.
      const more = distinct(fc.sample(shopEvent, { numRuns: 100, seed: 4 }), 'b');
      await engine.ingestUntyped('order', more.map((e) => e.raw));
      accepted.add(more);
      await engine.cancelViewChange('by_device_week');
      assert.deepEqual(engine.status().viewChanges, []);
      assert.equal((await engine.query({ view: 'by_device_week', granularity: 'all' })).meta.viewVersion, 1);
      const again = await engine.applyView(VARIANTS[0]);
      assert.equal(again.version, 2, 'a cancelled version number is given again');
      await settle(engine);
      const after = await engine.query({ view: 'by_device_week', granularity: 'all' });
      assert.equal(after.meta.viewVersion, 2);
      assert.deepEqual(after.rows, referenceQuery(VARIANTS[0]!, accepted.events, { view: 'by_device_week', granularity: 'all' }));
    } finally {
      await engine.close();
    }
    // Recorded once the switch is: read after the close, which waits for the write.
    const state = JSON.parse(await readFile(join(dir, 'views.json'), 'utf8')) as { versions: Record<string, { version: number }> };
    assert.equal(state.versions.by_device_week?.version, 2);
  });
});

test('view changes - an applied view outlives a restart, and an edited config wins over it', async () => {
  await withTempDir(async (dir) => {
    let engine = await Tandem.open({ dataDir: dir, config: shopConfig, backfillRestShare: 0 });
    try {
      await engine.ingestUntyped('order', fc.sample(shopEvent, { numRuns: 50, seed: 5 }).map((e) => e.raw));
      await engine.applyView(VARIANTS[3]);
      await settle(engine);
      await engine.dropView('all_time');
      await engine.close();
      engine = await Tandem.open({ dataDir: dir, config: shopConfig });
      assert.ok(engine.catalog.views.has('by_mobile_day'));
      assert.ok(!engine.catalog.views.has('all_time'));
      await engine.close();
      // The file's views change: they are served, the changes made while serving are not.
      const edited = { ...shopConfig, views: shopConfig.views.slice(0, 2) };
      engine = await Tandem.open({ dataDir: dir, config: edited });
      assert.deepEqual([...engine.catalog.views.keys()], ['by_country_hour', 'by_device_week']);
    } finally {
      await engine.close();
    }
    assert.ok(!existsSync(join(dir, 'backfill', 'by_mobile_day')));
  });
});

test('view changes - a view being added answers view_backfilling with how far it is; cancelled, it never existed', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 2048, backfillRestShare: 50 });
    try {
      const events = distinct(fc.sample(shopEvent, { numRuns: 200, seed: 6 }), 'c');
      for (let i = 0; i < events.length; i += 20) await engine.ingestUntyped('order', events.slice(i, i + 20).map((e) => e.raw));
      await engine.runBatch({ seal: true });
      assert.equal((await engine.applyView(VARIANTS[3])).action, 'add');
      // A view added while serving is not in the config's type: named by a run-time string, its query is untyped.
      const added: string = 'by_mobile_day';
      await assert.rejects(engine.queryUntyped({ view: added }), (error: unknown) => error instanceof ViewBackfillingError && error.serving === null && /is new and its batch layer is being backfilled \(\d+% done\)/.test(error.message));
      assert.deepEqual(await engine.cancelViewChange('by_mobile_day'), { view: 'by_mobile_day', action: 'unchanged', version: 0, state: 'dropped' });
      await assert.rejects(engine.queryUntyped({ view: added }), /Unknown view 'by_mobile_day'/);
      await assert.rejects(engine.cancelViewChange('by_mobile_day'), /has no change under way to cancel/);
    } finally {
      await engine.close();
    }
    assert.deepEqual(await readdir(join(dir, 'backfill')), []);
  });
});

test('view changes - a reloaded config applies its new and changed views and drops the ones it lacks; changed event types are refused', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: shopConfig, backfillRestShare: 0 });
    const accepted = new AcceptedEvents();
    try {
      const events = distinct(fc.sample(shopEvent, { numRuns: 60, seed: 8 }), 'd');
      await engine.ingestUntyped('order', events.map((e) => e.raw));
      accepted.add(events);
      const next = { ...shopConfig, views: [shopViews[0]!, VARIANTS[0]!, VARIANTS[3]!] };
      const changes = await engine.reloadConfig(next);
      assert.deepEqual(changes.map((c) => [c.view, c.action]).sort(), [['all_time', 'drop'], ['by_country_minute', 'drop'], ['by_device_week', 'change'], ['by_mobile_day', 'add'], ['totals_month', 'drop']]);
      await settle(engine);
      assert.deepEqual([...engine.catalog.views.keys()].sort(), ['by_country_hour', 'by_device_week', 'by_mobile_day']);
      for (const view of [VARIANTS[0]!, VARIANTS[3]!]) {
        const { rows } = await engine.queryUntyped({ view: view.name, groupBy: [...view.dimensions], granularity: 'all' });
        assert.deepEqual(canonicalRows(rows), canonicalRows(referenceQuery(view, accepted.events, { view: view.name, groupBy: [...view.dimensions], granularity: 'all' })));
      }
      await assert.rejects(engine.reloadConfig({ ...next, eventTypes: [{ ...order, fields: { ...order.fields, extra: 'string' } }] }), /changes event types/);
      await assert.rejects(engine.reloadConfig({ ...next, views: [...next.views, { ...VARIANTS[3]!, name: 'bad', dimensions: ['nope'] }] }), /nope/);
      assert.deepEqual([...engine.catalog.views.keys()].sort(), ['by_country_hour', 'by_device_week', 'by_mobile_day'], 'a refused reload changes nothing');
    } finally {
      await engine.close();
    }
  });
});

test('view changes - a view dropped and defined again after a restart gets a new version, not the number its old definition had', async () => {
  await withTempDir(async (dir) => {
    const open = () => Tandem.open({ dataDir: dir, config: shopConfig, backfillRestShare: 0 });
    let engine = await open();
    const accepted = new AcceptedEvents();
    try {
      const events = distinct(fc.sample(shopEvent, { numRuns: 60, seed: 9 }), 'e');
      await engine.ingestUntyped('order', events.map((e) => e.raw));
      accepted.add(events);
      assert.equal((await engine.dropView('by_device_week')).version, 1);
      await engine.close();
      engine = await open();
      const again = await engine.applyView(VARIANTS[0]);
      assert.deepEqual(again, { view: 'by_device_week', action: 'add', version: 2, state: 'backfilling' });
      await settle(engine);
      // Version 1 named the config's definition: a client that asks for it must not get the new one's rows.
      await assert.rejects(engine.query({ view: 'by_device_week', version: 1, groupBy: ['device'] }), /is at version 2; version 1 is not served/);
      const query = { view: 'by_device_week', groupBy: ['device'], granularity: 'all' } as const;
      const answer = await engine.query(query);
      assert.equal(answer.meta.viewVersion, 2);
      assert.deepEqual(canonicalRows(answer.rows), canonicalRows(referenceQuery(VARIANTS[0]!, accepted.events, query)));
    } finally {
      await engine.close();
    }
  });
});

/** A change of `view` is applied and found switching in, then `act` runs: a drop of it lands in the cycle that switches it in. */
async function whileSwitching(engine: Tandem, view: ViewDefinition, act: () => Promise<void>): Promise<void> {
  await engine.applyView(view);
  while (engine.status().viewChanges[0]?.state === 'backfilling') await new Promise((resolve) => setImmediate(resolve));
  assert.equal(engine.status().viewChanges[0]?.state, 'switching', 'the change is switching in');
  await act();
}

/** One key per event: speed tables of this definition left folding show in the key count. */
const perEvent = defineView(order, { name: 'by_device_week', dimensions: ['id'], granularity: 'day', measures: { orders: { type: 'count' } } });

test('view changes - a view dropped while its change switches in is dropped whole: neither definition folds on', async () => {
  const first = distinct(fc.sample(shopEvent, { numRuns: 200, seed: 10 }), 'g');
  const more = distinct(fc.sample(shopEvent, { numRuns: 200, seed: 11 }), 'h');
  /** The speed layer's keys once `more` is ingested after `first`, a sealing cycle and `drop`, on an engine of its own. */
  const keysAfter = (drop: (engine: Tandem) => Promise<void>) => withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 2048, backfillRestShare: 0 });
    try {
      for (let i = 0; i < first.length; i += 20) await engine.ingestUntyped('order', first.slice(i, i + 20).map((e) => e.raw));
      await engine.runBatch({ seal: true });
      await drop(engine);
      // Joins the switching cycle if it still runs; else seals again at the same end.
      await engine.runBatch({ seal: true });
      await engine.ingestUntyped('order', more.map((e) => e.raw));
      return engine.status().speed.keys;
    } finally {
      await engine.close();
    }
  });
  const dropped = await keysAfter(async (engine) => {
    await engine.dropView('by_device_week');
  });
  const droppedWhileSwitching = await keysAfter((engine) => whileSwitching(engine, perEvent, async () => {
    assert.equal((await engine.dropView('by_device_week')).action, 'drop');
    assert.ok(!engine.catalog.views.has('by_device_week'));
    assert.deepEqual(engine.status().viewChanges, [], 'a dropped change is over, though its cycle still runs');
    await assert.rejects(engine.cancelViewChange('by_device_week'), /has no change under way to cancel/);
  }));
  assert.equal(droppedWhileSwitching, dropped);
});

test('view changes - a view dropped while its change switches in, and applied again at once, switches in as the new definition', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 2048, backfillRestShare: 0 });
    try {
      const events = distinct(fc.sample(shopEvent, { numRuns: 200, seed: 12 }), 'i');
      for (let i = 0; i < events.length; i += 20) await engine.ingestUntyped('order', events.slice(i, i + 20).map((e) => e.raw));
      await engine.runBatch({ seal: true });
      let again: Awaited<ReturnType<Tandem['applyView']>> | undefined;
      await whileSwitching(engine, perEvent, async () => {
        await engine.dropView('by_device_week');
        again = await engine.applyView(perEvent);
      });
      assert.equal(again?.action, 'add');
      await settle(engine);
      const query = { view: 'by_device_week', groupBy: ['id'], granularity: 'all' } as const;
      const answer = await engine.queryUntyped(query);
      assert.equal(answer.meta.viewVersion, again?.version);
      const accepted = new AcceptedEvents();
      accepted.add(events);
      assert.deepEqual(canonicalRows(answer.rows), canonicalRows(referenceQuery(perEvent, accepted.events, query)));
    } finally {
      await engine.close();
    }
  });
});

test('view changes - a reload that lacks a view whose change is under way drops it once', async () => {
  await withTempDir(async (dir) => {
    // A backfill that rests long after each chunk: the change is still under way at the reload.
    const engine = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 2048, backfillRestShare: 50 });
    try {
      const events = distinct(fc.sample(shopEvent, { numRuns: 200, seed: 13 }), 'j');
      for (let i = 0; i < events.length; i += 20) await engine.ingestUntyped('order', events.slice(i, i + 20).map((e) => e.raw));
      await engine.runBatch({ seal: true });
      await engine.applyView(VARIANTS[0]);
      const changes = await engine.reloadConfig({ ...shopConfig, views: shopConfig.views.filter((v) => v.name !== 'by_device_week') });
      assert.deepEqual(changes.map((c) => [c.view, c.action]), [['by_device_week', 'drop']]);
      assert.ok(!engine.catalog.views.has('by_device_week'));
      assert.deepEqual(engine.status().viewChanges, []);
    } finally {
      await engine.close();
    }
  });
});

test('view changes - the served definition applied while another switches in changes the view back, under a new version', async () => {
  await withTempDir(async (dir) => {
    const engine = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 2048, backfillRestShare: 0 });
    const accepted = new AcceptedEvents();
    try {
      const events = distinct(fc.sample(shopEvent, { numRuns: 200, seed: 14 }), 'k');
      for (let i = 0; i < events.length; i += 20) await engine.ingestUntyped('order', events.slice(i, i + 20).map((e) => e.raw));
      accepted.add(events);
      await engine.runBatch({ seal: true });
      let back: Awaited<ReturnType<Tandem['applyView']>> | undefined;
      // The switch cannot be stopped: version 2 is served by the time the apply knows what is served.
      await whileSwitching(engine, VARIANTS[0]!, async () => {
        back = await engine.applyView(shopViews[1]);
      });
      assert.deepEqual(back, { view: 'by_device_week', action: 'change', version: 3, state: 'backfilling' });
      await settle(engine);
      const query = { view: 'by_device_week', groupBy: ['device', 'mobile'], granularity: 'all' } as const;
      const answer = await engine.query(query);
      assert.equal(answer.meta.viewVersion, 3);
      assert.deepEqual(canonicalRows(answer.rows), canonicalRows(referenceQuery(shopViews[1]!, accepted.events, query)));
    } finally {
      await engine.close();
    }
  });
});
