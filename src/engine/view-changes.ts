/**
 * Views added, changed and dropped while the engine serves (issue #31).
 *
 * A new or changed definition starts in the speed layer at the cut of the
 * cycle that switches it in, and its batch layer is backfilled from the
 * master dataset beforehand, in the background, while the old definition
 * keeps answering. The switch is one batch cycle: it seals the log, adds to
 * the backfill the events since it began, and serves the new version, the
 * new catalog and the speed layer's cut in one synchronous step. Queries
 * see the old definition or the new one, never a mix, and each is exact:
 * the new one's batch part covers `[0, C)` and its speed part `[C, end)`.
 *
 * A drop is immediate: the view leaves the catalog and the speed layer in
 * one step, and the next batch version leaves it out.
 *
 * @module
 */
import { reloadedCatalog, viewsDigest, withoutView, withView, type TandemConfig, type ViewJson, type ViewSchema } from '../definitions/index.ts';
import { UnknownViewError } from '../serving/index.ts';
import type { Backfill, BackfillProgress, ViewChangeCoordinator, ViewChangeHost } from './engine-backend.ts';
import type { ViewChangeAnswer, ViewChangeStatus } from './engine-types.ts';
import { FrozenAggregatesError, NoViewChangeError, ViewChangesUnsupportedError } from './errors.ts';
import { viewState, type PendingViewChange, type ViewStateStore, type ViewVersion } from './view-state.ts';

/** How long a switch that failed (a full disk, say) waits before it tries again. */
const RETRY_MS = 5_000;

interface Pending {
  readonly view: ViewSchema;
  readonly json: ViewJson;
  readonly version: number;
  readonly startedAt: number;
  readonly controller: AbortController;
  state: ViewChangeStatus['state'];
  progress: BackfillProgress;
  error: string | null;
  /** Dropped while switching in: the switch then serves nothing of it. */
  dropped: boolean;
  task?: Promise<void>;
}

/** The state the engine starts with: the versions and pending changes read back at open. */
export interface ViewChangesStart {
  readonly store: ViewStateStore | undefined;
  readonly configDigest: string;
  readonly versions: Readonly<Record<string, ViewVersion>>;
  readonly pending: readonly PendingViewChange[];
}

export class ViewChanges implements ViewChangeCoordinator {
  readonly #host: ViewChangeHost;
  readonly #store: ViewStateStore | undefined;
  #configDigest: string;
  #versions: Record<string, ViewVersion>;
  readonly #pending = new Map<string, Pending>();
  /** Every change's task, until its files are gone: a switched change's outlives its entry in {@link #pending}. */
  readonly #tasks = new Set<Promise<void>>();
  #resume: readonly PendingViewChange[];
  /** Writes of the state file, one after another: the last one written is the newest state. */
  #writing: Promise<void> = Promise.resolve();

  constructor(host: ViewChangeHost, start: ViewChangesStart) {
    this.#host = host;
    this.#store = start.store;
    this.#configDigest = start.configDigest;
    this.#versions = { ...start.versions };
    this.#resume = start.pending;
  }

