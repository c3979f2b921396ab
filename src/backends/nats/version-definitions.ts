/**
 * The view definitions a published batch version carries: in cluster mode a
 * version is the unit that switches views in. Every node serves the views of
 * the version it serves, whatever its own config file says, so all nodes
 * answer with one definition of a view at a time, and a view changed on one
 * node is served by every node from the same version on.
 *
 * @module
 */
import { compileConfig, sameDefinition, type Catalog, type ViewJson } from '../../definitions/index.ts';

/** One view of a version: its definition, and that definition's version number (raised at each change of the view). */
export interface VersionDefinition {
  readonly view: ViewJson;
  readonly version: number;
}

/** A version's views by name. */
export type VersionDefinitions = Readonly<Record<string, VersionDefinition>>;

/**
 * The definitions of `catalog`'s views, each numbered by `versionOf`.
 *
 * @example
 * ```ts
 * const definitions = definitionsOf(catalog, (name) => served[name]?.version ?? 1);
 * ```
 */
export function definitionsOf(catalog: Catalog, versionOf: (name: string) => number): VersionDefinitions {
  return Object.fromEntries([...catalog.views.values()].map((v) => [v.name, { view: v.definition, version: versionOf(v.name) }]));
}

/**
 * The catalog a version serves: `base`'s event types with the version's
 * views; `base` itself when the version carries none (published before
 * views could change while a cluster serves) or the very same views, so
 * that a node's catalog changes only when a version changes its views.
 */
export function catalogOfVersion(base: Catalog, definitions: VersionDefinitions | undefined): Catalog {
  if (definitions === undefined || sameViews(base, definitions)) return base;
  return compileConfig({ ...base.config, views: Object.values(definitions).map((d) => d.view) });
}

/** Whether `definitions` name exactly `catalog`'s views, each with the same definition. */
function sameViews(catalog: Catalog, definitions: VersionDefinitions): boolean {
  const names = Object.keys(definitions);
  if (names.length !== catalog.views.size) return false;
  return names.every((name) => {
    const served = catalog.views.get(name);
    return served !== undefined && sameDefinition(served.definition, definitions[name]!.view);
  });
}
