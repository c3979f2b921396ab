/**
 * Who runs the batch layer, and which batch version every node serves: one
 * record under one key, so that the lease and the publish are fenced by the
 * same compare-and-set.
 *
 * The record holds the lease (holder, term, expiry) and the published
 * version. A node takes the lease when it is free or expired (the term goes
 * up), renews it while it runs, and publishes a version by rewriting the
 * record at the revision it read, and only if that revision still shows it as
 * the holder of an unexpired lease of its own term. A node that lost its
 * lease (paused past the expiry, say, while another took over) reads a record
 * that names another holder, or writes against a revision that moved on:
 * either way its publish is refused. That is the fence: no two nodes can
 * publish under the same lease, and a version is only ever published by the
 * node that held the lease when the record was written.
 *
 * NATS 2.9 has no per-key TTL, so expiry is a timestamp that the holder
 * renews. Expiry is advisory: a node does not publish past its own lease's
 * expiry, but the fence is the compare-and-set. A write that lands late on a
 * lease nobody took over is harmless (its version is exact either way), and
 * once another node took it, the record has moved on and the write fails.
 *
 * @module
 */
import { BatchLeaseExpiringError, BatchLeaseHeldError, InvalidClusterRecordError } from './errors.ts';
import type { RevisionedStore } from './revisioned-store.ts';

/** The lease on the batch layer. */
export interface BatchLease {
  readonly holder: string;
  /** Goes up each time the lease changes hands. */
  readonly term: number;
  /** Epoch ms after which another node may take it. */
  readonly expiresAt: number;
}

/** A published batch version: its number and, per log partition, the stream position it covers below. */
export interface PublishedBatch {
  readonly version: number;
  readonly cutoffs: readonly number[];
  /** The term of the lease it was published under. */
  readonly term: number;
}

export interface ControlRecord {
  readonly lease: BatchLease | null;
  readonly published: PublishedBatch | null;
}

export const CONTROL_KEY = 'batch-control';

const EMPTY: ControlRecord = { lease: null, published: null };

export interface BatchControlOptions {
  /** This node's name, unique in the cluster. */
  readonly node: string;
  /** How long a lease lasts without renewal. */
  readonly leaseMs: number;
  /** The clock, in epoch ms; the tests drive it. */
  readonly now?: () => number;
}

/** Why a publish was refused. */
export type PublishRefusal = 'not the lease holder' | 'lease expired' | 'record moved on' | 'version not newer';

