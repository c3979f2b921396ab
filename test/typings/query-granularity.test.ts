/**
 * The query granularities the types allow for each view granularity
 * (`QueryGranularityFor`) are exactly those the engine takes (`rollsUpInto`):
 * the table below is checked against the type when type-checked, and
 * against the engine when run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRANULARITIES, rollsUpInto, type Granularity, type QueryGranularity } from '../../src/definitions/index.ts';
import type { QueryGranularityFor } from '../../src/serving/query.ts';
import { assertType, type Equal } from './type-assert.ts';

const ALLOWED = {
  minute: ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year', 'all'],
  hour: ['hour', 'day', 'week', 'month', 'quarter', 'year', 'all'],
  day: ['day', 'week', 'month', 'quarter', 'year', 'all'],
  week: ['week', 'all'],
  month: ['month', 'quarter', 'year', 'all'],
  quarter: ['quarter', 'year', 'all'],
  year: ['year', 'all'],
  none: ['all'],
} as const satisfies { readonly [G in Granularity]: readonly QueryGranularityFor<G>[] };

assertType<Equal<{ [G in Granularity]: (typeof ALLOWED)[G][number] }, { [G in Granularity]: QueryGranularityFor<G> }>>();

test('typings - QueryGranularityFor allows exactly the granularities rollsUpInto takes', () => {
  const queryGranularities: readonly QueryGranularity[] = [...GRANULARITIES.filter((g) => g !== 'none'), 'all'];
  for (const view of GRANULARITIES) {
    assert.deepEqual([...ALLOWED[view]], queryGranularities.filter((q) => rollsUpInto(view, q)), view);
  }
});
