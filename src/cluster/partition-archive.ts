/**
 * The master dataset in cluster mode: each partition's sealed ranges, turned
 * into Parquet and stored in the shared blob store (a JetStream Object Store
 * bucket), one object per range and event type, with a range record written
 * last. Only the batch node writes here; every node could read it.
 *
 * A range `[from, to)` of partition `p` holds the events of the messages with
 * sequences from `from` to `to - 1` that the duplicate rule admits, so the
 * archive holds each accepted event once. The rule's state at `from` comes
 * from reading the partition from its first message (the archive keeps the
 * cursor between cycles, so that happens once per batch node); every node's
 * speed layer applies the same rule to the same messages, so the archive and
 * the speed layers agree on which copy of a key counts.
 *
 * Blob names: `master/<type>/p<p>-<from>-<to>.parquet` and
 * `master/ranges/p<p>-<from>-<to>.json`, numbers zero-padded so that names
 * sort by position.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { appendFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Catalog, EventColumns } from '../definitions/index.ts';
import { ndjsonBytes, packColumns } from '../log/index.ts';
import { exportSql, type BlobStore } from '../master/index.ts';
import type { BatchSource } from '../batch/index.ts';
import type { ClusterLog } from './cluster-log.ts';
import { FirstOccurrenceFilter } from './first-occurrence.ts';

/** An event's `_offset` in the archive: its message's sequence times this, plus its index among the message's kept events. */
export const OFFSET_PER_MESSAGE = 2 ** 20;

/** A range record: written after its Parquet objects, so a range with a record is whole. */
export interface ArchivedRange {
  readonly partition: number;
  /** First sequence of the range. */
  readonly from: number;
  /** One past its last sequence: the cutoff it was archived up to. */
  readonly to: number;
  readonly files: Readonly<Record<string, { readonly blob: string; readonly rows: number; readonly sha256: string }>>;
}

const pad = (n: number) => String(n).padStart(16, '0');
const rangeName = (p: number, from: number, to: number) => `p${String(p).padStart(3, '0')}-${pad(from)}-${pad(to)}`;
const RANGES = 'master/ranges/';
/** Events buffered per event type before they are appended to the range's NDJSON file. */
const FLUSH_BYTES = 8 * 1024 * 1024;

interface Cursor {
  readonly filter: FirstOccurrenceFilter;
  /** The next sequence the filter expects. */
  next: number;
}

export class PartitionArchive {
  readonly #cursors = new Map<number, Cursor>();
  #ranges: ArchivedRange[] | undefined;

  constructor(
    private readonly log: ClusterLog,
    private readonly blobs: BlobStore,
    private readonly connection: DuckDBConnection,
    private readonly catalog: Catalog,
    /** Local scratch and cache directory. */
    private readonly dir: string,
  ) {}

