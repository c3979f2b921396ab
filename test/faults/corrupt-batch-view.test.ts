/**
 * Damaged batch views: a flipped byte, a cut-short or missing view file, a
 * manifest whose cutoff was changed (still valid JSON), garbage in the
 * manifest or in CURRENT. Batch views are derived data, so the engine must
 * name the bad file, serve nothing from it, and rebuild every view from the
 * master dataset before it answers.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tandem, type EngineLogger } from '../../src/index.ts';
import { withChecksum } from '../../src/util/checksums.ts';
import { checkAllQueries } from '../support/check-answers.ts';
import { shopConfig } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent } from '../support/shop-events.ts';
import { withTempDir } from '../support/temp-dir.ts';

const EVENTS = fc.sample(fc.array(shopEvent, { minLength: 400, maxLength: 400 }), { seed: 20261125, numRuns: 1 })[0]!;

interface Logged {
  readonly object: { file?: string };
  readonly message: string;
}

function capturingLogger(errors: Logged[]): EngineLogger {
  return { info() {}, warn() {}, error: (object, message) => void errors.push({ object, message: message ?? '' }) };
}

type Damage = (versionDir: string, batchDir: string) => Promise<string>;

async function flipByte(path: string, at: (size: number) => number): Promise<void> {
  const bytes = await readFile(path);
  const i = at(bytes.length);
  bytes[i] = bytes[i]! ^ 0xff;
  await writeFile(path, bytes);
}

const DAMAGES: Record<string, Damage> = {
  'a flipped byte in a view file': async (version) => {
    const file = join(version, 'by_country_hour.parquet');
    await flipByte(file, (size) => Math.floor(size / 2));
    return file;
  },
  'a view file cut to half': async (version) => {
    const file = join(version, 'by_device_week.parquet');
    const size = (await readFile(file)).length;
    await truncate(file, Math.floor(size / 2));
    return file;
  },
  'a missing view file': async (version) => {
    const file = join(version, 'all_time.parquet');
    await rm(file);
    return file;
  },
  'a manifest whose cutoff changed but still parses': async (version) => {
    const file = join(version, 'manifest.json');
    const manifest = JSON.parse(await readFile(file, 'utf8'));
    manifest.cutoff -= 1;
    await writeFile(file, JSON.stringify(manifest, null, 2));
    return file;
  },
  'garbage in the manifest': async (version) => {
    const file = join(version, 'manifest.json');
    await writeFile(file, '{"version": 1, "cut');
    return file;
  },
  'a view file that repeats a key, with its checksum updated to match': async (version) => {
    const file = join(version, 'by_country_hour.parquet');
    const copy = `${file}.tmp`;
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(`COPY (SELECT * FROM read_parquet('${file}') UNION ALL (SELECT * FROM read_parquet('${file}') LIMIT 1)) TO '${copy}' (FORMAT parquet)`);
    connection.closeSync();
    instance.closeSync();
    await rename(copy, file);
    const manifestFile = join(version, 'manifest.json');
    const { checksum: _, ...manifest } = JSON.parse(await readFile(manifestFile, 'utf8'));
    manifest.views.by_country_hour.sha256 = createHash('sha256').update(await readFile(file)).digest('hex');
    await writeFile(manifestFile, JSON.stringify(withChecksum(manifest), null, 2));
    return file;
  },
  'garbage in CURRENT': async (_version, batch) => {
    const file = join(batch, 'CURRENT');
    await writeFile(file, '\u0000\u0000garbage');
    return file;
  },
};

for (const [name, damage] of Object.entries(DAMAGES)) {
  test(`corrupt batch view: ${name} is named in the log, never served, and rebuilt from the master dataset`, async () => {
    await withTempDir(async (dir) => {
      const accepted = new AcceptedEvents();
      let engine = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 4096 });
      await engine.ingestUntyped('order', EVENTS.slice(0, 300).map((e) => e.raw));
      accepted.add(EVENTS.slice(0, 300));
      const { version } = await engine.runBatch();
      await engine.ingestUntyped('order', EVENTS.slice(300).map((e) => e.raw));
      accepted.add(EVENTS.slice(300));
      await engine.close();

      const batchDir = join(dir, 'batch');
      const bad = await damage(join(batchDir, (await readFile(join(batchDir, 'CURRENT'), 'utf8')).trim()), batchDir);
      const errors: Logged[] = [];
      engine = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 4096, logger: capturingLogger(errors) });
      try {
        // The damage is found while the version loads, after the open.
        await engine.loaded();
        assert.equal(errors.length, 1, JSON.stringify(errors));
        assert.equal(errors[0]!.object.file, bad);
        assert.match(errors[0]!.message, /damaged; rebuilding the batch views from the master dataset/);
        assert.ok(engine.status().batch!.version > version, 'a new version was published');
        await checkAllQueries(engine, accepted);
        // The rebuilt version is whole: the next start loads it without complaint.
        await engine.close();
        engine = await Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 4096, logger: capturingLogger(errors) });
        assert.equal(errors.length, 1);
        await checkAllQueries(engine, accepted);
      } finally {
        await engine.close();
      }
    });
  });
}