  /** Records the versions the engine opened with, and resumes the changes a stop interrupted (their backfill starts again). */
  async start(): Promise<void> {
    await this.#save();
    for (const change of this.#resume) {
      try {
        const { catalog, name } = withView(this.#host.catalog, change.view);
        const view = catalog.views.get(name)!;
        // Switched in already (a stop came between the switch and its record): nothing to resume.
        if (this.#host.catalog.views.get(name)?.hash === view.hash) continue;
        this.#begin(view, change.view, change.version);
      } catch (error) {
        this.#host.logger.error({ view: change.view.name, err: error }, 'a view change recorded before the stop no longer fits the config; it is dropped');
      }
    }
    this.#resume = [];
  }

  /** Each view's version, by name. */
  versions(): Record<string, number> {
    return Object.fromEntries([...this.#host.catalog.views.keys()].map((name) => [name, this.#versions[name]?.version ?? 1]));
  }

  /** The version `view` answers with now. */
  versionOf(view: string): number {
    return this.#versions[view]?.version ?? 1;
  }

  /** The change under way for `view`, if any. */
  pending(view: string): ViewChangeStatus | undefined {
    const change = this.#live(view);
    return change === undefined ? undefined : this.#status(change);
  }

  statuses(): ViewChangeStatus[] {
    return [...this.#pending.values()].filter((c) => !c.dropped).sort((a, b) => a.startedAt - b.startedAt).map((c) => this.#status(c));
  }

  /** Adds `definition`, or replaces the view of its name; see `EngineCore.applyView`. */
  async apply(definition: unknown): Promise<ViewChangeAnswer> {
    this.#supported();
    const { catalog, name } = withView(this.#host.catalog, definition);
    const view = catalog.views.get(name)!;
    const pending = this.#pending.get(name);
    const servedNow = this.#host.catalog.views.has(name);
    if (pending !== undefined && !pending.dropped && pending.view.hash === view.hash) return { view: name, action: servedNow ? 'change' : 'add', version: pending.version, state: 'backfilling' };
    // A change dropped while switching in ends with its cycle, and its files go then: a new change of the name
    // waits for that. One cancelled while switching in serves its definition first: what is served is read after.
    if (pending?.dropped === true) await pending.task;
    else if (pending !== undefined) await this.#cancel(pending);
    const served = this.#host.catalog.views.get(name);
    if (served?.hash === view.hash) {
      await this.#save();
      return { view: name, action: 'unchanged', version: this.versionOf(name), state: 'served' };
    }
    if (served !== undefined && this.#frozen(name)) throw new FrozenAggregatesError(name);
    const version = Math.max(this.#versions[name]?.version ?? 0, pending?.version ?? 0) + 1;
    this.#begin(view, view.definition, version);
    await this.#save();
    return { view: name, action: served === undefined ? 'add' : 'change', version, state: 'backfilling' };
  }

  /** Drops the view `name` (and any change of it under way); see `EngineCore.dropView`. */
  async drop(name: string): Promise<ViewChangeAnswer> {
    this.#supported();
    const pending = this.#live(name);
    const served = this.#host.catalog.views.get(name);
    // A switch under way is not stopped: its commit serves nothing of a dropped change and frees its speed tables (aborted,
    // a failed switch is not tried again). Cancelled and waited for, the switch would serve the new definition, which the
    // drop then took out without freeing it: the speed layer went on folding it.
    if (pending !== undefined && pending.state === 'switching') {
      pending.dropped = true;
      pending.controller.abort();
    } else if (pending !== undefined) await this.#cancel(pending);
    if (served === undefined) {
      if (pending === undefined) throw new UnknownViewError(name);
      await this.#save();
      return { view: name, action: 'drop', version: pending?.version ?? 0, state: 'dropped' };
    }
    const { catalog } = withoutView(this.#host.catalog, name);
    this.#host.swap(catalog);
    this.#host.backend.retire?.(served);
    this.#host.logger.info({ view: name, version: this.versionOf(name) }, 'dropped a view');
    await this.#save();
    return { view: name, action: 'drop', version: this.versionOf(name), state: 'dropped' };
  }

  /** Cancels the change of `name` under way; the definition served (if any) stays as it is. */
  async cancel(name: string): Promise<ViewChangeAnswer> {
    const pending = this.#live(name);
    if (pending === undefined) throw new NoViewChangeError(name);
    if (pending.state === 'switching') throw new NoViewChangeError(name, true);
    await this.#cancel(pending);
    await this.#save();
    const served = this.#host.catalog.views.has(name);
    return { view: name, action: 'unchanged', version: served ? this.versionOf(name) : 0, state: served ? 'served' : 'dropped' };
  }

  /**
   * Applies a config's views: each new or changed one is applied, each one
   * it lacks is dropped. Its event types must be the ones served.
   */
  async reload(config: TandemConfig): Promise<ViewChangeAnswer[]> {
    this.#supported();
    reloadedCatalog(this.#host.catalog, config);
    const answers: ViewChangeAnswer[] = [];
    for (const view of config.views) answers.push(await this.apply(view));
    const names = new Set(config.views.map((v) => v.name));
    const pending = [...this.#pending.values()].filter((c) => !c.dropped).map((c) => c.view.name);
    for (const name of new Set([...this.#host.catalog.views.keys(), ...pending])) if (!names.has(name)) answers.push(await this.drop(name));
    this.#configDigest = viewsDigest(config.views);
    await this.#save();
    return answers.filter((a) => a.action !== 'unchanged');
  }

  /**
   * Runs `work` (a cycle that erases events) with every backfill stopped,
   * then starts each again over the data as `work` left it: a backfill's
   * parts read before would hold the erased events.
   */
  async restartingBackfills<T>(work: () => Promise<T>): Promise<T> {
    const stopped = [...this.#pending.values()].filter((c) => c.state === 'backfilling');
    for (const change of stopped) await this.#cancel(change);
    try {
      return await work();
    } finally {
      for (const c of stopped) if (!this.#host.closed && !this.#pending.has(c.view.name)) this.#begin(c.view, c.json, c.version);
    }
  }

  /** Cancels every change under way (their state stays recorded, so the next open resumes them) and waits for them to stop. */
  async close(): Promise<void> {
    for (const change of this.#pending.values()) change.controller.abort();
    await Promise.all(this.#tasks);
    await this.#writing;
  }

  /** The change under way for `name`: one dropped while switching in is over, though its cycle still runs. */
  #live(name: string): Pending | undefined {
    const change = this.#pending.get(name);
    return change?.dropped === true ? undefined : change;
  }

  /** Whether the served version holds aggregates of retired events for view `name` (`keepAggregates`). */
  #frozen(name: string): boolean {
    return (this.#host.backend.batch?.manifest.views[name]?.frozen ?? []).some((part) => part.rows > 0);
  }

  #supported(): void {
    if (this.#host.backend.backfill === undefined || this.#store === undefined) throw new ViewChangesUnsupportedError();
  }

  #begin(view: ViewSchema, json: ViewJson, version: number): void {
    const change: Pending = {
      view, json, version, startedAt: Date.now(), controller: new AbortController(), state: 'backfilling',
      progress: { filesDone: 0, filesTotal: 0, eventsDone: 0, eventsTotal: 0 }, error: null, dropped: false,
    };
    this.#pending.set(view.name, change);
    this.#host.logger.info({ view: view.name, version }, 'backfilling a view\'s batch layer from the master dataset');
    const task = this.#run(change).catch((err: unknown) => {
      if (!change.controller.signal.aborted) this.#host.logger.error({ view: view.name, version, err }, 'a view\'s backfill failed; the change is dropped and the definition served stays');
      if (this.#pending.get(view.name) === change) this.#pending.delete(view.name);
      if (!this.#host.closed) void this.#save();
    }).finally(() => this.#tasks.delete(task));
    change.task = task;
    this.#tasks.add(task);
  }

  async #run(change: Pending): Promise<void> {
    const { backend } = this.#host;
    const { signal } = change.controller;
    const backfill = await backend.backfill!(change.view, { signal, progress: (p) => (change.progress = p) });
    try {
      for (;;) {
        signal.throwIfAborted();
        try {
          await this.#switch(change, backfill);
          return;
        } catch (error) {
          if (signal.aborted || this.#host.closed) throw error;
          change.state = 'retrying';
          change.error = error instanceof Error ? error.message : String(error);
          this.#host.logger.warn({ view: change.view.name, err: error }, `switching in a changed view failed; trying again in ${RETRY_MS / 1000} s`);
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
        }
      }
    } finally {
      await backfill.discard().catch(() => undefined);
    }
  }

  async #switch(change: Pending, backfill: Backfill): Promise<void> {
    const name = change.view.name;
    const next = () => withView(this.#host.catalog, change.json).catalog;
    change.state = 'switching';
    await this.#host.runSwitch(() => ({
      catalog: next(), view: change.view, replaced: this.#host.catalog.views.get(name), backfill,
      commit: () => {
        if (this.#pending.get(name) === change) this.#pending.delete(name);
        if (change.dropped) {
          this.#host.backend.retire?.(change.view);
          return;
        }
        // From the catalog of this moment: a view dropped while the cycle ran stays dropped.
        this.#host.swap(next());
        this.#versions[name] = { version: change.version, hash: change.view.hash };
      },
    }));
    this.#host.logger.info({ view: name, version: change.version }, 'switched in a view\'s new definition');
    await this.#save();
  }

  async #cancel(change: Pending): Promise<void> {
    change.controller.abort();
    if (this.#pending.get(change.view.name) === change) this.#pending.delete(change.view.name);
    await change.task?.catch(() => undefined);
    this.#host.logger.info({ view: change.view.name, version: change.version }, 'cancelled a view change');
  }

  #status(change: Pending): ViewChangeStatus {
    const { filesDone, filesTotal, eventsDone, eventsTotal } = change.progress;
    const served = this.#host.catalog.views.has(change.view.name);
    const done = fractionDone(change.progress);
    const elapsed = Date.now() - change.startedAt;
    return {
      view: change.view.name, action: served ? 'change' : 'add', version: change.version, serving: served ? this.versionOf(change.view.name) : null,
      state: change.state, startedAt: new Date(change.startedAt).toISOString(), filesDone, filesTotal, eventsDone, eventsTotal,
      etaMs: done > 0 && done < 1 ? Math.round((elapsed / done) * (1 - done)) : done >= 1 ? 0 : null, error: change.error,
    };
  }

  /** Records the state; a failure is logged, since it only loses changes at the next open. */
  #save(): Promise<void> {
    const store = this.#store;
    if (store === undefined) return Promise.resolve();
    const pending = [...this.#pending.values()].filter((c) => !c.dropped).map((c) => ({ view: c.json, version: c.version }));
    const state = viewState(this.#configDigest, this.#host.catalog, this.#versions, pending);
    this.#writing = this.#writing.then(() => store.write(state)).catch((err: unknown) => {
      this.#host.logger.error({ err }, 'could not record the views\' state; changes made while serving are lost at the next open');
    });
    return this.#writing;
  }
}

/** How far a backfill is, from 0 to 1: by events, or by files where it knows no event counts. */
export function fractionDone(progress: BackfillProgress): number {
  const { filesDone, filesTotal, eventsDone, eventsTotal } = progress;
  return eventsTotal > 0 ? eventsDone / eventsTotal : filesTotal > 0 ? filesDone / filesTotal : 0;
}
