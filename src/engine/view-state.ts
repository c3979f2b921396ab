/**
 * What an engine remembers of its views across restarts once they can
 * change while it serves: the views served now, each one's version (a
 * counter per name, raised whenever its definition changes), and the
 * changes still being backfilled.
 *
 * The config (file or object) stays the source of truth whenever it
 * changes: the views stored here are used at open only while the config's
 * views are the ones the engine last opened or reloaded with. So a view
 * applied through the API survives a restart, and an edited config file
 * wins over it (logged).
 *
 * @module
 */
import { compileConfig, viewsDigest, type Catalog, type ViewJson } from '../definitions/index.ts';

/** One view's version: raised each time the definition under its name changes. */
export interface ViewVersion {
  readonly version: number;
  /** The definition's hash (`ViewSchema.hash`) this version has. */
  readonly hash: string;
}

/** A view change accepted and not switched yet: its batch layer is backfilled in the background. */
export interface PendingViewChange {
  readonly view: ViewJson;
  readonly version: number;
}

/**
 * The record kept beside the data.
 *
 * @example
 * ```ts
 * const state: ViewState = { configDigest: viewsDigest(config.views), views: config.views, versions: {}, pending: [] };
 * ```
 */
export interface ViewState {
  /** {@link viewsDigest} of the views of the config the engine last opened or reloaded with. */
  readonly configDigest: string;
  /** The views served now. */
  readonly views: readonly ViewJson[];
  readonly versions: Readonly<Record<string, ViewVersion>>;
  readonly pending: readonly PendingViewChange[];
}

/** Where a backend keeps the {@link ViewState}: a file in the data directory (embedded). */
export interface ViewStateStore {
  read(): Promise<ViewState | undefined>;
  write(state: ViewState): Promise<void>;
}

/** The views an engine opens with, and the changes it resumes. */
export interface OpeningViews {
  readonly catalog: Catalog;
  /** {@link viewsDigest} of the config's own views, to record. */
  readonly configDigest: string;
  readonly versions: Readonly<Record<string, ViewVersion>>;
  readonly pending: readonly PendingViewChange[];
}

/**
 * The catalog to open with: the config's own, unless the stored state was
 * written for these same config views, in which case the views as changed
 * while serving (and the changes still pending). `onDiscarded` hears why
 * stored changes were set aside.
 */
export function openingViews(config: unknown, state: ViewState | undefined, onDiscarded: (reason: string) => void): OpeningViews {
  const catalog = compileConfig(config);
  const configDigest = viewsDigest(catalog.config.views);
  if (state === undefined) return { catalog, configDigest, versions: versionsOf(catalog, {}), pending: [] };
  if (state.configDigest !== configDigest) {
    if (state.pending.length > 0 || viewsDigest(state.views) !== state.configDigest) onDiscarded('the config\'s views changed since the views were last changed while serving, so the config\'s views are served');
    return { catalog, configDigest, versions: versionsOf(catalog, state.versions), pending: [] };
  }
  try {
    const changed = compileConfig({ ...catalog.config, views: state.views });
    return { catalog: changed, configDigest, versions: versionsOf(changed, state.versions), pending: state.pending };
  } catch (error) {
    onDiscarded(`the views changed while serving no longer fit the config's event types (${error instanceof Error ? error.message : String(error)}), so the config's views are served`);
    return { catalog, configDigest, versions: versionsOf(catalog, state.versions), pending: [] };
  }
}

/**
 * Each view's version: kept where its definition is the one recorded,
 * raised where it changed, 1 for a new name. The versions of names the
 * catalog lacks (dropped views) are kept too, so that a view dropped and
 * defined again after a restart gets a new number, as it would without one.
 */
export function versionsOf(catalog: Catalog, previous: Readonly<Record<string, ViewVersion>>): Record<string, ViewVersion> {
  const versions: Record<string, ViewVersion> = { ...previous };
  for (const view of catalog.views.values()) {
    const before = previous[view.name];
    versions[view.name] = before === undefined ? { version: 1, hash: view.hash } : before.hash === view.hash ? before : { version: before.version + 1, hash: view.hash };
  }
  return versions;
}

/** The state to record for `catalog` served with `versions` and `pending` changes, opened with config views of `configDigest`. */
export function viewState(configDigest: string, catalog: Catalog, versions: Readonly<Record<string, ViewVersion>>, pending: readonly PendingViewChange[]): ViewState {
  // Versions of dropped views are kept, so that a view dropped and defined again gets a new number.
  return { configDigest, views: catalog.config.views, versions, pending };
}
