/**
 * `npm run bench:view-soak`: a view changed every few seconds under steady
 * ingest (10,000 events/s, in appends of 500) for several minutes (issue
 * #31). A change asked for while the one before is still backfilling
 * replaces it, as a user's would. Each check compares the changing
 * view's all-time totals with the events ingested so far (every ingest is
 * awaited, so it is visible), whichever definition answers; memory and the
 * data directory's size are sampled each minute, so a leak shows as a
 * climb that batch cycles do not bring back.
 *
 * Usage: npm run bench:view-soak -- [minutes=3] [changeEverySeconds=3]
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tandem, type ViewJson } from '../src/index.ts';
import { config, meteringEvent } from './metering-workload.ts';

const MINUTES = Number(process.argv[2] ?? 3);
const CHANGE_EVERY_MS = Number(process.argv[3] ?? 3) * 1000;
const BATCH = 500;
const INGEST_EVERY_MS = 50;
const TOTAL = 100_000_000;

/** Two definitions of one view; both count events and sum quantity, so each answer can be checked. */
const VARIANTS: readonly ViewJson[] = [
  { name: 'meter_by_day', eventType: 'usage', dimensions: ['meter'], granularity: 'day', measures: { events: { type: 'count' }, quantity: { type: 'sum', field: 'quantity' } } },
  { name: 'meter_by_day', eventType: 'usage', dimensions: ['plan', 'region'], granularity: 'hour', measures: { events: { type: 'count' }, quantity: { type: 'sum', field: 'quantity' }, customers: { type: 'countDistinct', field: 'customer' } } },
];

async function du(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += (await stat(join(entry.parentPath, entry.name)).catch(() => ({ size: 0 }))).size;
  }
  return bytes;
}

const dir = await mkdtemp(join(tmpdir(), 'tandem-view-soak-'));
const engine = await Tandem.open({ dataDir: dir, config, segmentBytes: 8 * 2 ** 20 });
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
/** The view under change, named at run time: its definitions are not the config's. */
const VIEW: string = 'meter_by_day';
try {
  // From the first check on, the view is one of the two definitions, each of which counts events.
  await engine.applyView(VARIANTS[1]);
  while (engine.status().viewChanges.length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  let ingested = 0;
  let quantityMilli = 0;
  let checks = 0;
  let changes = 0;
  let switched = 0;
  let requested = 1;
  const started = Date.now();
  const end = started + MINUTES * 60_000;
  let nextChange = started + CHANGE_EVERY_MS;
  let nextBatch = started + 10_000;
  let nextSample = started;
  for (let due = Date.now(); Date.now() < end; due += INGEST_EVERY_MS) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    const events = Array.from({ length: BATCH }, (_, i) => meteringEvent(ingested + i, TOTAL));
    await engine.ingestUntyped('usage', events);
    ingested += BATCH;
    for (const e of events) quantityMilli += Math.round((e.quantity as number) * 1000);
    const { rows, meta } = await engine.queryUntyped({ view: VIEW, granularity: 'all' });
    const row = rows[0] ?? { events: 0, quantity: 0 };
    if (row.events !== ingested || Math.round(Number(row.quantity) * 1000) !== quantityMilli) {
      throw new Error(`check ${checks}: v${meta.viewVersion} answered ${row.events} events and ${row.quantity} quantity; ingested ${ingested} and ${quantityMilli / 1000}`);
    }
    checks++;
    if (Date.now() >= nextChange) {
      requested = 1 - requested;
      const answer = await engine.applyView(VARIANTS[requested]);
      if (answer.action !== 'unchanged') changes++;
      nextChange = Date.now() + CHANGE_EVERY_MS;
    }
    if (Date.now() >= nextBatch) {
      await engine.runBatch();
      nextBatch = Date.now() + 10_000;
    }
    if (Date.now() >= nextSample) {
      globalThis.gc?.();
      const status = engine.status();
      switched = status.viewVersions.meter_by_day ?? 0;
      console.log(`${((Date.now() - started) / 60_000).toFixed(1)} min: ${ingested.toLocaleString('en-US')} events (${status.idempotencyKeys.toLocaleString('en-US')} keys held), ${checks.toLocaleString('en-US')} exact checks, view at v${switched} (${changes} changes asked for), RSS ${mib(process.memoryUsage.rss())}, heap ${mib(process.memoryUsage().heapUsed)}, data dir ${mib(await du(dir))}, batch v${status.batch?.version ?? '-'}`);
      nextSample = Date.now() + 60_000;
    }
  }
  while (engine.status().viewChanges.length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  await engine.runBatch({ seal: true });
  globalThis.gc?.();
  const backfill = await readdir(join(dir, 'backfill')).catch(() => []);
  console.log(`end: ${ingested.toLocaleString('en-US')} events, ${checks.toLocaleString('en-US')} exact checks, ${changes} changes asked for, view at v${engine.status().viewVersions.meter_by_day}; RSS ${mib(process.memoryUsage.rss())}, heap ${mib(process.memoryUsage().heapUsed)}, data dir ${mib(await du(dir))}, backfill files left ${backfill.length}`);
} finally {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
}
