/**
 * A key-value store whose writes are compare-and-set on a revision: the one
 * primitive a lease and a fenced publish need. JetStream KV is one (a key's
 * revision is its stream sequence, `update(key, value, revision)` fails when
 * the key moved on); {@link MemoryRevisionedStore} is another, for one
 * process, which the lease's property tests drive through every interleaving.
 *
 * @module
 */

/** A value and the revision it was written at. */
export interface Revisioned<T> {
  readonly value: T;
  readonly revision: number;
}

export interface RevisionedStore<T> {
  /** The current value of `key`, or undefined when it has none. */
  get(key: string): Promise<Revisioned<T> | undefined>;
  /** Writes `value` only if `key` has none yet; resolves with the new revision, or undefined when another writer was first. */
  create(key: string, value: T): Promise<number | undefined>;
  /** Writes `value` only if `key` is still at `revision`; resolves with the new revision, or undefined when it moved on. */
  update(key: string, value: T, revision: number): Promise<number | undefined>;
  /** The revision of `key` whatever its value holds (undefined when it has none): where a value found not valid is replaced. */
  revision(key: string): Promise<number | undefined>;
}

/** A {@link RevisionedStore} in this process's memory: revisions count every write, as a stream's sequence does. */
export class MemoryRevisionedStore<T> implements RevisionedStore<T> {
  readonly #entries = new Map<string, Revisioned<T>>();
  #sequence = 0;

  async get(key: string): Promise<Revisioned<T> | undefined> {
    return this.#entries.get(key);
  }

  async create(key: string, value: T): Promise<number | undefined> {
    if (this.#entries.has(key)) return undefined;
    return this.#write(key, value);
  }

  async update(key: string, value: T, revision: number): Promise<number | undefined> {
    if (this.#entries.get(key)?.revision !== revision) return undefined;
    return this.#write(key, value);
  }

  async revision(key: string): Promise<number | undefined> {
    return this.#entries.get(key)?.revision;
  }

  #write(key: string, value: T): number {
    const revision = ++this.#sequence;
    this.#entries.set(key, { value, revision });
    return revision;
  }
}
