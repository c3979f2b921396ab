/** The answers computed straight from the generated events: every system, Tandem included, must match them. */
import { DAY, type PointAnswer, type TopRow, type UsageEvent } from './workload.ts';

export class ReferenceAnswers {
  readonly #points = new Map<string, { n: number; units: number; costCents: number }>();
  readonly #units = new Map<string, number>();

  add(events: readonly UsageEvent[]): void {
    for (const e of events) {
      const key = `${e.customer}|${Math.floor(e.at / DAY) * DAY}`;
      const point = this.#points.get(key) ?? { n: 0, units: 0, costCents: 0 };
      point.n += 1;
      point.units += e.units;
      point.costCents += Math.round(e.cost * 100);
      this.#points.set(key, point);
      this.#units.set(e.customer, (this.#units.get(e.customer) ?? 0) + e.units);
    }
  }

  point(customer: string, dayStart: number): PointAnswer {
    return this.#points.get(`${customer}|${dayStart}`) ?? { n: 0, units: 0, costCents: 0 };
  }

  top10(): TopRow[] {
    return [...this.#units].map(([customer, units]) => ({ customer, units }))
      .sort((a, b) => b.units - a.units || (a.customer < b.customer ? -1 : 1)).slice(0, 10);
  }
}
