/**
 * Snapshots of the idempotency keys, so that an open reads them back in
 * milliseconds instead of rebuilding them from every Parquet file of the
 * master dataset (about a second per million keys through DuckDB, issue #29).
 *
 * A snapshot holds, per event type that keeps every key, the bytes of its
 * {@link KeySet}'s arena, and says the offset `through` below which it holds
 * the keys of every stored event. It is derived data: an open that finds it
 * missing, damaged, written for another key field, or ahead of the log
 * (`through` past the log's end) ignores that part and reads the keys from
 * Parquet as before, and `tandem repair` deletes it.
 *
 *   <root>/keys/<event type>.keys   the arena's bytes, appended to at each save
 *   <root>/keys/<event type>.table  the set's hash table, written whole at close
 *                                   only (nothing is added then), so an open
 *                                   need not rebuild it; named in the JSON only
 *                                   by the save that wrote it
 *   <root>/keys/snapshot.json       through, and per type its byte count, key
 *                                   count and CRC-32 (and the table's):
 *                                   written last, atomically
 *
 * A save appends only the bytes added since the last one (an arena's bytes
 * never change once written), then replaces `snapshot.json`. A crash between
 * the two leaves bytes past the count the JSON names, which are ignored and
 * written over by the next save.
 *
 * @module
 */
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Catalog } from '../definitions/index.ts';
import { syncDirectory } from '../util/sync-directory.ts';
import type { IdempotencyIndex } from './idempotency-index.ts';
import { KeySet } from './key-set.ts';

const FORMAT = 1;
const MANIFEST = 'snapshot.json';

interface TypeEntry {
  /** The idempotency key's field when it was written: another field's keys would catch the wrong duplicates. */
  readonly key: string;
  readonly bytes: number;
  readonly count: number;
  readonly crc32: number;
  /** The set's table, saved only at close (when nothing more is added), so an open need not rebuild it. */
  readonly table?: { readonly bytes: number; readonly crc32: number };
}

interface Manifest {
  readonly format: number;
  readonly through: number;
  readonly types: Readonly<Record<string, TypeEntry>>;
}

/** What a type's file holds and the set it was written from: the next save appends from there. */
interface Written {
  readonly set: KeySet;
  readonly bytes: number;
  readonly crc: number;
}

/** A save's view of one type, taken at the moment `save` is called. */
interface Planned {
  readonly eventType: string;
  readonly set: KeySet;
  readonly to: number;
  readonly count: number;
  /** The table's bytes, only when saving at close. */
  readonly table?: Buffer;
}

/** What an open got back from a snapshot. */
export interface RestoredKeys {
  /** Per event type restored, the offset below which its keys are all known. */
  readonly covered: ReadonlyMap<string, number>;
  /** Why a part was not used, one sentence each, for the log. */
  readonly skipped: readonly string[];
}

/**
 * Reads and writes the key snapshot of one data directory.
 *
 * @example
 * ```ts
 * const snapshot = new KeySnapshot(join(dataDir, 'keys'), catalog);
 * const { covered } = await snapshot.restore(log.keys, log.end);   // then read Parquet past `covered`
 * await snapshot.save(log.keys, log.end);                          // after a batch cycle, and at close
 * ```
 */
export class KeySnapshot {
  readonly #written = new Map<string, Written>();
  #saving: Promise<void> = Promise.resolve();
  #through = 0;

  constructor(
    private readonly dir: string,
    private readonly catalog: Catalog,
  ) {}

  /** Puts back into `keys` every type a usable snapshot holds; `logEnd` is where the opened log ends. */
  async restore(keys: IdempotencyIndex, logEnd: number): Promise<RestoredKeys> {
    const manifest = await this.#readManifest();
    if (manifest === undefined) return { covered: new Map(), skipped: [] };
    if (manifest.through > logEnd) {
      return { covered: new Map(), skipped: [`The key snapshot holds keys through offset ${manifest.through}, past the log's end ${logEnd}, so it is not used.`] };
    }
    const covered = new Map<string, number>();
    const skipped: string[] = [];
    for (const [eventType, entry] of Object.entries(manifest.types)) {
      const problem = this.#unusable(eventType, entry, keys);
      const set = problem ?? await this.#readSet(eventType, entry);
      if (typeof set === 'string') {
        skipped.push(set);
        continue;
      }
      keys.restore(eventType, set);
      this.#written.set(eventType, { set, bytes: entry.bytes, crc: entry.crc32 });
      covered.set(eventType, manifest.through);
    }
    this.#through = manifest.through;
    return { covered, skipped };
  }

  /**
   * Writes the keys `keys` holds now, as those of every event below
   * `through`: call it with the log's end, in the same tick as nothing is
   * added between. Saves run one after another. `final` (at close, once no
   * key can be added) saves the sets' tables too.
   */
  save(keys: IdempotencyIndex, through: number, { final = false } = {}): Promise<void> {
    const planned: Planned[] = [...keys.wholeSets()].map(([eventType, set]) => ({
      eventType, set, to: set.storedBytes, count: set.size, ...(final ? { table: set.storedTable() } : {}),
    }));
    const saving = this.#saving.then(() => this.#save(planned, through));
    this.#saving = saving.catch(() => undefined);
    return saving;
  }

