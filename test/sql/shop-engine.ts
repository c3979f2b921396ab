/**
 * An engine over the test shop with events in both layers: some absorbed by
 * a batch run, the rest only in the speed layer, for the SQL suites.
 */
import fc from 'fast-check';
import { Tandem } from '../../src/index.ts';
import { shopConfig } from '../support/shop-config.ts';
import { shopEvent } from '../support/shop-events.ts';
import { makeTempDir } from '../support/temp-dir.ts';

export interface ShopEngine {
  readonly tandem: Tandem<typeof shopConfig>;
  close(): Promise<void>;
}

/** Valid shop events, the same for a seed, each with an id of its own (the generator's ids repeat, to test idempotency). */
export function shopEvents(count: number, seed: number): Record<string, unknown>[] {
  return fc.sample(shopEvent, { numRuns: count * 2, seed }).filter((e) => e.valid).slice(0, count).map((e, i) => ({ ...e.raw, id: `e${i}` }));
}

/** `batched` events in the batch layer, then `recent` more in the speed layer alone. */
export async function openShopEngine(batched = 300, recent = 150, seed = 30): Promise<ShopEngine> {
  const temp = await makeTempDir('tandem-sql-');
  const tandem = await Tandem.open({ dataDir: temp.dir, config: shopConfig });
  const events = shopEvents(batched + recent, seed);
  await tandem.ingestUntyped('order', events.slice(0, batched));
  await tandem.runBatch();
  await tandem.ingestUntyped('order', events.slice(batched));
  return {
    tandem,
    async close() {
      await tandem.close();
      await temp.remove();
    },
  };
}
