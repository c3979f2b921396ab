import type { Query } from '../../src/index.ts';
import { views } from './shop-config.ts';

/** Queries that exercise grouping, rollup, where, time ranges, ordering and limits on every view. */
export function shopQueries(): Query[] {
  const queries: Query[] = [];
  for (const view of views) {
    const dims = [...view.dimensions];
    const timed = view.granularity !== 'none';
    queries.push({ view: view.name, groupBy: dims });
    queries.push({ view: view.name, granularity: 'all' });
    if (timed) {
      queries.push({ view: view.name, groupBy: dims, granularity: view.granularity === 'week' ? 'week' : 'month', from: '2024-03-10T00:00:00Z', to: '2024-05-20T00:00:00Z' });
    }
    if (dims.includes('country')) {
      queries.push({ view: view.name, where: { country: ['DE', 'US'] }, groupBy: ['country'], granularity: 'all' });
    }
    const measure = Object.keys(view.measures)[0]!;
    queries.push({ view: view.name, groupBy: dims, granularity: 'all', orderBy: [{ measure, desc: true }], limit: 3 });
  }
  queries.push({ view: 'by_country_hour', where: { country: 'FR' }, groupBy: ['country'], from: '2024-04-01T00:00:00Z', to: '2024-04-03T00:00:00Z' });
  return queries;
}