  /** Every archived range, by partition and position. */
  async ranges(): Promise<readonly ArchivedRange[]> {
    if (this.#ranges !== undefined) return this.#ranges;
    const ranges: ArchivedRange[] = [];
    for (const info of await this.blobs.list(RANGES)) {
      const file = join(this.dir, 'cache', info.name);
      await this.#fetch(info.name, file, info.sha256);
      ranges.push(JSON.parse(await readFile(file, 'utf8')) as ArchivedRange);
    }
    this.#ranges = ranges;
    return ranges;
  }

  /** Per partition, one past the last archived sequence (1 when nothing is). */
  async archivedEnds(): Promise<number[]> {
    const ends = new Array<number>(this.log.partitions).fill(1);
    for (const r of await this.ranges()) ends[r.partition] = Math.max(ends[r.partition]!, r.to);
    return ends;
  }

  /** Archives every partition up to (not including) its cutoff. */
  async archiveUpTo(cutoffs: readonly number[]): Promise<void> {
    const ends = await this.archivedEnds();
    for (let p = 0; p < this.log.partitions; p++) {
      if (cutoffs[p]! > ends[p]!) await this.#archive(p, ends[p]!, cutoffs[p]!);
    }
  }

  async #archive(partition: number, from: number, to: number): Promise<void> {
    const cursor = await this.#cursorAt(partition, from);
    const scratch = join(this.dir, 'scratch', rangeName(partition, from, to));
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch, { recursive: true });
    try {
      const counts = await this.#spool(partition, cursor, to, scratch);
      const files: Record<string, ArchivedRange['files'][string]> = {};
      for (const [eventType, rows] of counts) {
        const blob = `master/${eventType}/${rangeName(partition, from, to)}.parquet`;
        const parquet = join(this.dir, 'cache', blob);
        await mkdir(dirname(parquet), { recursive: true });
        await this.connection.run(exportSql(this.catalog.eventTypes.get(eventType)!, join(scratch, `${eventType}.ndjson`), parquet));
        const info = await this.blobs.put(blob, parquet);
        files[eventType] = { blob, rows, sha256: info.sha256 };
      }
      const range: ArchivedRange = { partition, from, to, files };
      const record = join(scratch, 'range.json');
      await writeFile(record, JSON.stringify(range));
      await this.blobs.put(`${RANGES}${rangeName(partition, from, to)}.json`, record);
      this.#ranges = [...await this.ranges(), range];
    } catch (error) {
      // The cursor advanced past messages whose range was not recorded: read them again next time.
      this.#cursors.delete(partition);
      throw error;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** Reads `[cursor.next, to)` through the duplicate rule into one NDJSON file per event type; resolves with the rows of each. */
  async #spool(partition: number, cursor: Cursor, to: number, scratch: string): Promise<Map<string, number>> {
    const pending = new Map<string, Buffer[]>();
    const counts = new Map<string, number>();
    let buffered = 0;
    const flush = async () => {
      for (const [eventType, parts] of pending) await appendFile(join(scratch, `${eventType}.ndjson`), Buffer.concat(parts));
      pending.clear();
      buffered = 0;
    };
    for await (const message of this.log.replay(partition, cursor.next, to - 1)) {
      const verdict = cursor.filter.admit(message);
      cursor.next = message.seq + 1;
      if (verdict.kind !== 'admitted' || verdict.admitted.events.count === 0) continue;
      const { eventType, events } = verdict.admitted;
      const bytes = Buffer.from(this.#lines(eventType, events, message.seq));
      pending.set(eventType, [...(pending.get(eventType) ?? []), bytes]);
      counts.set(eventType, (counts.get(eventType) ?? 0) + events.count);
      buffered += bytes.length;
      if (buffered >= FLUSH_BYTES) await flush();
    }
    await flush();
    if (cursor.next !== to) throw new Error(`partition ${partition} ended at sequence ${cursor.next - 1}, before the cutoff ${to}`);
    return counts;
  }

  #lines(eventType: string, events: EventColumns, seq: number): Buffer {
    return ndjsonBytes(this.catalog.eventTypes.get(eventType)!.fields, packColumns(events), seq * OFFSET_PER_MESSAGE);
  }

  /** The duplicate rule's state just before `from`: kept from the last range, or rebuilt by reading the partition from its start. */
  async #cursorAt(partition: number, from: number): Promise<Cursor> {
    let cursor = this.#cursors.get(partition);
    if (cursor === undefined || cursor.next > from) {
      cursor = { filter: new FirstOccurrenceFilter(this.catalog), next: 1 };
      this.#cursors.set(partition, cursor);
    }
    if (cursor.next < from) {
      for await (const message of this.log.replay(partition, cursor.next, from - 1)) {
        cursor.filter.admit(message);
        cursor.next = message.seq + 1;
      }
    }
    return cursor;
  }

  /** Local copies of every archived Parquet object, by event type: what the batch layer reads. */
  async localSources(): Promise<Map<string, BatchSource>> {
    const sources = new Map<string, { files: string[]; events: number }>();
    for (const range of await this.ranges()) {
      for (const [eventType, f] of Object.entries(range.files)) {
        const file = join(this.dir, 'cache', f.blob);
        await this.#fetch(f.blob, file, f.sha256);
        const source = sources.get(eventType) ?? { files: [], events: 0 };
        source.files.push(file);
        source.events += f.rows;
        sources.set(eventType, source);
      }
    }
    return sources;
  }

  /** Copies a blob unless a local copy of its size is there (the batch layer's checksums catch a damaged one). */
  async #fetch(blob: string, file: string, sha256: string): Promise<void> {
    const local = await stat(file).catch(() => undefined);
    const info = local === undefined ? undefined : await this.blobs.info(blob);
    if (local !== undefined && info !== undefined && info.sha256 === sha256 && info.bytes === local.size) return;
    await mkdir(dirname(file), { recursive: true });
    await this.blobs.get(blob, file);
  }
}
