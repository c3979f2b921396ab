/**
 * A connection's prepared statements and portals (the extended protocol's
 * named objects), each kind bounded, with PostgreSQL's messages for a
 * missing or duplicate name. The unnamed statement and portal are replaced
 * freely, as in PostgreSQL.
 *
 * @module
 */
import { PgProtocolError, PgUnknownObjectError, PgUnsupportedError } from './pg-errors.ts';
import { splitStatements } from './split-statements.ts';
import type { StatementAnswer } from './statement-answer.ts';

/**
 * A parsed statement: its text and the parameter types the client declared.
 *
 * @example
 * ```ts
 * const prepared: Prepared = { sql: 'SELECT 1', paramOids: [] };
 * ```
 */
export interface Prepared {
  readonly sql: string;
  readonly paramOids: readonly number[];
}

/**
 * A bound statement: its values, its answer once computed, and how many of its rows were sent.
 *
 * @example
 * ```ts
 * const portal: Portal = { prepared, params: ['DE'], resultFormats: [], sent: 0 };
 * ```
 */
export interface Portal {
  readonly prepared: Prepared;
  readonly params: readonly unknown[];
  /** The format of each result column, as the Bind asked (none: all text; one: all alike). */
  readonly resultFormats: readonly number[];
  answer?: Promise<StatementAnswer>;
  sent: number;
}

/** The most prepared statements, and the most portals, a connection may hold: a client that never closes them is bounded. */
const MAX_NAMED = 1000;

const shownName = (kind: string, name: string) => (name === '' ? `unnamed ${kind}` : `${kind} "${name.slice(0, 64)}"`);

/**
 * The prepared statements and portals of one connection.
 *
 * @example
 * ```ts
 * const named = new PreparedStatements();
 * named.parse('s1', 'SELECT sum(orders) FROM all_time WHERE country = $1', []);
 * named.bind('', 's1', ['DE']);
 * named.portal('').params;   // ['DE']
 * ```
 */
export class PreparedStatements {
  readonly #statements = new Map<string, Prepared>();
  readonly #portals = new Map<string, Portal>();

  /** Keeps a statement under `name`; a text of several statements is refused, as PostgreSQL does. */
  parse(name: string, sql: string, paramOids: readonly number[]): void {
    const statements = splitStatements(sql);
    if (statements.length > 1) throw new PgProtocolError('cannot insert multiple commands into a prepared statement');
    if (name !== '' && this.#statements.has(name)) throw new PgUnknownObjectError(`${shownName('prepared statement', name)} already exists`);
    if (!this.#statements.has(name) && this.#statements.size >= MAX_NAMED) throw new PgUnsupportedError(`A connection holds at most ${MAX_NAMED} prepared statements; close some.`);
    this.#statements.set(name, { sql: statements[0]!, paramOids });
  }

  statement(name: string): Prepared {
    const prepared = this.#statements.get(name);
    if (prepared === undefined) throw new PgUnknownObjectError(`${shownName('prepared statement', name)} does not exist`);
    return prepared;
  }

  /** Binds a statement's values into a portal. */
  bind(portal: string, statement: string, params: readonly unknown[], resultFormats: readonly number[] = []): void {
    const prepared = this.statement(statement);
    if (portal !== '' && this.#portals.has(portal)) throw new PgUnknownObjectError(`${shownName('portal', portal)} already exists`);
    if (!this.#portals.has(portal) && this.#portals.size >= MAX_NAMED) throw new PgUnsupportedError(`A connection holds at most ${MAX_NAMED} portals; close some.`);
    this.#portals.set(portal, { prepared, params, resultFormats, sent: 0 });
  }

  portal(name: string): Portal {
    const portal = this.#portals.get(name);
    if (portal === undefined) throw new PgUnknownObjectError(`${shownName('portal', name)} does not exist`);
    return portal;
  }

  close(target: 'S' | 'P', name: string): void {
    if (target === 'S') this.#statements.delete(name);
    else this.#portals.delete(name);
  }

  /** The unnamed portal ends with its Sync or the next simple Query. */
  endUnnamedPortal(): void {
    this.#portals.delete('');
  }

  /** DEALLOCATE of one statement by name, or of ALL (with every portal, as DISCARD ALL does). */
  deallocate(name: string): void {
    if (name.toLowerCase() !== 'all') {
      this.#statements.delete(name.replaceAll('"', ''));
      return;
    }
    this.#statements.clear();
    this.#portals.clear();
  }
}
