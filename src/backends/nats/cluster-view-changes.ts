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
 *
 * @module
 */
import { compileConfig, sameEventTypes, withView, type TandemConfig } from '../../definitions/index.ts';
import { EventTypesChangedError, FrozenAggregatesError, NoViewChangeError } from '../../engine/errors.ts';
import type { ViewChangeAnswer, ViewChangeStatus } from '../../engine/engine-types.ts';
import type { ViewChangeCoordinator, ViewChangeHost } from '../../engine/engine-backend.ts';
import { UnknownViewError } from '../../serving/index.ts';
import {
  appliedConfig, EMPTY_VIEWS_RECORD, VIEWS_KEY, withConfig, withPending, type ClusterViewsRecord, type PendingClusterChange,
} from './cluster-views-record.ts';
import { InvalidClusterRecordError } from './errors.ts';
import { isConflict } from './kv-revisioned-store.ts';
import type { RevisionedStore } from './revisioned-store.ts';

/** Compare-and-set attempts before a write of the record gives up: each loses only to another node's write. */
const CAS_ATTEMPTS = 20;
/** Cycles asked for at most for one change to be switched in: the one running when it was asked, the next, and retries after failures. */
const SWITCH_ROUNDS = 5;
/** How long a failed cycle ask waits before the next. */
const RETRY_MS = 1_000;

export interface ClusterViewChangesOptions {
  readonly store: RevisionedStore<ClusterViewsRecord>;
  readonly node: string;
  /** The node's own config: applied at start unless a node applied the same views before. */
  readonly config: TandemConfig;
  /** Each view's version number in the version served (1 for a view never changed). */
  servedVersion(name: string): number;
  /** The batch version this node serves (0 before any). */
  servedBatch(): number;
}

/** Changes asked for and switched in by a cycle: what that cycle takes out of the record once published. */
export type SwitchedChanges = ReadonlyMap<string, PendingClusterChange>;

