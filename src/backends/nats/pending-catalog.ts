/**
 * What a batch cycle switches in: the catalog served with the views record's
 * pending changes made (`cluster-views-record.ts`), the definitions its seal
 * carries, and each view's version number in the version it publishes.
 *
 * @module
 */
import { withoutView, withView, type Catalog, type ViewJson } from '../../definitions/index.ts';
import type { PendingClusterChange } from './cluster-views-record.ts';

export interface PendingCatalog {
  readonly catalog: Catalog;
  /** The new definitions, folded by the speed layer from the cycle's seal on. */
  readonly include: readonly ViewJson[];
  /** Each view's version number in the version published. */
  versionOf(name: string): number;
  /** Changes that no longer fit (a view dropped meanwhile was changed), by name, with why. */
  readonly unfit: ReadonlyMap<string, string>;
}

/**
 * `served` with `pending` made, in name order: a change that does not fit
 * (it names a field the event type lacks, say, which the node asked
 * checked; or drops a view gone already) is left out and named in `unfit`.
 *
 * @example
 * ```ts
 * const { catalog, include } = pendingCatalog(served, record.pending, (name) => versions[name] ?? 1);
 * ```
 */
export function pendingCatalog(served: Catalog, pending: Readonly<Record<string, PendingClusterChange>>, servedVersion: (name: string) => number): PendingCatalog {
  let catalog = served;
  const include: ViewJson[] = [];
  const versions = new Map<string, number>();
  const unfit = new Map<string, string>();
  for (const name of Object.keys(pending).sort()) {
    const change = pending[name]!;
    try {
      if (change.view === null) {
        if (catalog.views.has(name)) catalog = withoutView(catalog, name).catalog;
        continue;
      }
      catalog = withView(catalog, change.view).catalog;
      include.push(catalog.views.get(name)!.definition);
      versions.set(name, change.version);
    } catch (error) {
      unfit.set(name, error instanceof Error ? error.message : String(error));
    }
  }
  return { catalog, include, unfit, versionOf: (name) => versions.get(name) ?? servedVersion(name) };
}