  /** Deletes the snapshot: `tandem repair` may drop events, whose keys it would still hold. */
  static async remove(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  async #save(planned: readonly Planned[], through: number): Promise<void> {
    if (through < this.#through) return;
    await mkdir(this.dir, { recursive: true });
    const types: Record<string, TypeEntry> = {};
    const written = new Map<string, Written>();
    for (const plan of planned) {
      const schema = this.catalog.eventTypes.get(plan.eventType);
      if (schema?.idempotencyKey === undefined) continue;
      const done = await this.#append(plan, this.#written.get(plan.eventType));
      written.set(plan.eventType, done);
      const table = plan.table === undefined ? {} : { table: await this.#writeTable(plan.eventType, plan.table) };
      types[plan.eventType] = { key: schema.idempotencyKey.name, bytes: done.bytes, count: plan.count, crc32: done.crc, ...table };
    }
    const manifest: Manifest = { format: FORMAT, through, types };
    const path = join(this.dir, MANIFEST);
    await writeFile(`${path}.tmp`, JSON.stringify(manifest), { flush: true });
    await rename(`${path}.tmp`, path);
    await syncDirectory(this.dir);
    for (const [eventType, done] of written) this.#written.set(eventType, done);
    this.#through = through;
  }

  /** Writes the bytes of `plan` that the file lacks: all of them when it was written from another set. */
  async #append(plan: Planned, before: Written | undefined): Promise<Written> {
    const from = before?.set === plan.set ? before.bytes : 0;
    const chunk = plan.set.stored(from, plan.to);
    const handle = await open(join(this.dir, `${plan.eventType}.keys`), from === 0 ? 'w' : 'r+');
    try {
      if (chunk.length > 0) await handle.write(chunk, 0, chunk.length, from);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    return { set: plan.set, bytes: plan.to, crc: crc32(chunk, from === 0 ? 0 : before!.crc) };
  }

  async #writeTable(eventType: string, table: Buffer): Promise<{ bytes: number; crc32: number }> {
    await writeFile(join(this.dir, `${eventType}.table`), table, { flush: true });
    return { bytes: table.length, crc32: crc32(table) };
  }

  /** The table saved with the keys, when it is there whole; else undefined, and the set rebuilds its own. */
  async #readTable(eventType: string, entry: TypeEntry): Promise<Float64Array | undefined> {
    if (entry.table === undefined) return undefined;
    const bytes = await readFile(join(this.dir, `${eventType}.table`)).catch(() => undefined);
    if (bytes === undefined || bytes.length !== entry.table.bytes || bytes.length % 8 !== 0 || crc32(bytes) !== entry.table.crc32) return undefined;
    // A Float64Array needs its start on a multiple of 8 bytes; a file this size has a buffer of its own, but a copy makes sure.
    const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
    return new Float64Array(aligned.buffer, aligned.byteOffset, aligned.length / 8);
  }

  async #readManifest(): Promise<Manifest | undefined> {
    const text = await readFile(join(this.dir, MANIFEST), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const manifest = JSON.parse(text) as Manifest;
      return manifest.format === FORMAT && Number.isSafeInteger(manifest.through) && typeof manifest.types === 'object' ? manifest : undefined;
    } catch {
      return undefined;
    }
  }

  /** Why a type's part of the snapshot cannot stand for its keys, or undefined when it can. */
  #unusable(eventType: string, entry: TypeEntry, keys: IdempotencyIndex): string | undefined {
    const schema = this.catalog.eventTypes.get(eventType);
    if (schema?.idempotencyKey === undefined) return `Event type '${eventType}' has no idempotency key now, so its key snapshot is not used.`;
    if (schema.idempotencyKey.name !== entry.key) return `The key snapshot of '${eventType}' holds field '${entry.key}', not its key '${schema.idempotencyKey.name}', so it is not used.`;
    if (keys.windowOf(eventType) !== undefined) return `Event type '${eventType}' keeps a window of keys, which its key snapshot does not, so it is not used.`;
    return undefined;
  }

  async #readSet(eventType: string, entry: TypeEntry): Promise<KeySet | string> {
    const file = join(this.dir, `${eventType}.keys`);
    const bytes = await readFile(file).catch(() => undefined);
    if (bytes === undefined || bytes.length < entry.bytes) return `The key snapshot file ${file} is missing or shorter than ${entry.bytes} bytes, so it is not used.`;
    const stored = bytes.subarray(0, entry.bytes);
    if (crc32(stored) !== entry.crc32) return `The key snapshot file ${file} fails its checksum, so it is not used.`;
    let set: KeySet;
    try {
      set = KeySet.fromStored(stored, await this.#readTable(eventType, entry));
    } catch (error) {
      return `The key snapshot file ${file} is damaged (${(error as Error).message}), so it is not used.`;
    }
    return set.size === entry.count ? set : `The key snapshot file ${file} holds ${set.size} keys, not ${entry.count}, so it is not used.`;
  }
}
