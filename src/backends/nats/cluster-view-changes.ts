/**
 * Views added, changed and dropped while a cluster serves (issue #31), asked
 * of any node. A change is recorded in the cluster's views record (one
 * compare-and-set); the node holding the batch lease switches every change
 * recorded in with the next version it publishes: its seal carries the new
 * definitions, so every node's speed layer folds them from that cutoff on,
 * and the version carries the views it was computed with, so every node
 * serves the new catalog from the step that serves that version. Until
 * then the definition served answers, and a query that started before the
 * switch reads one definition throughout.
 *
 * Unlike the embedded engine, the backfill is the switching cycle itself
 * (it recomputes the views from the archive), and a drop is served with the
 * next version too: both are one published version, on every node at once.
 * The batch node writes how far that cycle is into the record, so every
 * node's status shows it; a cycle that fails takes its marks out and leaves
 * why in the changes it carried, which can then be cancelled.
 *
 * @module
 */
import { reloadedCatalog, sameDefinition, withView, type TandemConfig } from '../../definitions/index.ts';
import { FrozenAggregatesError, NoViewChangeError } from '../../engine/errors.ts';
import type { ViewChangeAnswer, ViewChangeStatus } from '../../engine/engine-types.ts';
import type { ViewChangeCoordinator, ViewChangeHost } from '../../engine/engine-backend.ts';
import { UnknownViewError } from '../../serving/index.ts';
import {
  appliedConfig, EMPTY_VIEWS_RECORD, VIEWS_KEY, withConfig, withDropped, withPending, withProgress, type ClusterViewsRecord, type PendingClusterChange,
} from './cluster-views-record.ts';
import { InvalidClusterRecordError } from './errors.ts';
import { BatchLeaseExpiringError, BatchLeaseHeldError } from './errors.ts';
import { isConflict } from './kv-revisioned-store.ts';
import type { RevisionedStore } from './revisioned-store.ts';
import { etaNow, PROGRESS_EVERY_MS, switchProgress, type ViewReads } from './switch-progress.ts';

/** Compare-and-set attempts before a write of the record gives up: each loses only to another node's write. */
const CAS_ATTEMPTS = 20;
/** Cycles asked for at most for one change to be switched in: the one running when it was asked, the next, and retries after failures. */
const SWITCH_ROUNDS = 5;
/** How long a failed cycle ask waits before the next. */
const RETRY_MS = 1_000;
/**
 * How long asks refused because a lease holder cannot run cycles are tried
 * again, beyond the rounds, on top of twice the node's lease time: a batch
 * node killed and restarted waits out its old term (one lease time at
 * most) before it can take the lease back, and a holder lost meanwhile is
 * waited out for another.
 */
const LEASE_WAIT_MARGIN_MS = 10_000;
/** A failure's message kept in the record at most: the record is read at every poll. */
const ERROR_CHARS = 500;

export interface ClusterViewChangesOptions {
  readonly store: RevisionedStore<ClusterViewsRecord>;
  readonly node: string;
  /** How long the node's batch lease lasts without renewal: a refused ask is tried again for as long as a lease takes to pass to a node that runs cycles. */
  readonly leaseMs: number;
  /** The node's own config: applied at start unless a node applied the same views before. */
  readonly config: TandemConfig;
  /** Each view's version number in the version served (1 for a view never changed). */
  servedVersion(name: string): number;
  /** The batch version this node serves (0 before any). */
  servedBatch(): number;
  /**
   * Whether the cycle computing batch version `version` under lease term
   * `term` (undefined: a mark that names none) may still publish it, or
   * published it, as far as this node knows; false only once it cannot.
   */
  cycleMayPublish(version: number, term: number | undefined): boolean;
}

/** The cycle on this node (the batch node) that carries changes: its marks' version and term, and when it began. */
interface Carrying {
  readonly version: number;
  readonly term: number;
  readonly startedAt: number;
}

/** Changes asked for and switched in by a cycle: what that cycle takes out of the record once published. */
export type SwitchedChanges = ReadonlyMap<string, PendingClusterChange>;

export class ClusterViewChanges implements ViewChangeCoordinator {
  readonly #host: ViewChangeHost;
  readonly #options: ClusterViewChangesOptions;
  /** The record as last read or written here: status and queries read it without waiting on NATS. */
  #record: ClusterViewsRecord = EMPTY_VIEWS_RECORD;
  /** Changes a cycle published and took out of the record, shown here until this node serves their version. */
  readonly #unserved = new Map<string, PendingClusterChange>();
  #carrying: Carrying | undefined;
  /** When this node last wrote its cycle's progress, and that write (each waits for the one before). */
  #progressAt = 0;
  #progressWriting: Promise<void> = Promise.resolve();

