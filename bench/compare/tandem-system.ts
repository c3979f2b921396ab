import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tandem } from '../../src/index.ts';
import type { ComparedSystem } from './system.ts';
import { config, DAY, type PointAnswer, type TopRow, type UsageEvent } from './workload.ts';

/** Tandem embedded: durable log, speed layer; queries merge a batch run over most of the data with the speed layer. */
export class TandemSystem implements ComparedSystem {
  readonly name = 'Tandem (embedded)';
  readonly durability = 'fsync before ack';
  #dir = '';
  #engine: Tandem | undefined;

  get engine(): Tandem {
    return this.#engine!;
  }

  async open(): Promise<void> {
    this.#dir = await mkdtemp(join(tmpdir(), 'tandem-compare-'));
    this.#engine = await Tandem.open({ dataDir: this.#dir, config });
  }

  async ingest(events: readonly UsageEvent[]): Promise<void> {
    const result = await this.engine.ingest('usage', events);
    if (result.rejected.length > 0) throw new Error(`Tandem rejected ${result.rejected.length} events: ${result.rejected[0]!.error}`);
  }

  async point(customer: string, dayStart: number): Promise<PointAnswer> {
    const { rows } = await this.engine.query({ view: 'by_customer_hour', from: dayStart, to: dayStart + DAY, where: { customer }, granularity: 'all' });
    const row = rows[0];
    return { n: Number(row?.n ?? 0), units: Number(row?.units ?? 0), costCents: Math.round(Number(row?.cost ?? 0) * 100) };
  }

  async top10(): Promise<TopRow[]> {
    const { rows } = await this.engine.query({
      view: 'by_customer_hour', groupBy: ['customer'], granularity: 'all', orderBy: [{ measure: 'units', desc: true }], limit: 10,
    });
    return rows.map((r) => ({ customer: String(r.customer), units: Number(r.units) }));
  }

  async close(): Promise<void> {
    await this.#engine?.close();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
