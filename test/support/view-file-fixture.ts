/**
 * A test file's DuckDB connection and directory for batch view files, and
 * view files computed as the batch layer computes them: from master-dataset
 * Parquet files of given events, by the view's own SQL.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { computeViewFiles } from '../../src/batch/index.ts';
import type { EventTypeSchema, ViewSchema } from '../../src/definitions/index.ts';
import { exportSql } from '../../src/master/parquet-export.ts';
import { makeTempDir } from './temp-dir.ts';

/** One computed file: its name in the fixture's directory, its path, digest and rows. */
export interface ComputedFile {
  readonly file: string;
  readonly path: string;
  readonly sha256: string;
  readonly rows: number;
}

/**
 * Opens a connection and a temporary directory before the file's tests, and
 * closes and removes them after.
 *
 * @example
 * ```ts
 * const files = viewFileFixture('tandem-my-test-');
 * test('...', async () => { const byPartition = await files.compute(schema, view, [[e1, e2], [e3]]); });
 * ```
 */
export function viewFileFixture(prefix: string) {
  let dir = '';
  let remove: () => Promise<void> = async () => undefined;
  let instance: DuckDBInstance | undefined;
  let connection: DuckDBConnection | undefined;
  let made = 0;
  before(async () => {
    ({ dir, remove } = await makeTempDir(prefix));
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
  });
  after(async () => {
    connection?.closeSync();
    instance?.closeSync();
    await remove();
  });
  return {
    get dir(): string {
      return dir;
    },
    get connection(): DuckDBConnection {
      return connection!;
    },
    /** Per partition that holds rows of `view`, its file over that partition's events (raw values, as ingested), computed in one scan. */
    async compute(schema: EventTypeSchema, view: ViewSchema, byPartition: readonly (readonly Record<string, unknown>[])[]): Promise<Map<number, ComputedFile>> {
      const name = `f${made++}`;
      const sources = new Map<number, Map<string, { files: string[]; events: number }>>();
      for (const [p, events] of byPartition.entries()) {
        if (events.length === 0) continue;
        const raw = join(dir, `${name}-${p}.raw.parquet`);
        await writeFile(join(dir, `${name}-${p}.ndjson`), events.map((e, i) => `${JSON.stringify({ _offset: i, ...e })}\n`).join(''));
        await connection!.run(exportSql(schema, join(dir, `${name}-${p}.ndjson`), raw));
        sources.set(p, new Map([[schema.name, { files: [raw], events: events.length }]]));
      }
      const computed = await computeViewFiles({ connection: connection!, byPartition: sources, cutoff: Number.MAX_SAFE_INTEGER }, view, dir, (p) => `${name}.p${p}.parquet`);
      return new Map(computed.map((c) => [c.partition!, { file: c.file!, path: join(dir, c.file!), sha256: c.sha256!, rows: c.rows }]));
    },
  };
}