  constructor(host: ViewChangeHost, options: ClusterViewChangesOptions) {
    this.#host = host;
    this.#options = options;
  }

  /** Reads the record, and applies the node's config when no node applied its views before (an edited file, on its first node). */
  async start(): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      // Not valid: the node serves the views of its version, and view changes wait until the record is rewritten.
      if (!(error instanceof InvalidClusterRecordError)) throw error;
      this.#host.logger.error({ err: error }, 'the cluster\'s views record is not valid; views cannot change until it is rewritten or deleted');
      return;
    }
    // Changes asked for before this node started (on a node that stopped since, say) are switched in, as a restart resumes them.
    for (const name of Object.keys(this.#record.pending)) this.#switchInBackground(name);
    const { config } = this.#options;
    if (appliedConfig(this.#record, config.views)) return;
    const changes = await this.reload(config);
    if (changes.length > 0) this.#host.logger.info({ views: changes.map((c) => `${c.action} ${c.view}`) }, 'this node\'s config changes the cluster\'s views; the next batch cycle switches them in');
  }

  /**
   * Reads the record again: called by the node's poll, so that status shows
   * the changes other nodes were asked for. A change the batch node took out
   * once it published the version carrying it stays listed here, switching,
   * until this node serves that version, so that no one reading this node
   * sees a change gone and its version not served yet.
   */
  async refresh(): Promise<void> {
    this.#see((await this.#options.store.get(VIEWS_KEY))?.value ?? EMPTY_VIEWS_RECORD);
  }

  /** The changes recorded now and not yet served here, as last read: what the next cycle switches in. */
  get pendingChanges(): Readonly<Record<string, PendingClusterChange>> {
    return Object.fromEntries(Object.entries(this.#record.pending).filter(([name, c]) => !this.#alreadyIn(name, c)));
  }

  /**
   * Whether some change asked for waits for a cycle to carry it: none
   * carries it now. The node that asked runs cycles until it is in, but it
   * may have stopped first (killed, say, while the batch node changed hands).
   * One a cycle failed with is left to the scheduled cycles: it may be what
   * makes them fail.
   */
  get waitingForCycle(): boolean {
    return Object.values(this.pendingChanges).some((change) => !this.#switching(change) && change.error === undefined);
  }

  versions(): Record<string, number> {
    return Object.fromEntries([...this.#host.catalog.views.keys()].map((name) => [name, this.versionOf(name)]));
  }

  versionOf(view: string): number {
    return this.#options.servedVersion(view);
  }

  pending(view: string): ViewChangeStatus | undefined {
    const change = this.#shown()[view];
    return change === undefined || change.view === null ? undefined : this.#status(view, change);
  }

  statuses(): ViewChangeStatus[] {
    return Object.entries(this.#shown())
      .filter(([, c]) => c.view !== null)
      .sort(([, a], [, b]) => a.requestedAt.localeCompare(b.requestedAt))
      .map(([name, c]) => this.#status(name, c));
  }

  /** Records `definition` to switch in with the next version, and asks for that cycle. */
  async apply(definition: unknown): Promise<ViewChangeAnswer> {
    // Checked here, against the event types served, so that a change that would misread stored events is refused to the asker.
    const { catalog, name } = withView(this.#host.catalog, definition);
    const view = catalog.views.get(name)!;
    const served = this.#host.catalog.views.get(name);
    // Its frozen parts aggregate events that are gone: no other definition can be computed over them (the same one is no change).
    const frozen = (this.#host.backend.batch?.manifest.views[name]?.frozen ?? []).some((part) => part.rows > 0);
    if (served !== undefined && served.hash !== view.hash && frozen) throw new FrozenAggregatesError(name);
    const action = served === undefined ? 'add' : 'change';
    let answer: ViewChangeAnswer | undefined;
    await this.#update((record) => {
      const pending = this.#live(record, name);
      if (pending?.view !== null && pending !== undefined && sameDefinition(pending.view, view.definition)) {
        answer = { view: name, action, version: pending.version, state: 'backfilling' };
        return undefined;
      }
      if (served?.hash === view.hash && !this.#switching(pending)) {
        answer = { view: name, action: 'unchanged', version: this.versionOf(name), state: 'served' };
        // The same as served: a different change asked for before is given up.
        return pending === undefined ? undefined : withPending(record, name, undefined);
      }
      // (Served, while a cycle switches another definition in: asked again as a change, which the next cycle switches back.)
      // Above any number the name had, a dropped view's too: no two definitions answer with one number.
      const version = Math.max(served === undefined ? 0 : this.versionOf(name), pending?.version ?? 0, record.dropped?.[name] ?? 0) + 1;
      answer = { view: name, action, version, state: 'backfilling' };
      return withPending(record, name, { view: view.definition, version, requestedAt: new Date().toISOString(), by: this.#options.node });
    });
    if (answer!.state === 'backfilling') this.#switchInBackground(name);
    return answer!;
  }

  /** Records the drop of `name`; resolves once the version without it is served here. */
  async drop(name: string): Promise<ViewChangeAnswer> {
    const served = this.#host.catalog.views.has(name);
    let version = 0;
    let unknown = false;
    await this.#update((record) => {
      const pending = this.#live(record, name);
      unknown = !served && (pending === undefined || pending.view === null);
      if (unknown) return undefined;
      version = served ? this.versionOf(name) : pending!.version;
      // A view only being added is dropped by forgetting its change (unless a cycle carries it already: then dropped after it).
      if (!served && !this.#switching(pending)) return withPending(record, name, undefined);
      return withPending(record, name, { view: null, version, requestedAt: new Date().toISOString(), by: this.#options.node });
    });
    if (unknown) throw new UnknownViewError(name);
    await this.#switchIn(name);
    return { view: name, action: 'drop', version, state: 'dropped' };
  }

  /** Forgets the change of `name` asked for; refused while a cycle carrying it may publish it. */
  async cancel(name: string): Promise<ViewChangeAnswer> {
    await this.#update((record) => {
      const pending = this.#live(record, name);
      if (pending === undefined || pending.view === null) throw new NoViewChangeError(name);
      if (this.#switching(pending)) throw new NoViewChangeError(name, true);
      return withPending(record, name, undefined);
    });
    const served = this.#host.catalog.views.has(name);
    return { view: name, action: 'unchanged', version: served ? this.versionOf(name) : 0, state: served ? 'served' : 'dropped' };
  }

  /** Asks for `config`'s views: each new or changed one applied, each one it lacks dropped (with the next version). */
  async reload(config: TandemConfig): Promise<ViewChangeAnswer[]> {
    reloadedCatalog(this.#host.catalog, config);
    const answers: ViewChangeAnswer[] = [];
    for (const view of config.views) answers.push(await this.apply(view));
    const names = new Set(config.views.map((v) => v.name));
    const gone = [...this.#host.catalog.views.keys()].filter((name) => !names.has(name));
    for (const name of gone) await this.#update((record) => withPending(record, name, { view: null, version: this.versionOf(name), requestedAt: new Date().toISOString(), by: this.#options.node }));
    // (Not one a version served here switched in already: the view is served, and `gone` names it.)
    for (const name of Object.keys(this.pendingChanges)) {
      const change = this.pendingChanges[name];
      if (names.has(name) || change === undefined || change.view === null) continue;
      // One a cycle carries already is switched in by it: dropped after it instead.
      if (!this.#switching(change)) await this.cancel(name);
      else await this.#update((record) => withPending(record, name, { view: null, version: record.pending[name]?.version ?? 0, requestedAt: new Date().toISOString(), by: this.#options.node }));
    }
    await this.#update((record) => withConfig(record, config.views));
    for (const name of gone) this.#switchInBackground(name);
    return [...answers.filter((a) => a.action !== 'unchanged'), ...gone.map((view): ViewChangeAnswer => ({ view, action: 'drop', version: this.versionOf(view), state: 'dropped' }))];
  }

  /** A cluster's erasures are not supported yet, so nothing runs beside a backfill: `work` runs as it is. */
  restartingBackfills<T>(work: () => Promise<T>): Promise<T> {
    return work();
  }

  async close(): Promise<void> {}

  /**
   * The changes recorded now, marked as carried by batch version `version`
   * under lease term `term` (a cancel is refused while that cycle may
   * publish): what the holder's cycle switches in. Changes a version this
   * node serves switched in already (their removal failed) are taken out
   * instead of carried again.
   */
  async beginSwitch(version: number, term: number): Promise<SwitchedChanges> {
    this.#carrying = undefined;
    let carried = new Map<string, PendingClusterChange>();
    try {
      await this.#update((record) => {
        carried = new Map();
        let next = record;
        for (const [name, c] of Object.entries(record.pending)) {
          if (this.#alreadyIn(name, c)) next = this.#without(next, name, c);
          else carried.set(name, { ...c, switching: version, term });
        }
        if (carried.size === 0) return next === record ? undefined : next;
        return { ...withProgress(next, undefined), pending: { ...next.pending, ...Object.fromEntries(carried) } };
      });
    } catch (error) {
      // A record that is not valid stops view changes, never the batch layer: the cycle runs with the views served.
      if (!(error instanceof InvalidClusterRecordError)) throw error;
      this.#host.logger.error({ err: error }, 'the cluster\'s views record is not valid; this cycle switches no view change in');
      return new Map();
    }
    this.#carrying = carried.size === 0 ? undefined : { version, term, startedAt: Date.now() };
    this.#progressAt = 0;
    return carried;
  }

  /**
   * How far the carrying cycle is: `done` of its `total` views computed, each
   * having read `reads`. Written into the record at most once a second (and
   * when all are done), in the background: a write never holds the cycle up.
   */
  progressed(done: number, total: number, reads: ViewReads): void {
    const carrying = this.#carrying;
    const now = Date.now();
    if (carrying === undefined || (done < total && now - this.#progressAt < PROGRESS_EVERY_MS)) return;
    this.#progressAt = now;
    const progress = switchProgress(carrying, done, total, reads, now);
    const carries = (record: ClusterViewsRecord) => Object.values(record.pending).some((c) => c.switching === carrying.version && c.term === carrying.term);
    this.#progressWriting = this.#progressWriting
      .then(() => this.#update((record) => (carries(record) ? withProgress(record, progress) : undefined)))
      .catch((err: unknown) => this.#host.logger.warn({ err }, 'could not record how far the cycle switching views in is; status shows it at the next write'));
  }

  /** Takes out of the record the changes `switched` carried, once their version is published (a change asked for since stays). */
  async switched(switched: SwitchedChanges): Promise<void> {
    this.#carrying = undefined;
    if (switched.size === 0) return;
    await this.#progressWriting;
    await this.#update((record) => {
      let next = withProgress(record, undefined);
      for (const [name, change] of switched) {
        const now = record.pending[name];
        if (now !== undefined && now.version === change.version && now.requestedAt === change.requestedAt) next = this.#without(next, name, change);
      }
      return next === record ? undefined : next;
    });
  }

  /**
   * The cycle of batch version `version` failed before it published: the
   * marks of the changes it carried (if any) are taken out (they can be
   * cancelled again, and the next cycle carries them), and each says why
   * in its status.
   */
  async failed(version: number, error: unknown): Promise<void> {
    const carrying = this.#carrying;
    if (carrying?.version !== version) return;
    this.#carrying = undefined;
    await this.#progressWriting;
    const reason = (error instanceof Error ? error.message : String(error)).slice(0, ERROR_CHARS);
    await this.#update((record) => {
      let next = withProgress(record, undefined);
      for (const [name, c] of Object.entries(record.pending)) {
        if (c.switching !== carrying.version || c.term !== carrying.term) continue;
        const { switching: _version, term: _term, ...unmarked } = c;
        next = withPending(next, name, { ...unmarked, error: reason });
      }
      return next === record ? undefined : next;
    });
  }

  /** `record` without the change of `name`, published: a drop's version is remembered for the name. */
  #without(record: ClusterViewsRecord, name: string, change: PendingClusterChange): ClusterViewsRecord {
    const next = withPending(record, name, undefined);
    return change.view === null ? withDropped(next, name, change.version) : next;
  }

  /** Whether `change` is carried by a cycle that may still publish it (or published it): then it cannot be cancelled. */
  #switching(change: PendingClusterChange | undefined): boolean {
    return change?.switching !== undefined && this.#options.cycleMayPublish(change.switching, change.term);
  }

  /**
   * Whether the version this node serves switched `change` in already: the
   * record still holding it (its removal failed, or its cycle's publish
   * answered an error though it landed) asks for nothing. A definition is in
   * when it is served under the change's own number, which no change asked
   * for later has; a drop, once a version past its mark lacks the view.
   */
  #alreadyIn(name: string, change: PendingClusterChange): boolean {
    const served = this.#host.catalog.views.get(name);
    if (change.view === null) return change.switching !== undefined && this.#options.servedBatch() >= change.switching && served === undefined;
    return served !== undefined && this.versionOf(name) === change.version && sameDefinition(served.definition, change.view);
  }

  /** The change of `name` in `record`, unless it is served already. */
  #live(record: ClusterViewsRecord, name: string): PendingClusterChange | undefined {
    const change = record.pending[name];
    return change === undefined || this.#alreadyIn(name, change) ? undefined : change;
  }

  /** The changes status lists: those recorded and not served here yet, and those published and not served here yet. */
  #shown(): Record<string, PendingClusterChange> {
    const shown: Record<string, PendingClusterChange> = Object.fromEntries(this.#unserved);
    for (const [name, c] of Object.entries(this.#record.pending)) if (!this.#alreadyIn(name, c)) shown[name] = c;
    return shown;
  }

  /**
   * Takes `record` as the one read or written last. A change it no longer
   * holds that a cycle published stays listed here, switching, until this
   * node serves that version, so that no one reading this node sees a
   * change gone and its version not served yet (whatever this node writes
   * meanwhile).
   */
  #see(record: ClusterViewsRecord): void {
    const servedBatch = this.#options.servedBatch();
    for (const [name, change] of Object.entries(this.#record.pending)) {
      if (record.pending[name] === undefined && this.#switching(change) && servedBatch < change.switching!) this.#unserved.set(name, change);
    }
    for (const [name, change] of this.#unserved) if (record.pending[name] !== undefined || servedBatch >= change.switching!) this.#unserved.delete(name);
    this.#record = record;
  }

  /** A change's status: while switching, with how far its cycle is as the batch node last wrote; after a failed cycle, `retrying` and why. */
  #status(name: string, change: PendingClusterChange): ViewChangeStatus {
    const served = this.#host.catalog.views.has(name);
    // One published and not served here yet is switching whatever a later version says of its mark.
    const switching = this.#unserved.get(name) === change || this.#switching(change);
    const p = this.#record.progress;
    const progress = switching && p !== undefined && p.version === change.switching && p.term === change.term ? p : undefined;
    return {
      view: name, action: served ? 'change' : 'add', version: change.version, serving: served ? this.versionOf(name) : null,
      state: switching ? 'switching' : change.error === undefined ? 'backfilling' : 'retrying', startedAt: change.requestedAt,
      filesDone: progress?.filesDone ?? 0, filesTotal: progress?.filesTotal ?? 0, eventsDone: progress?.eventsDone ?? 0, eventsTotal: progress?.eventsTotal ?? 0,
      etaMs: progress === undefined ? null : etaNow(progress), error: switching ? null : change.error ?? null,
    };
  }

  /**
   * Runs cycles (on the batch node) until the change of `name` asked for
   * now is switched in: a cycle asked for while one runs joins it, and the
   * one running may have begun before the change was recorded.
   */
  async #switchIn(name: string): Promise<void> {
    const asked = this.#record.pending[name];
    let failure: unknown;
    const leaseDeadline = Date.now() + 2 * this.#options.leaseMs + LEASE_WAIT_MARGIN_MS;
    for (let round = 0; round < SWITCH_ROUNDS && asked !== undefined && !this.#host.closed; round++) {
      try {
        await this.#host.runBatch();
        failure = undefined;
      } catch (error) {
        // The batch node changing hands, say: tried again a moment later (a lease being waited out is no round).
        failure = error;
        if ((error instanceof BatchLeaseHeldError || error instanceof BatchLeaseExpiringError) && Date.now() < leaseDeadline) round--;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
      }
      await this.refresh();
      const now = this.#record.pending[name];
      if (now === undefined || now.requestedAt !== asked.requestedAt) return;
    }
    if (failure !== undefined) throw failure;
  }

  /** {@link #switchIn} in the background, a failure logged: the batch node's next scheduled cycle switches the change in. */
  #switchInBackground(name: string): void {
    this.#switchIn(name).catch((err: unknown) => this.#host.logger.warn({ err, view: name }, 'the batch cycles that switch a view change in failed; the next scheduled one does'));
  }

  /**
   * Writes `edit(record)` with a compare-and-set, read again after each
   * conflict; `edit` returning undefined writes nothing. The cache holds
   * what was written (or read last).
   */
  async #update(edit: (record: ClusterViewsRecord) => ClusterViewsRecord | undefined): Promise<void> {
    const { store } = this.#options;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = await store.get(VIEWS_KEY);
      const record = current?.value ?? EMPTY_VIEWS_RECORD;
      this.#see(record);
      const next = edit(record);
      if (next === undefined) return;
      try {
        const written = current === undefined ? await store.create(VIEWS_KEY, next) : await store.update(VIEWS_KEY, next, current.revision);
        if (written !== undefined) {
          this.#see(next);
          return;
        }
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
    throw new Error(`could not write the cluster's views record: ${CAS_ATTEMPTS} other writes came first`);
  }
}
