/**
 * How a cluster's stored events were written, shared by every node: the
 * embedded engine's `schema.json`, kept under one key of the control bucket
 * (`stored-schema`) and changed only by compare-and-set. A node whose config
 * would misread stored events (a field's type or scale changed, an event
 * type with events dropped) is refused at open, naming the field, exactly as
 * the embedded engine refuses it; a type or field is recorded before its
 * first events are appended.
 *
 * @module
 */
import { checkTypes, covers, fieldsOf, type StoredTypes } from '../../log/index.ts';
import type { Catalog, EventTypeSchema } from '../../definitions/index.ts';
import type { RevisionedStore } from './revisioned-store.ts';

export const SCHEMA_KEY = 'stored-schema';

export class SharedSchema {
  readonly #pending: Map<string, EventTypeSchema>;
  #recording: Promise<void> = Promise.resolve();

  private constructor(private readonly store: RevisionedStore<StoredTypes>, private readonly catalog: Catalog, private readonly where: string, types: StoredTypes) {
    this.#pending = new Map([...catalog.eventTypes.values()].filter((e) => !covers(types[e.name], e)).map((e) => [e.name, e]));
  }

  /** Reads the record and checks the config against it; throws a `StoredSchemaConflictError` at the first conflict. */
  static async open(store: RevisionedStore<StoredTypes>, catalog: Catalog, where: string): Promise<SharedSchema> {
    const types = (await store.get(SCHEMA_KEY))?.value ?? {};
    checkTypes(types, catalog, where);
    return new SharedSchema(store, catalog, where, types);
  }

  needsRecord(eventType: string): boolean {
    return this.#pending.has(eventType);
  }

  /**
   * Adds an event type's fields to the shared record before its first events
   * are appended; another node's change is merged and checked again. One at
   * a time; a recording that failed (the record was not valid, say) fails
   * only its own ingest, and the next one reads the record afresh.
   */
  record(eventType: string): Promise<void> {
    this.#recording = this.#recording.catch(() => undefined).then(async () => {
      const schema = this.#pending.get(eventType);
      if (schema === undefined) return;
      for (;;) {
        const current = await this.store.get(SCHEMA_KEY);
        const types = current?.value ?? {};
        checkTypes(types, this.catalog, this.where);
        if (covers(types[eventType], schema)) break;
        const next = { ...types, [eventType]: { ...types[eventType], ...fieldsOf(schema) } };
        const written = current === undefined ? await this.store.create(SCHEMA_KEY, next) : await this.store.update(SCHEMA_KEY, next, current.revision);
        if (written !== undefined) break;
      }
      this.#pending.delete(eventType);
    });
    return this.#recording;
  }
}
