/**
 * What the mixed-schedule tests (embedded and cluster) know of the views
 * they change: each definition by the version that answered with it, and
 * the queries that check a view exactly over the range from a time on.
 */
import assert from 'node:assert/strict';
import type { Query, ViewJson } from '../../src/index.ts';
import { refBucket } from './reference.ts';
import { DAY } from './schedule-fixture.ts';

/** What the test knows of each view: its definition per version, as the engine answered with them. */
export class Definitions {
  readonly #byVersion = new Map<string, Map<number, ViewJson>>();
  /** `name@version` of each version seen served: its number is never given to another definition. */
  readonly #served = new Set<string>();

  constructor(initial: readonly ViewJson[]) {
    for (const view of initial) this.record(view, 1);
  }

  record(view: ViewJson, version: number): void {
    const versions = this.#byVersion.get(view.name) ?? new Map<number, ViewJson>();
    // A cancelled version's number may be given again; one that answered names its definition for good.
    const before = versions.get(version);
    assert.ok(before === undefined || before === view || !this.#served.has(`${view.name}@${version}`), `${view.name} version ${version} answered with another definition before`);
    versions.set(version, view);
    this.#byVersion.set(view.name, versions);
  }

  served(name: string, version: number): void {
    this.#served.add(`${name}@${version}`);
  }

  of(name: string, version: number): ViewJson {
    const view = this.#byVersion.get(name)?.get(version);
    assert.ok(view !== undefined, `no definition recorded for ${name} version ${version}`);
    return view;
  }
}

/** The first start of a `granularity` bucket at or after `t`: buckets from there hold no event older than `t`. */
export function bucketAtOrAfter(granularity: string, t: number): number {
  const floor = refBucket(granularity, t);
  return floor === t ? t : refBucket(granularity, floor + (granularity === 'month' ? 32 : granularity === 'week' ? 7 : 1) * DAY);
}

/** The queries that check `view`: grouped by its dimensions, in all, and a top 3, each from `horizon` on (every bucket when undefined). */
export function queriesOf(view: ViewJson, horizon?: number): Query[] {
  const from = horizon === undefined ? {} : { from: new Date(bucketAtOrAfter(view.granularity, horizon)).toISOString() };
  const dims = [...view.dimensions];
  const measure = Object.keys(view.measures)[0]!;
  return [
    { view: view.name, groupBy: dims, ...from },
    { view: view.name, granularity: 'all', ...from },
    { view: view.name, groupBy: dims, granularity: 'all', orderBy: [{ measure, desc: true }], limit: 3, ...from },
  ];
}
