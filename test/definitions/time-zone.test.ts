/**
 * A time zone's offsets, read per year from Intl's `longOffset` and kept,
 * against the local wall clock Intl's date parts give at each instant; the
 * first instant of a local wall-clock time; and which view buckets fit a
 * zone's local periods.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitsLocalPeriods, localPeriodStart, TimeZone, viewThatFits } from '../../src/definitions/index.ts';

const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Australia/Eucla', 'America/Sao_Paulo', 'Pacific/Apia', 'America/Havana', 'UTC'];

const formats = new Map<string, Intl.DateTimeFormat>();
/** The local wall clock at `t`, as epoch ms of that wall time read as UTC, from Intl's date parts (to the second). */
function wallAt(zone: string, t: number): number {
  let format = formats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', era: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formats.set(zone, format);
  }
  const p = Object.fromEntries(format.formatToParts(t).map((x) => [x.type, x.value]));
  const d = new Date(0);
  d.setUTCFullYear(Number(p.year), Number(p.month) - 1, Number(p.day));
  return d.setUTCHours(Number(p.hour), Number(p.minute), Number(p.second), new Date(t).getUTCMilliseconds());
}

const instant = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) });

test('time zone - the offset at any instant is the local wall clock Intl gives minus the instant', () => {
  fc.assert(fc.property(fc.constantFrom(...ZONES), instant, (name, t) => {
    assert.equal(TimeZone.named(name)!.offsetAt(t), wallAt(name, t) - t);
  }), { seed: 20261204, numRuns: 2000 });
});

test('time zone - firstInstantAt is the earliest instant whose local wall clock reads that time or later', () => {
  fc.assert(fc.property(fc.constantFrom(...ZONES), instant, (name, t) => {
    const zone = TimeZone.named(name)!;
    // Whole minutes, as local period starts are.
    const wall = Math.floor(wallAt(name, t) / 60_000) * 60_000;
    const first = zone.firstInstantAt(wall);
    assert.ok(wallAt(name, first) >= wall, 'reads the time or later');
    assert.ok(wallAt(name, first - 1) < wall, 'a millisecond earlier it read an earlier time');
  }), { seed: 20261204, numRuns: 1000 });
});

test('time zone - iso prints local time with its offset, which parses back to the instant', () => {
  const berlin = TimeZone.named('Europe/Berlin')!;
  assert.equal(berlin.iso(Date.parse('2026-03-28T23:00:00Z')), '2026-03-29T00:00:00.000+01:00');
  assert.equal(berlin.iso(Date.parse('2026-03-29T22:00:00Z')), '2026-03-30T00:00:00.000+02:00');
  assert.equal(TimeZone.named('America/New_York')!.iso(Date.parse('2026-01-01T05:00:00Z')), '2026-01-01T00:00:00.000-05:00');
  assert.equal(TimeZone.UTC.iso(0), '1970-01-01T00:00:00.000Z');
  fc.assert(fc.property(fc.constantFrom(...ZONES), instant, (name, t) => {
    const text = TimeZone.named(name)!.iso(t);
    assert.equal(Date.parse(text), t, text);
  }), { seed: 20261204, numRuns: 1000 });
});

test('time zone - names: IANA names in any case, Kolkata under its own name; offsets and unknown names are none', () => {
  assert.equal(TimeZone.named('europe/berlin')?.name, 'Europe/Berlin');
  assert.equal(TimeZone.named('Asia/Kolkata')?.name, 'Asia/Kolkata');
  assert.equal(TimeZone.named('UTC'), TimeZone.UTC);
  assert.equal(TimeZone.named('utc'), TimeZone.UTC);
  assert.equal(TimeZone.named('EUROPE/BERLIN'), TimeZone.named('Europe/Berlin'), 'one zone, kept once, however its name is cased');
  assert.equal(TimeZone.named('America/Argentina/Buenos_Aires')?.name, 'America/Argentina/Buenos_Aires');
  assert.equal(TimeZone.named('Etc/GMT+5')?.offsetAt(0), -5 * 3_600_000);
  for (const name of ['+01:00', 'Mars/Olympus_Mons', '', 'GMT+25', 'Europe/Berlin\u0000', `Europe/${'x'.repeat(64)}`]) assert.equal(TimeZone.named(name), undefined, name);
});

test('time zone - local days around DST changes: 23 and 25 hours in Berlin, a day without midnight in Havana', () => {
  const berlin = TimeZone.named('Europe/Berlin')!;
  const day = (zone: TimeZone, at: string) => localPeriodStart(zone, 'day', Date.parse(at));
  assert.equal(day(berlin, '2026-03-29T21:59:59.999Z') - day(berlin, '2026-03-28T23:00:00Z'), 0);
  assert.equal(day(berlin, '2026-03-29T22:00:00Z') - day(berlin, '2026-03-29T12:00:00Z'), 23 * 3_600_000);
  assert.equal(day(berlin, '2026-10-25T23:00:00Z') - day(berlin, '2026-10-25T12:00:00Z'), 25 * 3_600_000);
  // Cuba springs forward at midnight: 8 March 2026 starts at 01:00 local, the instant of the change.
  const havana = TimeZone.named('America/Havana')!;
  assert.equal(havana.iso(day(havana, '2026-03-08T12:00:00Z')), '2026-03-08T01:00:00.000-04:00');
  assert.equal(berlin.iso(localPeriodStart(berlin, 'quarter', Date.parse('2026-05-10T00:00:00Z'))), '2026-04-01T00:00:00.000+02:00');
  assert.equal(berlin.iso(localPeriodStart(berlin, 'year', Date.parse('2025-12-31T23:30:00Z'))), '2026-01-01T00:00:00.000+01:00');
});

test('time zone - hour buckets fit whole-hour zones, minute buckets the half- and quarter-hour ones; day buckets only UTC', () => {
  const year = [Date.parse('2026-01-01T00:00:00Z'), Date.parse('2027-01-01T00:00:00Z')] as const;
  const fits = (name: string, view: 'minute' | 'hour' | 'day', from = year[0], to = year[1]) => fitsLocalPeriods(TimeZone.named(name)!, view, from, to);
  assert.ok(fits('Europe/Berlin', 'hour') && fits('America/New_York', 'hour') && fits('UTC', 'day'));
  assert.ok(!fits('Asia/Kolkata', 'hour') && fits('Asia/Kolkata', 'minute') && fits('Australia/Eucla', 'minute') && !fits('Australia/Eucla', 'hour'));
  assert.ok(!fits('Australia/Lord_Howe', 'hour') && fits('Australia/Lord_Howe', 'minute'));
  assert.ok(fits('Australia/Lord_Howe', 'hour', Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-03-01T00:00:00Z')), 'in its summer Lord Howe is +11');
  assert.ok(!fits('Europe/Berlin', 'day') && !fits('Europe/London', 'day'));
  assert.equal(viewThatFits(TimeZone.named('Europe/Berlin')!, ...year), 'hour');
  assert.equal(viewThatFits(TimeZone.named('Australia/Lord_Howe')!, ...year), 'minute');
  // Local mean time in Kolkata until 1906 was +5:21:10: no view's buckets fit it.
  assert.equal(viewThatFits(TimeZone.named('Asia/Kolkata')!, Date.parse('1900-01-01T00:00:00Z'), Date.parse('1901-01-01T00:00:00Z')), undefined);
});