export class ClusterViewChanges implements ViewChangeCoordinator {
  readonly #host: ViewChangeHost;
  readonly #options: ClusterViewChangesOptions;
  /** The record as last read or written here: status and queries read it without waiting on NATS. */
  #record: ClusterViewsRecord = EMPTY_VIEWS_RECORD;

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
    const read = (await this.#options.store.get(VIEWS_KEY))?.value ?? EMPTY_VIEWS_RECORD;
    let record = read;
    for (const [name, change] of Object.entries(this.#record.pending)) {
      if (read.pending[name] === undefined && change.switching !== undefined && this.#options.servedBatch() < change.switching) record = withPending(record, name, change);
    }
    this.#record = record;
  }

  /** The changes recorded now, as last read. */
  get pendingChanges(): Readonly<Record<string, PendingClusterChange>> {
    return this.#record.pending;
  }

  versions(): Record<string, number> {
    return Object.fromEntries([...this.#host.catalog.views.keys()].map((name) => [name, this.versionOf(name)]));
  }

  versionOf(view: string): number {
    return this.#options.servedVersion(view);
  }

  pending(view: string): ViewChangeStatus | undefined {
    const change = this.#record.pending[view];
    return change === undefined || change.view === null ? undefined : this.#status(view, change);
  }

  statuses(): ViewChangeStatus[] {
    return Object.entries(this.#record.pending)
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
    // Its frozen parts aggregate events that are gone: no other definition can be computed over them.
    if (served !== undefined && (this.#host.backend.batch?.manifest.views[name]?.frozen ?? []).some((part) => part.rows > 0)) throw new FrozenAggregatesError(name);
    const action = served === undefined ? 'add' : 'change';
    let answer: ViewChangeAnswer | undefined;
    await this.#update((record) => {
      const pending = record.pending[name];
      if (pending?.view !== null && pending !== undefined && withView(this.#host.catalog, pending.view).catalog.views.get(name)!.hash === view.hash) {
        answer = { view: name, action, version: pending.version, state: 'backfilling' };
        return undefined;
      }
      if (served?.hash === view.hash && pending?.switching === undefined) {
        answer = { view: name, action: 'unchanged', version: this.versionOf(name), state: 'served' };
        // The same as served: a different change asked for before is given up.
        return pending === undefined ? undefined : withPending(record, name, undefined);
      }
      // (Served, while a cycle switches another definition in: asked again as a change, which the next cycle switches back.)
      const version = Math.max(served === undefined ? 0 : this.versionOf(name), pending?.version ?? 0) + 1;
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
      const pending = record.pending[name];
      unknown = !served && (pending === undefined || pending.view === null);
      if (unknown) return undefined;
      version = served ? this.versionOf(name) : pending!.version;
      // A view only being added is dropped by forgetting its change (unless a cycle carries it already: then dropped after it).
      if (!served && pending!.switching === undefined) return withPending(record, name, undefined);
      return withPending(record, name, { view: null, version, requestedAt: new Date().toISOString(), by: this.#options.node });
    });
    if (unknown) throw new UnknownViewError(name);
    await this.#switchIn(name);
    return { view: name, action: 'drop', version, state: 'dropped' };
  }

  /** Forgets the change of `name` asked for; refused once a cycle carries it. */
  async cancel(name: string): Promise<ViewChangeAnswer> {
    await this.#update((record) => {
      const pending = record.pending[name];
      if (pending === undefined || pending.view === null) throw new NoViewChangeError(name);
      if (pending.switching !== undefined) throw new NoViewChangeError(name, true);
      return withPending(record, name, undefined);
    });
    const served = this.#host.catalog.views.has(name);
    return { view: name, action: 'unchanged', version: served ? this.versionOf(name) : 0, state: served ? 'served' : 'dropped' };
  }

  /** Asks for `config`'s views: each new or changed one applied, each one it lacks dropped (with the next version). */
  async reload(config: TandemConfig): Promise<ViewChangeAnswer[]> {
    if (!sameEventTypes(config, this.#host.catalog.config)) throw new EventTypesChangedError();
    compileConfig({ ...this.#host.catalog.config, views: config.views });
    const answers: ViewChangeAnswer[] = [];
    for (const view of config.views) answers.push(await this.apply(view));
    const names = new Set(config.views.map((v) => v.name));
    const gone = [...this.#host.catalog.views.keys()].filter((name) => !names.has(name));
    for (const name of gone) await this.#update((record) => withPending(record, name, { view: null, version: this.versionOf(name), requestedAt: new Date().toISOString(), by: this.#options.node }));
    for (const name of Object.keys(this.#record.pending)) {
      if (names.has(name) || this.#record.pending[name]!.view === null) continue;
      // One a cycle carries already is switched in by it: dropped after it instead.
      if (this.#record.pending[name]!.switching === undefined) await this.cancel(name);
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
   * (a cancel is refused from here on): what the holder's cycle switches in.
   */
  async beginSwitch(version: number): Promise<SwitchedChanges> {
    let carried = new Map<string, PendingClusterChange>();
    try {
      await this.#update((record) => {
        carried = new Map(Object.entries(record.pending).map(([name, c]) => [name, { ...c, switching: version }]));
        if (carried.size === 0) return undefined;
        return { ...record, pending: Object.fromEntries(carried) };
      });
    } catch (error) {
      // A record that is not valid stops view changes, never the batch layer: the cycle runs with the views served.
      if (!(error instanceof InvalidClusterRecordError)) throw error;
      this.#host.logger.error({ err: error }, 'the cluster\'s views record is not valid; this cycle switches no view change in');
      return new Map();
    }
    return carried;
  }

  /** Takes out of the record the changes `switched` carried, once their version is published (a change asked for since stays). */
  async switched(switched: SwitchedChanges): Promise<void> {
    if (switched.size === 0) return;
    await this.#update((record) => {
      let next = record;
      for (const [name, change] of switched) {
        const now = record.pending[name];
        if (now !== undefined && now.version === change.version && now.requestedAt === change.requestedAt) next = withPending(next, name, undefined);
      }
      return next === record ? undefined : next;
    });
  }

  #status(name: string, change: PendingClusterChange): ViewChangeStatus {
    const served = this.#host.catalog.views.has(name);
    return {
      view: name, action: served ? 'change' : 'add', version: change.version, serving: served ? this.versionOf(name) : null,
      state: change.switching === undefined ? 'backfilling' : 'switching', startedAt: change.requestedAt,
      filesDone: 0, filesTotal: 0, eventsDone: 0, eventsTotal: 0, etaMs: null, error: null,
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
    for (let round = 0; round < SWITCH_ROUNDS && asked !== undefined && !this.#host.closed; round++) {
      try {
        await this.#host.runBatch();
        failure = undefined;
      } catch (error) {
        // The batch node changing hands, say: tried again a moment later.
        failure = error;
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
      this.#record = record;
      const next = edit(record);
      if (next === undefined) return;
      try {
        const written = current === undefined ? await store.create(VIEWS_KEY, next) : await store.update(VIEWS_KEY, next, current.revision);
        if (written !== undefined) {
          this.#record = next;
          return;
        }
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
    throw new Error(`could not write the cluster's views record: ${CAS_ATTEMPTS} other writes came first`);
  }
}