export class BatchControl {
  readonly #now: () => number;
  /** The term this node holds, as of its last successful write; null when it holds none. */
  #term: number | null = null;
  /**
   * This node's reads-then-writes, one at a time: a renewal racing a publish
   * (or another renewal) of the same node would fail its compare-and-set
   * against its own write, and read as a lost lease.
   */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: RevisionedStore<ControlRecord>, private readonly options: BatchControlOptions) {
    this.#now = options.now ?? Date.now;
  }

  /** The term this node holds as of its last write, or null when it holds none. */
  get term(): number | null {
    return this.#term;
  }

  /** How long a lease this node takes lasts without renewal. */
  get leaseMs(): number {
    return this.options.leaseMs;
  }

  /** The record as stored now. */
  async read(): Promise<ControlRecord> {
    return (await this.store.get(CONTROL_KEY))?.value ?? EMPTY;
  }

  /**
   * Whether the stored record still names this node as the holder of `term`.
   * A lease that expired with nobody taking it over still counts: its holder
   * renews it, and no other node can have published under a later term.
   */
  async holds(term: number): Promise<boolean> {
    const lease = (await this.read()).lease;
    return lease !== null && lease.holder === this.options.node && lease.term === term;
  }

  /**
   * Takes the lease if it is free or expired, or renews it if this node holds
   * it. Resolves with whether this node holds it afterwards.
   */
  acquire(): Promise<boolean> {
    return this.#inTurn(async () => {
      const current = await this.store.get(CONTROL_KEY);
      const record = current?.value ?? EMPTY;
      const now = this.#now();
      const lease = record.lease;
      const mine = this.#mine(lease);
      if (lease !== null && !mine && lease.expiresAt > now) return this.#lost();
      const term = mine ? lease!.term : (lease?.term ?? 0) + 1;
      const next: ControlRecord = { ...record, lease: { holder: this.options.node, term, expiresAt: now + this.options.leaseMs } };
      const written = current === undefined ? await this.store.create(CONTROL_KEY, next) : await this.store.update(CONTROL_KEY, next, current.revision);
      if (written === undefined) return this.#lost();
      this.#term = term;
      return true;
    });
  }

  /**
   * Why {@link acquire} just failed, as the error a cycle answers with.
   * Node names are unique among running nodes (the node registry refuses a
   * second process under a name in use), so a live lease that names this
   * node under a term this process does not hold was taken by its previous
   * process, killed without letting it go: {@link BatchLeaseExpiringError},
   * which passes once that term expires and this process takes a new one.
   * A lease of another node is {@link BatchLeaseHeldError}: that node runs
   * the cycles.
   */
  async refusal(): Promise<BatchLeaseHeldError | BatchLeaseExpiringError> {
    const lease = (await this.read()).lease;
    if (lease !== null && lease.holder === this.options.node && !this.#mine(lease)) {
      return new BatchLeaseExpiringError(this.options.node, Math.max(0, lease.expiresAt - this.#now()));
    }
    return new BatchLeaseHeldError(lease?.holder ?? 'another node');
  }

  /** Lets the lease go, so another node need not wait for it to expire. */
  release(): Promise<void> {
    return this.#inTurn(async () => {
      const current = await this.store.get(CONTROL_KEY);
      const lease = current?.value.lease ?? null;
      if (current === undefined || lease === null || !this.#mine(lease)) return;
      await this.store.update(CONTROL_KEY, { ...current.value, lease: { ...lease, expiresAt: 0 } }, current.revision);
      this.#term = null;
    });
  }

  /**
   * Publishes a batch version, fenced: refused unless the stored record still
   * shows this node holding an unexpired lease of `term` (by default the one
   * it holds; a cycle passes the term it ran under, since its version's files
   * are named by it), and the version is newer than the published one.
   */
  publish(version: number, cutoffs: readonly number[], term = this.#term): Promise<{ ok: true } | { ok: false; reason: PublishRefusal }> {
    return this.#inTurn(async () => {
      const current = await this.store.get(CONTROL_KEY);
      const lease = current?.value.lease ?? null;
      if (current === undefined || lease === null || !this.#mine(lease)) {
        this.#lost();
        return { ok: false, reason: 'not the lease holder' } as const;
      }
      // Held, but a later term than the cycle's: its version's files are named by the older one.
      if (lease.term !== term) return { ok: false, reason: 'not the lease holder' } as const;
      if (lease.expiresAt <= this.#now()) return { ok: false, reason: 'lease expired' } as const;
      if ((current.value.published?.version ?? 0) >= version) return { ok: false, reason: 'version not newer' } as const;
      const next: ControlRecord = { ...current.value, published: { version, cutoffs: [...cutoffs], term: lease.term } };
      const written = await this.store.update(CONTROL_KEY, next, current.revision);
      return written === undefined ? { ok: false, reason: 'record moved on' } as const : { ok: true } as const;
    });
  }

  /**
   * Replaces a record that is not valid, names no version (gone), or names an
   * older version than `published` (NATS lost its latest updates), with one naming
   * `published` and this node as the holder of a lease of a term above
   * `termFloor` (the highest term any version or range was named by, so no
   * name is used twice): a compare-and-set at the revision it found, so of
   * nodes doing it at once one wins. Resolves with whether this node did.
   */
  rebuild(published: PublishedBatch | null, termFloor: number): Promise<boolean> {
    return this.#inTurn(async () => {
      let revision: number | undefined;
      try {
        const current = await this.store.get(CONTROL_KEY);
        // Valid, and naming this version or a newer one (another node rebuilt it, or published, since this node looked): nothing to do.
        if (current !== undefined && current.value.published !== null && current.value.published.version >= (published?.version ?? 0)) return false;
        revision = current?.revision;
      } catch (error) {
        if (!(error instanceof InvalidClusterRecordError)) throw error;
        revision = await this.store.revision(CONTROL_KEY);
      }
      const term = termFloor + 1;
      const next: ControlRecord = { lease: { holder: this.options.node, term, expiresAt: this.#now() + this.options.leaseMs }, published };
      const written = revision === undefined ? await this.store.create(CONTROL_KEY, next) : await this.store.update(CONTROL_KEY, next, revision);
      if (written === undefined) return this.#lost();
      this.#term = term;
      return true;
    });
  }

  /** Whether `lease` is the one this node took. */
  #mine(lease: BatchLease | null): boolean {
    return lease !== null && lease.holder === this.options.node && lease.term === this.#term;
  }

  #inTurn<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(task, task);
    this.#turn = run.catch(() => undefined);
    return run;
  }

  #lost(): false {
    this.#term = null;
    return false;
  }
}
