import fc from 'fast-check';
import type { RefEvent } from './reference.ts';

const BASE = Date.UTC(2024, 2, 1);
const SPAN = 120 * 86_400_000;

/** An event as generated: its reference form, how it is sent, and whether it is valid. */
export interface GeneratedEvent {
  readonly ref: RefEvent;
  readonly raw: Record<string, unknown>;
  readonly valid: boolean;
}

const BREAKAGES: ((raw: Record<string, unknown>) => void)[] = [
  (raw) => (raw.amount = 'ten'),
  (raw) => delete raw.country,
  (raw) => (raw.at = '2024-02-30T00:00:00Z'),
  (raw) => (raw.amount = 1.005),
  (raw) => (raw.extra = 1),
  (raw) => (raw.qty = Number.NaN),
];

export const shopEvent: fc.Arbitrary<GeneratedEvent> = fc
  .record({
    key: fc.nat(40),
    at: fc.integer({ min: 0, max: SPAN }),
    iso: fc.boolean(),
    country: fc.constantFrom('DE', 'FR', 'US', 'BR'),
    device: fc.option(fc.constantFrom('ios', 'android', 'web'), { nil: null }),
    mobile: fc.boolean(),
    cents: fc.integer({ min: -500, max: 100_000 }),
    qty: fc.integer({ min: 0, max: 20 }),
    breakage: fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat(BREAKAGES.length - 1) }),
  })
  .map((e) => {
    const at = BASE + e.at;
    const ref: RefEvent = { id: `k${e.key}`, at, country: e.country, device: e.device, mobile: e.mobile, cents: e.cents, qty: e.qty };
    const raw: Record<string, unknown> = {
      id: ref.id, at: e.iso ? new Date(at).toISOString() : at, country: e.country, mobile: e.mobile, amount: e.cents / 100, qty: e.qty,
    };
    if (e.device !== null) raw.device = e.device;
    if (e.breakage !== undefined) BREAKAGES[e.breakage]!(raw);
    return { ref, raw, valid: e.breakage === undefined };
  });

/** The reference's view of accepted events: valid ones, first occurrence of each idempotency key. */
export class AcceptedEvents {
  readonly events: RefEvent[] = [];
  readonly #ids = new Set<string>();

  add(batch: readonly GeneratedEvent[]): void {
    for (const e of batch) {
      if (!e.valid || this.#ids.has(e.ref.id)) continue;
      this.#ids.add(e.ref.id);
      this.events.push(e.ref);
    }
  }

  /** Takes out the events `match` picks, and forgets their keys: an erased event sent again is new. */
  erase(match: (e: RefEvent) => boolean): number {
    const erased = this.events.filter(match);
    for (const e of erased) this.#ids.delete(e.id);
    this.events.splice(0, this.events.length, ...this.events.filter((e) => !match(e)));
    return erased.length;
  }
}
