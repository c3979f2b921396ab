/**
 * What the stored events are: for every event type that has events in the
 * log or the master dataset, the type (and scale) each of its fields was
 * stored with. Log frames hold normalized values without their schema (a
 * number is an integer scaled by its field's scale, so 5.25 at scale 2 is
 * 525), and reading them with another scale or type would change them
 * silently and for good once exported. This record travels with the data
 * (`schema.json` in the data directory, with a checksum of its content), and a config
 * that would read stored events differently is refused at open.
 *
 * A type or field enters the record just before its first events are
 * appended, so a type declared and never used may still be dropped. Fields
 * stay in the record after leaving the config, because their values stay in
 * the log and the Parquet files: bringing one back must read them as stored.
 *
 * @module
 */
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Catalog, EventTypeSchema, Field, FieldType } from '../definitions/index.ts';
import { checksumMatches, withChecksum } from '../util/checksums.ts';
import { syncDirectory } from '../util/sync-directory.ts';
import { StoredSchemaConflictError } from './errors.ts';
import { HISTORY_RANGE_TYPE } from './history-range.ts';
import { LOST_RANGE_TYPE } from './repair-log.ts';
import { scanSegment } from './segment-scan.ts';
import { listSegmentBases, segmentPath } from './segment-files.ts';

/** How a field's values were stored. */
export interface StoredField {
  readonly type: FieldType;
  /** For numbers: the scale of the stored integers. */
  readonly scale?: number;
}

/** Per event type, the fields as stored. */
export type StoredTypes = Record<string, Record<string, StoredField>>;

interface SchemaFile {
  readonly format: 1;
  readonly eventTypes: StoredTypes;
}

function storedField(field: Field): StoredField {
  return field.type === 'number' ? { type: 'number', scale: field.scale } : { type: field.type };
}

function describe(field: StoredField): string {
  return field.type === 'number' ? `number with scale ${field.scale}` : field.type;
}

/** Where the data directory's files are, for the checks below. */
export interface SchemaLocations {
  /** The record itself. */
  readonly schemaFile: string;
  readonly logDir: string;
  readonly masterDir: string;
}

export class StoredSchema {
  readonly #file: string;
  #types: StoredTypes;
  /** Event types whose config adds to the record: recorded before their next append. */
  readonly #pending: Map<string, EventTypeSchema>;
  #writing: Promise<void> = Promise.resolve();

  private constructor(file: string, types: StoredTypes, catalog: Catalog) {
    this.#file = file;
    this.#types = types;
    this.#pending = new Map([...catalog.eventTypes.values()].filter((e) => !covers(types[e.name], e)).map((e) => [e.name, e]));
  }

  /**
   * Reads the record (made from the data and the config when a data directory
   * from before it, or a damaged one, has none) and checks the config against
   * it. Throws {@link StoredSchemaConflictError} naming the first conflict.
   */
  static async open(at: SchemaLocations, catalog: Catalog, onRebuilt: (reason: string) => void): Promise<StoredSchema> {
    const file = at.schemaFile;
    let types = await readSchemaFile(file);
    if (typeof types === 'string') {
      const stored = await typesWithEvents(at);
      if (types !== 'missing' || stored.size > 0) onRebuilt(types === 'missing' ? 'the data directory has no schema record yet' : types);
      // All that is known of how they were stored is the config they are opened with.
      types = Object.fromEntries([...stored].map((name) => [name, fieldsOf(catalog.eventTypes.get(name))]));
      checkTypes(types, catalog, file);
      await writeSchemaFile(file, types);
    } else {
      checkTypes(types, catalog, file);
    }
    return new StoredSchema(file, types, catalog);
  }

  /** Whether appending `eventType` must wait for {@link record} first. */
  needsRecord(eventType: string): boolean {
    return this.#pending.has(eventType);
  }

  /** Adds an event type's fields to the record, durably, before its events are appended. */
  record(eventType: string): Promise<void> {
    this.#writing = this.#writing.then(async () => {
      const schema = this.#pending.get(eventType);
      if (schema === undefined) return;
      const types = { ...this.#types, [eventType]: { ...this.#types[eventType], ...fieldsOf(schema) } };
      await writeSchemaFile(this.#file, types);
      this.#types = types;
      this.#pending.delete(eventType);
    });
    return this.#writing;
  }
}

/** An event type's fields as the config declares them, in the record's form. */
export function fieldsOf(schema: EventTypeSchema | undefined): Record<string, StoredField> {
  return Object.fromEntries((schema?.fields ?? []).map((f) => [f.name, storedField(f)]));
}

/** Whether the record already holds every field of `schema`. */
export function covers(stored: Record<string, StoredField> | undefined, schema: EventTypeSchema): boolean {
  return stored !== undefined && schema.fields.every((f) => f.name in stored);
}

/** Throws {@link StoredSchemaConflictError} at the first stored type or field the config would misread; `file` names where the record is. */
export function checkTypes(types: StoredTypes, catalog: Catalog, file: string): void {
  for (const [name, fields] of Object.entries(types)) {
    const schema = catalog.eventTypes.get(name);
    if (schema === undefined) {
      throw new StoredSchemaConflictError(name, undefined, file, `The data directory holds events of type '${name}', which the config no longer declares; declare it again (its fields as stored are in ${file}), or open another data directory.`);
    }
    for (const field of schema.fields) {
      const stored = fields[field.name];
      const now = storedField(field);
      if (stored === undefined || (stored.type === now.type && stored.scale === now.scale)) continue;
      throw new StoredSchemaConflictError(name, field.name, file, `Field '${field.name}' of event type '${name}' is stored as ${describe(stored)}, but the config declares it as ${describe(now)}, which would misread every stored value; declare it as stored, or add a field with a new name.`);
    }
  }
}

async function readSchemaFile(file: string): Promise<StoredTypes | 'missing' | string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as SchemaFile & { checksum?: string };
    if (parsed.format !== 1 || typeof parsed.eventTypes !== 'object' || !checksumMatches(parsed)) {
      return `${file} is damaged (its checksum does not match its content)`;
    }
    return parsed.eventTypes;
  } catch {
    return `${file} is damaged (it is not JSON)`;
  }
}

async function writeSchemaFile(file: string, eventTypes: StoredTypes): Promise<void> {
  const content: SchemaFile = { format: 1, eventTypes };
  await writeFile(`${file}.tmp`, `${JSON.stringify(withChecksum(content), null, 2)}\n`, { flush: true });
  await rename(`${file}.tmp`, file);
  await syncDirectory(dirname(file));
}

/** Event types with events in the log or the master dataset: what a data directory without a record holds. */
async function typesWithEvents(at: SchemaLocations): Promise<Set<string>> {
  const types = new Set<string>();
  const master = await readdir(at.masterDir, { withFileTypes: true }).catch(() => []);
  for (const entry of master) if (entry.isDirectory() && !entry.name.startsWith('_')) types.add(entry.name);
  const bases = await listSegmentBases(at.logDir).catch(() => [] as number[]);
  for (const base of bases) {
    const scan = await scanSegment(segmentPath(at.logDir, base), base);
    for (const frame of scan.frames) if (frame.eventType !== LOST_RANGE_TYPE && frame.eventType !== HISTORY_RANGE_TYPE) types.add(frame.eventType);
  }
  return types;
}
