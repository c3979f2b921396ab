/**
 * The small catalog kept in step with the engine's views: views change
 * while the engine serves (issue #31), and a BI tool that lists tables after
 * a change must see it. A statement asks for the catalog of the moment;
 * when the engine's catalog is another object than the one the small catalog
 * was built from, a new one is built (a few milliseconds: one DuckDB
 * instance of tiny tables). The ones it replaces stay open until close, as
 * a statement may still run on them.
 *
 * @module
 */
import type { Catalog } from '../definitions/index.ts';
import { PgCatalog } from './pg-catalog.ts';

export class LiveCatalog {
  readonly #engine: { readonly catalog: Catalog };
  #builtFrom: Catalog;
  #current: Promise<PgCatalog>;
  readonly #retired: Promise<PgCatalog>[] = [];

  private constructor(engine: { readonly catalog: Catalog }, first: PgCatalog) {
    this.#engine = engine;
    this.#builtFrom = engine.catalog;
    this.#current = Promise.resolve(first);
  }

  /**
   * Builds the small catalog of `engine`'s views now, so that one that
   * cannot be built fails the start.
   *
   * @example
   * ```ts
   * const catalogs = await LiveCatalog.open(tandem);
   * const catalog = await catalogs.current();
   * ```
   */
  static async open(engine: { readonly catalog: Catalog }): Promise<LiveCatalog> {
    return new LiveCatalog(engine, await PgCatalog.open(engine.catalog));
  }

  /** The small catalog of the engine's views as they are now. */
  current(): Promise<PgCatalog> {
    const now = this.#engine.catalog;
    if (now !== this.#builtFrom) {
      this.#retired.push(this.#current);
      this.#builtFrom = now;
      this.#current = PgCatalog.open(now);
    }
    return this.#current;
  }

  async close(): Promise<void> {
    const all = await Promise.allSettled([...this.#retired, this.#current]);
    await Promise.all(all.flatMap((r) => (r.status === 'fulfilled' ? [r.value.close()] : [])));
  }
}
