/**
 * Erasure under any schedule (issue #31): ingests (duplicates, late and
 * invalid events included), batch cycles sealed or not, erasures by a field
 * or by idempotency keys, and restarts. After every step each shop query
 * answers as the reference over the accepted events minus the erased ones,
 * and an erased event sent again counts as new (its key is forgotten).
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tandem } from '../../src/index.ts';
import { checkAllQueries } from '../support/check-answers.ts';
import { shopConfig } from '../support/shop-config.ts';
import { AcceptedEvents, shopEvent, type GeneratedEvent } from '../support/shop-events.ts';
import { withTempDir } from '../support/temp-dir.ts';

type Step =
  | { readonly kind: 'ingest'; readonly events: readonly GeneratedEvent[] }
  | { readonly kind: 'batch'; readonly seal: boolean }
  | { readonly kind: 'eraseCountry'; readonly country: string; readonly mobile: boolean | null }
  | { readonly kind: 'eraseIds'; readonly ids: readonly string[] }
  | { readonly kind: 'restart' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.array(shopEvent, { maxLength: 40 }).map((events) => ({ kind: 'ingest' as const, events })) },
  { weight: 2, arbitrary: fc.boolean().map((seal) => ({ kind: 'batch' as const, seal })) },
  {
    weight: 2,
    arbitrary: fc.record({ country: fc.constantFrom('DE', 'FR', 'US', 'BR'), mobile: fc.option(fc.boolean(), { nil: null }) }).map((r) => ({ kind: 'eraseCountry' as const, ...r })),
  },
  { weight: 1, arbitrary: fc.uniqueArray(fc.nat(40).map((k) => `k${k}`), { minLength: 1, maxLength: 5 }).map((ids) => ({ kind: 'eraseIds' as const, ids })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

test('erasure: any schedule of ingests, cycles, erasures and restarts answers as the reference over what was not erased', { timeout: 600_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 12 }), async (steps) => {
      await withTempDir(async (dir) => {
        const open = () => Tandem.open({ dataDir: dir, config: shopConfig, segmentBytes: 2048 });
        let engine = await open();
        const accepted = new AcceptedEvents();
        try {
          for (const s of steps) {
            if (s.kind === 'ingest') {
              await engine.ingestUntyped('order', s.events.map((e) => e.raw));
              accepted.add(s.events);
            } else if (s.kind === 'batch') await engine.runBatch({ seal: s.seal });
            else if (s.kind === 'eraseCountry') {
              const where = { country: s.country, ...(s.mobile === null ? {} : { mobile: s.mobile }) };
              const { events } = await engine.erase({ eventType: 'order', where });
              assert.equal(events, accepted.erase((e) => e.country === s.country && (s.mobile === null || e.mobile === s.mobile)), `erased ${JSON.stringify(where)}`);
            } else if (s.kind === 'eraseIds') {
              const { events } = await engine.erase({ eventType: 'order', where: { id: [...s.ids] } });
              assert.equal(events, accepted.erase((e) => s.ids.includes(e.id)));
            } else {
              await engine.close();
              engine = await open();
            }
            await checkAllQueries(engine, accepted);
          }
        } finally {
          await engine.close();
        }
      });
    }),
    { numRuns: 15 },
  );
});
