/**
 * The quick-start demo: opens an engine in ./data/quickstart, ingests a few
 * thousand shop orders (late and duplicate ones included), queries while the
 * speed layer holds everything, runs a batch, and queries again: the answer
 * is the same, now served mostly from the batch view.
 */
import { rm } from 'node:fs/promises';
import { Tandem } from '../src/index.ts';
import config from './shop.config.ts';

const dataDir = 'data/quickstart';
await rm(dataDir, { recursive: true, force: true });
const tandem = await Tandem.open({ dataDir, config });

const countries = ['DE', 'FR', 'US', 'BR', 'JP'];
const now = Date.now();
for (let batch = 0; batch < 5; batch++) {
  const events = Array.from({ length: 1000 }, (_, i) => {
    const n = batch * 1000 + i;
    const late = n % 20 === 0; // one in twenty arrives three weeks late
    return {
      orderId: `o${n % 4900}`, // the last hundred are retried duplicates
      at: new Date(now - (late ? 21 * 86_400_000 : (n % 48) * 3_600_000)).toISOString(),
      country: countries[n % countries.length],
      currency: n % 3 === 0 ? 'USD' : 'EUR',
      amount: ((n * 37) % 20_000) / 100,
    };
  });
  const result = await tandem.ingest('order', events);
  console.log(`ingest #${batch + 1}: accepted ${result.accepted}, duplicates ${result.duplicates}, rejected ${result.rejected.length}, offsets ${result.firstOffset}..${result.lastOffset}`);
}

const query = { view: 'revenue_by_country', groupBy: ['country'], granularity: 'all', orderBy: [{ measure: 'revenue', desc: true }] } as const;
const before = await tandem.query(query);
console.log('\nbefore the batch (speed layer only):', before.meta);
console.table(before.rows);

const batch = await tandem.runBatch();
console.log(`\nbatch v${batch.version}: ${batch.events} events below cutoff ${batch.cutoff} in ${Math.round(batch.durationMs)} ms`);

const after = await tandem.query(query);
console.log('after the batch (batch view + speed layer):', after.meta);
console.table(after.rows);
console.log(JSON.stringify(after.rows) === JSON.stringify(before.rows) ? '\nSame answer from both paths, exactly.' : '\nANSWERS DIFFER');
await tandem.close();
console.log(`\nThe master dataset is Parquet: try  duckdb -c "SELECT * FROM '${dataDir}/master/order/*.parquet' LIMIT 5"`);
