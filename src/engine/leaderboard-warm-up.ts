/**
 * Leaderboards warmed up before the first one is asked. A leaderboard runs a
 * handful of loops over thousands of groups, each once per query, and V8
 * optimizes them only after it has seen them run: the first dozen
 * leaderboards of a process ran interpreted or half optimized, at up to 30
 * times the time of the twentieth (docs/benchmarks.md). So the first batch
 * version a process serves is read as leaderboards a few times, through the
 * code a query runs, before the cycle that publishes it resolves.
 *
 * @module
 */
import type { Catalog } from '../definitions/index.ts';
import { planQuery, type QueryPlan } from '../serving/index.ts';

/** Rounds over every view: enough for V8 to optimize the loops of a 10,000-group leaderboard (`bench/first-queries.ts`). */
const ROUNDS = 20;

/** The most a warm-up spends in all, so that a process with many large views does not hold its first cycle long. */
export const WARM_UP_BUDGET_MS = 300;

/** Whether this process has warmed up: optimized code is the process's, whatever engine runs it. */
let warmed = false;

/**
 * The top 10 of a view by its first measure, over all time, grouped by
 * every dimension: the leaderboard most asked, whose loops every other
 * leaderboard shares. Planned anew each time, as a query is.
 */
function leaderboard(catalog: Catalog, view: string): QueryPlan {
  const schema = catalog.views.get(view)!;
  const measure = schema.measures[0]!.name;
  return planQuery(catalog, { view, groupBy: schema.dimensions.map((d) => d.name), granularity: 'all', orderBy: [{ measure, desc: true }], limit: 10 });
}

/**
 * Answers the leaderboard of each of `views` with `answer` {@link ROUNDS}
 * times, once per process, a round per turn of the event loop, within
 * {@link WARM_UP_BUDGET_MS}. A failure loses only the warm-up.
 *
 * @example
 * ```ts
 * await warmUpLeaderboards(catalog, ['by_customer_hour'], (plan) => executeQuery(plan, batch.spans(...), new QueryBudget()));
 * ```
 */
export async function warmUpLeaderboards(catalog: Catalog, views: readonly string[], answer: (plan: QueryPlan) => void): Promise<void> {
  if (warmed || views.length === 0) return;
  warmed = true;
  const until = performance.now() + WARM_UP_BUDGET_MS;
  try {
    for (let round = 0; round < ROUNDS && performance.now() < until; round++) {
      for (const view of views) answer(leaderboard(catalog, view));
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch {
    // Only speed is lost: the queries optimize themselves as they come.
  }
}
