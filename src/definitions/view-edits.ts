/**
 * A config with one view added, replaced or removed: how views change on a
 * running engine (`PUT /v1/views/:name`, `tandem view apply`, a reload of
 * the config file). The edited config is compiled whole by
 * {@link compileConfig}, so a changed view is checked against the event
 * types exactly as one written in the file is.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { compileConfig, type Catalog } from './catalog.ts';
import { canonicalJson, invalid, record } from './config-checks.ts';
import type { TandemConfig, ViewJson } from './definition-types.ts';
import { EventTypesChangedError } from './errors.ts';
import { checkName } from './names.ts';

/** A catalog after a view change, and the name of the view changed. */
export interface EditedCatalog {
  readonly catalog: Catalog;
  readonly name: string;
}

/**
 * The catalog with `view` added, or put in place of the view of its name.
 * Paths in errors read `view.…`, as the definition was sent alone.
 *
 * @example
 * ```ts
 * const { catalog } = withView(tandem.catalog, { name: 'by_country', eventType: 'order', dimensions: ['country'], granularity: 'day', measures: { n: { type: 'count' } } });
 * ```
 */
export function withView(catalog: Catalog, view: unknown): EditedCatalog {
  const obj = record('view', view);
  const name = checkName('view.name', obj.name);
  const views = catalog.config.views;
  const at = views.findIndex((v) => v.name === name);
  // In place of the view of its name, or last when new: its index names its paths in errors.
  const next = at === -1 ? [...views, obj as unknown as ViewJson] : views.map((v, i) => (i === at ? obj as unknown as ViewJson : v));
  return { catalog: compileEdited(catalog.config, next, at === -1 ? views.length : at), name };
}

/**
 * The catalog without the view `name`.
 *
 * @example
 * ```ts
 * const { catalog } = withoutView(tandem.catalog, 'by_country');
 * ```
 */
export function withoutView(catalog: Catalog, name: string): EditedCatalog {
  if (!catalog.views.has(name)) invalid('view', `There is no view '${name.slice(0, 64)}' to drop; the views are ${[...catalog.views.keys()].join(', ') || 'none'}.`);
  return { catalog: compileConfig({ ...catalog.config, views: catalog.config.views.filter((v) => v.name !== name) }), name };
}

/** Compiles `config` with `views`, naming the edited view's paths `view.…` rather than `views[i].…`. */
function compileEdited(config: TandemConfig, views: readonly ViewJson[], edited: number): Catalog {
  try {
    return compileConfig({ ...config, views });
  } catch (error) {
    if (error instanceof Error && 'path' in error && typeof error.path === 'string') {
      const prefix = `views[${edited}]`;
      if (error.path.startsWith(prefix)) {
        const path = `view${error.path.slice(prefix.length)}`;
        invalid(path, error.message.split(prefix).join('view'));
      }
    }
    throw error;
  }
}

/** A digest of a config's views, order and key order aside: whether a config file's views changed since an engine last saw them. */
export function viewsDigest(views: readonly unknown[]): string {
  const sorted = views.map((v) => canonicalJson(v)).sort();
  return createHash('sha256').update(sorted.join('\n')).digest('hex').slice(0, 16);
}

/** Whether two configs declare the same event types (views aside): a reload may change views only. */
export function sameEventTypes(a: TandemConfig, b: TandemConfig): boolean {
  const key = (c: TandemConfig) => c.eventTypes.map((e) => canonicalJson(e)).sort().join('\n');
  return key(a) === key(b);
}

/**
 * Whether two view definitions are the same, key order aside: what
 * {@link viewsDigest} of each alone says, without compiling either.
 *
 * @example
 * ```ts
 * if (sameDefinition(pending.view, asked.definition)) return pending;
 * ```
 */
export function sameDefinition(a: ViewJson, b: ViewJson): boolean {
  return viewsDigest([a]) === viewsDigest([b]);
}

/**
 * The catalog a reload of `config` asks for, checked whole before any view
 * changes: its event types must be `served`'s (a running engine changes
 * views only), and a config with one bad view changes nothing.
 *
 * @example
 * ```ts
 * reloadedCatalog(tandem.catalog, next);   // throws EventTypesChangedError, or InvalidDefinitionError naming views[i]
 * ```
 */
export function reloadedCatalog(served: Catalog, config: TandemConfig): Catalog {
  if (!sameEventTypes(config, served.config)) throw new EventTypesChangedError();
  return compileConfig({ ...served.config, views: config.views });
}
