/**
 * The demo's history grows to the live rate, so that the first chart is one
 * curve from the batch layer's history into the speed layer's live traffic;
 * and its orders carry US dollars beside the local currency, so that
 * revenue summed over countries means something.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoConfig, ShopGenerator } from '../../src/demo/index.ts';
import { compileConfig, createEventValidator } from '../../src/definitions/index.ts';

const allEvents = (events: Record<string, Record<string, unknown>[]>) => Object.values(events).flat();

test('demo history: the rate grows exponentially and meets the live rate at the end', () => {
  const to = Date.UTC(2026, 10, 29, 12);
  const rate = 10;
  const count = 50_000;
  const tau = (count / rate) * 1000;
  const times = allEvents(new ShopGenerator({ seed: 3, lateShare: 0, duplicateShare: 0 }).growingHistory(count, to, rate)).map((e) => Date.parse(String(e.at)));
  assert.equal(times.length, count);
  assert.ok(times.every((t) => t <= to), 'nothing after the end');
  // Expected in the last w: rate·τ·(1 − e^(−w/τ)); the sampling error of 50,000 draws is well under 3%.
  for (const windowMs of [600_000, 3_600_000, 4 * 3_600_000]) {
    const expected = count * (1 - Math.exp(-windowMs / tau));
    const actual = times.filter((t) => t >= to - windowMs).length;
    assert.ok(Math.abs(actual - expected) / expected < 0.03, `last ${windowMs / 60_000} min: ${actual} events, expected ${Math.round(expected)}`);
  }
  // The rate at the end is the live rate: events per second over the last minute.
  const lastMinute = times.filter((t) => t >= to - 60_000).length / 60;
  assert.ok(Math.abs(lastMinute - rate) / rate < 0.2, `${lastMinute.toFixed(1)} events/s at the end`);
});

test('demo orders: every event is valid for the demo config, and amountUsd is the local amount at the currency rate', () => {
  const catalog = compileConfig(demoConfig);
  const events = new ShopGenerator({ seed: 5 }).live(20_000, Date.UTC(2026, 10, 29));
  for (const [type, list] of Object.entries(events)) {
    const validate = createEventValidator(catalog.eventTypes.get(type)!);
    for (const event of list) validate(event);
  }
  const rates = new Map<string, number>();
  for (const order of events.order) {
    const rate = Number(order.amount) / Number(order.amountUsd);
    const known = rates.get(String(order.currency)) ?? rate;
    assert.ok(Math.abs(rate - known) / known < 0.02, `${String(order.currency)}: ${rate} against ${known}`);
    rates.set(String(order.currency), known);
  }
  assert.equal(rates.get('USD'), 1);
  assert.ok(rates.get('JPY')! > 100, 'yen are not dollars');
});
