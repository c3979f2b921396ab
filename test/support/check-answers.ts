import assert from 'node:assert/strict';
import type { Tandem } from '../../src/index.ts';
import { canonicalRows, referenceQuery } from './reference.ts';
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
