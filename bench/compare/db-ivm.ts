/**
 * The in-process speed-layer peer: @tanstack/db-ivm (differential dataflow in
 * TypeScript) maintaining the same per-customer-hour aggregate incrementally.
 * In memory only.
 */
import { D2, groupBy, groupByOperators, MultiSet, output, type RootStreamBuilder } from '@tanstack/db-ivm';

const { count, sum } = groupByOperators;
import type { ComparedSystem } from './system.ts';
import { DAY, HOUR, type PointAnswer, type TopRow, type UsageEvent } from './workload.ts';

interface Row {
  customer: string;
  hour: number;
  n: number;
  units: number;
  cost: number;
}

export class DbIvm implements ComparedSystem {
  readonly name = '@tanstack/db-ivm (in process)';
  readonly durability = 'none (in memory)';
  #graph: D2 | undefined;
  #input: RootStreamBuilder<UsageEvent> | undefined;
  /** The view's current rows, by "customer|hour", kept from the dataflow's output changes. */
  readonly #rows = new Map<string, Row>();

  async open(): Promise<void> {
    this.#rows.clear();
    const graph = new D2();
    const input = graph.newInput<UsageEvent>();
    input.pipe(
      groupBy((e: UsageEvent) => ({ customer: e.customer, hour: Math.floor(e.at / HOUR) * HOUR }), {
        n: count(),
        units: sum((e: UsageEvent) => e.units),
        cost: sum((e: UsageEvent) => Math.round(e.cost * 100)),
      }),
      output((changes) => this.#apply(changes as MultiSet<[string, Row]>)),
    );
    graph.finalize();
    this.#graph = graph;
    this.#input = input;
  }

  #apply(changes: MultiSet<[string, Row]>): void {
    const inner = changes.getInner();
    // Retractions first, so a key's old row never overwrites its new one.
    for (const [[, row], multiplicity] of inner) if (multiplicity < 0) this.#rows.delete(`${row.customer}|${row.hour}`);
    for (const [[, row], multiplicity] of inner) if (multiplicity > 0) this.#rows.set(`${row.customer}|${row.hour}`, row);
  }

  async ingest(events: readonly UsageEvent[]): Promise<void> {
    this.#input!.sendData(new MultiSet(events.map((e): [UsageEvent, number] => [e, 1])));
    this.#graph!.run();
  }

  async point(customer: string, dayStart: number): Promise<PointAnswer> {
    const answer = { n: 0, units: 0, costCents: 0 };
    for (let hour = dayStart; hour < dayStart + DAY; hour += HOUR) {
      const row = this.#rows.get(`${customer}|${hour}`);
      if (row === undefined) continue;
      answer.n += row.n;
      answer.units += row.units;
      answer.costCents += row.cost;
    }
    return answer;
  }

  async top10(): Promise<TopRow[]> {
    const totals = new Map<string, number>();
    for (const row of this.#rows.values()) totals.set(row.customer, (totals.get(row.customer) ?? 0) + row.units);
    return [...totals].map(([customer, units]) => ({ customer, units }))
      .sort((a, b) => b.units - a.units || (a.customer < b.customer ? -1 : 1)).slice(0, 10);
  }

  async close(): Promise<void> {
    this.#rows.clear();
    this.#graph = undefined;
  }
}
