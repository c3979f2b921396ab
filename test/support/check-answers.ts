import assert from 'node:assert/strict';
import type { Tandem, ViewJson } from '../../src/index.ts';
import type { ClusterNode } from '../../src/backends/nats/internal.ts';
import { canonicalRows, referenceQuery, type RefEvent } from './reference.ts';
import { views } from './shop-config.ts';
import type { AcceptedEvents } from './shop-events.ts';
import { shopQueries } from './shop-queries.ts';

/** Every shop query's merged answer equals the reference recomputation over the accepted events. */
export async function checkAllQueries(engine: Tandem, accepted: AcceptedEvents): Promise<void> {
  for (const query of shopQueries()) {
    const view = views.find((v) => v.name === query.view)!;
    const { rows } = await engine.query(query);
    const expected = referenceQuery(view, accepted.events, query);
    if (query.limit !== undefined) assert.deepEqual(rows, expected, JSON.stringify(query));
    else assert.deepEqual(canonicalRows(rows), canonicalRows(expected), JSON.stringify(query));
  }
}

/**
 * Every shop query on every node of a cluster, read at `after`, answers as
 * the reference recomputation over `events` does; `bounded` guards each
 * query against a hang (it names the nodes' state when one happens).
 */
export async function checkNodesAnswer(
  nodes: readonly ClusterNode[], events: readonly RefEvent[], after: readonly number[], when: string,
  bounded: <T>(work: Promise<T>, what: string, nodes: readonly ClusterNode[]) => Promise<T>,
): Promise<void> {
  for (const node of nodes) {
    for (const query of shopQueries()) {
      const { rows, meta } = await bounded(node.query({ ...query, after }), `a query of ${node.name}`, nodes);
      const expected = referenceQuery(views.find((v) => v.name === query.view)!, events, query);
      const same = query.limit !== undefined ? JSON.stringify(rows) === JSON.stringify(expected) : JSON.stringify(canonicalRows(rows)) === JSON.stringify(canonicalRows(expected));
      assert.ok(same, `${when}: ${node.name} answered ${JSON.stringify(query)} with ${summary(rows)} ${JSON.stringify(rows).slice(0, 400)}, expected ${summary(expected)} ${JSON.stringify(expected).slice(0, 400)}; meta ${JSON.stringify(meta).slice(0, 600)}`);
      assert.equal(meta.missingPartitions, undefined);
    }
  }
}

/** A failed answer's size at a glance: its rows, and the orders they count where the view counts them. */
function summary(rows: readonly Record<string, unknown>[]): string {
  const orders = rows.reduce((n, r) => n + (typeof r.orders === 'number' ? r.orders : 0), 0);
  return `(${rows.length} rows, ${orders} orders)`;
}

/** `view`'s answers on `node` read at `after` (grouped by its dimensions, and in all) equal the reference over `events`. */
export async function checkViewAnswers(node: ClusterNode, view: ViewJson, events: readonly RefEvent[], after: readonly number[], when: string): Promise<void> {
  for (const query of [{ view: view.name, groupBy: [...view.dimensions] }, { view: view.name, granularity: 'all' as const }]) {
    const { rows, meta } = await node.query({ ...query, after });
    assert.deepEqual(canonicalRows(rows), canonicalRows(referenceQuery(view, events, query)), `${when}: ${node.name} answered ${JSON.stringify(query)} (view version ${meta.viewVersion})`);
  }
}
