/**
 * ISO-8601 timestamps: every string the parser accepts means the instant an
 * independent computation gives, UTC offsets outside RFC 3339's ranges
 * (hours 00–23, minutes 00–59) are refused, and years are read as written:
 * `Date.UTC` reads 0–99 as 1900–1999, so 0099 must not become 1999.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig, createEventValidator, defineConfig, defineEventType, InvalidEventError, MAX_TIME, MIN_TIME, parseIsoTime } from '../../src/definitions/index.ts';
import { utcMillis } from '../../src/definitions/normalize-value.ts';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * The reference: a Date whose year is set with setUTCFullYear (which takes
 * every year as written), valid only if the parts come back unchanged.
 */
function reference(parts: { year: number; month: number; day: number; hour: number; minute: number; second: number; millis: number }): number {
  const d = new Date(0);
  d.setUTCFullYear(parts.year, parts.month - 1, parts.day);
  d.setUTCHours(parts.hour, parts.minute, parts.second, parts.millis);
  const same = d.getUTCFullYear() === parts.year && d.getUTCMonth() === parts.month - 1 && d.getUTCDate() === parts.day &&
    d.getUTCHours() === parts.hour && d.getUTCMinutes() === parts.minute && d.getUTCSeconds() === parts.second;
  return same ? d.getTime() : NaN;
}

/** Parts near and past every limit: month 0 and 13, day 0 and 32, hour 24, minute and second 60. */
const parts = fc.record({
  year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1, 99, 100, 1899, 1900, 1969, 1970, 2000, 2024, 2100, 9999)),
  month: fc.integer({ min: 0, max: 13 }),
  day: fc.oneof(fc.integer({ min: 0, max: 32 }), fc.constantFrom(28, 29, 30, 31)),
  hour: fc.integer({ min: 0, max: 25 }),
  minute: fc.integer({ min: 0, max: 61 }),
  second: fc.integer({ min: 0, max: 61 }),
  fraction: fc.option(fc.stringMatching(/^\d{1,9}$/), { nil: undefined }),
  form: fc.constantFrom('date', 'minutes', 'seconds'),
  separator: fc.constantFrom('T', 't', ' '),
  offset: fc.oneof(
    fc.constant(undefined),
    fc.constantFrom('Z', 'z'),
    fc.record({ sign: fc.constantFrom('+', '-'), hours: fc.integer({ min: 0, max: 99 }), minutes: fc.integer({ min: 0, max: 99 }), colon: fc.boolean() }),
  ),
});

type Parts = typeof parts extends fc.Arbitrary<infer T> ? T : never;

function render(p: Parts): string {
  let text = `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
  if (p.form === 'date') return text;
  text += `${p.separator}${pad(p.hour)}:${pad(p.minute)}`;
  if (p.form === 'seconds') text += `:${pad(p.second)}${p.fraction === undefined ? '' : `.${p.fraction}`}`;
  if (typeof p.offset === 'string') return text + p.offset;
  if (p.offset !== undefined) text += `${p.offset.sign}${pad(p.offset.hours)}${p.offset.colon ? ':' : ''}${pad(p.offset.minutes)}`;
  return text;
}

function expected(p: Parts): number {
  const timed = p.form !== 'date';
  const seconds = p.form === 'seconds';
  const millis = seconds && p.fraction !== undefined ? Number(p.fraction.padEnd(3, '0').slice(0, 3)) : 0;
  const local = reference({
    year: p.year, month: p.month, day: p.day, hour: timed ? p.hour : 0, minute: timed ? p.minute : 0, second: seconds ? p.second : 0, millis,
  });
  if (!timed || p.offset === undefined || typeof p.offset === 'string') return local;
  if (p.offset.hours > 23 || p.offset.minutes > 59) return NaN;
  return local - (p.offset.sign === '-' ? -1 : 1) * (p.offset.hours * 60 + p.offset.minutes) * 60_000;
}

test('iso time: every accepted string is the instant the reference computes, and every other string is refused', () => {
  fc.assert(fc.property(parts, (p) => {
    const text = render(p);
    assert.equal(parseIsoTime(text), expected(p), text);
  }), { seed: 20261129, numRuns: 20_000 });
});

test('iso time: UTC offsets with hours past 23 or minutes past 59 are refused, with or without the colon; valid ones shift exactly', () => {
  const offset = fc.record({ sign: fc.constantFrom('+', '-'), hours: fc.integer({ min: 0, max: 99 }), minutes: fc.integer({ min: 0, max: 99 }), colon: fc.boolean() });
  fc.assert(fc.property(fc.integer({ min: MIN_TIME + 86_400_000, max: MAX_TIME - 86_400_000 }), offset, (t, o) => {
    const minutes = (o.sign === '-' ? -1 : 1) * (o.hours * 60 + o.minutes);
    // The wall-clock time at that offset, written with it.
    const local = new Date(t + minutes * 60_000).toISOString().slice(0, 23);
    const text = `${local}${o.sign}${pad(o.hours)}${o.colon ? ':' : ''}${pad(o.minutes)}`;
    const valid = o.hours <= 23 && o.minutes <= 59;
    assert.equal(parseIsoTime(text), valid ? t : NaN, text);
  }), { seed: 20261130, numRuns: 5_000 });
  for (const text of ['2024-05-01T00:00:00+99:99', '2024-05-01T00:00:00-00:60', '2024-05-01T00:00:00+2400', '2024-05-01T00:00:00+24:00', '2024-05-01T00:00:00-2360']) {
    assert.ok(Number.isNaN(parseIsoTime(text)), text);
  }
  assert.equal(parseIsoTime('2024-05-01T23:59:00+23:59'), Date.parse('2024-05-01T00:00:00Z'));
  assert.equal(parseIsoTime('2024-05-01T00:00:00-23:59'), Date.parse('2024-05-01T23:59:00Z'));
  assert.equal(parseIsoTime('2024-05-01T05:30:00+0530'), parseIsoTime('2024-05-01T05:30:00+05:30'));
  assert.equal(parseIsoTime('2024-05-01T00:00:00-00:00'), parseIsoTime('2024-05-01T00:00:00Z'));
  // Offset forms the parser does not take: hours alone, one digit, a lone minute digit, an offset on a date alone.
  for (const text of ['2024-05-01T00:00:00+05', '2024-05-01T00:00:00+5:30', '2024-05-01T00:00:00+05:3', '2024-05-01+02:00', '2024-05-01T00:00:00+05:300']) {
    assert.ok(Number.isNaN(parseIsoTime(text)), text);
  }
});

test('iso time: every instant of the years 0000-9999 comes back from its own ISO string, 0099 included', () => {
  const earliest = Date.parse('0000-01-01T00:00:00Z');
  const latest = Date.parse('9999-12-31T23:59:59.999Z');
  fc.assert(fc.property(fc.oneof(fc.integer({ min: earliest, max: latest }), fc.integer({ min: earliest, max: Date.parse('0100-01-01T00:00:00Z') })), (t) => {
    assert.equal(parseIsoTime(new Date(t).toISOString()), t);
  }), { seed: 20261131, numRuns: 10_000 });
  for (let year = 0; year < 100; year++) {
    const t = parseIsoTime(`${pad(year, 4)}-01-01`);
    assert.equal(new Date(t).toISOString(), `${pad(year, 4)}-01-01T00:00:00.000Z`);
  }
  assert.equal(parseIsoTime('0099-01-01'), -59_042_995_200_000);
  assert.notEqual(parseIsoTime('0099-01-01'), Date.parse('1999-01-01T00:00:00Z'));
  assert.equal(parseIsoTime('0000-02-29'), Date.parse('0000-02-29T00:00:00Z'), 'year 0 is a leap year');
  assert.ok(Number.isNaN(parseIsoTime('1900-02-29')), '1900 is not');
});

test('iso time: utcMillis agrees with the Date reference for every year, 0-99 included', () => {
  const date = fc.record({
    year: fc.integer({ min: 0, max: 9999 }), month: fc.integer({ min: 1, max: 12 }), day: fc.integer({ min: 1, max: 28 }),
    hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }), second: fc.integer({ min: 0, max: 59 }), millis: fc.integer({ min: 0, max: 999 }),
  });
  fc.assert(fc.property(date, (d) => {
    assert.equal(utcMillis(d.year, d.month, d.day, d.hour, d.minute, d.second, d.millis), reference(d));
  }), { seed: 20261132, numRuns: 10_000 });
  assert.equal(MIN_TIME, Date.parse('1900-01-01T00:00:00Z'));
  assert.equal(MAX_TIME, Date.parse('9999-12-31T23:59:59.999Z'));
});

test('iso time: an event time outside 1900-9999 is refused with the range, a bad offset or date with its own sentence', () => {
  const schema = compileConfig(defineConfig({ eventTypes: [defineEventType({ name: 'e', time: 'at', fields: { at: 'timestamp' } })], views: [] })).eventTypes.get('e')!;
  const validate = createEventValidator(schema);
  const cases: [string, RegExp][] = [
    ['0099-01-01', /^Field 'at' must fall between the years 1900 and 9999\.$/],
    ['0099-01-01T00:00:00Z', /^Field 'at' must fall between the years 1900 and 9999\.$/],
    ['1899-12-31T23:59:59.999Z', /^Field 'at' must fall between the years 1900 and 9999\.$/],
    ['1900-01-01T00:30:00+01:00', /^Field 'at' must fall between the years 1900 and 9999\.$/],
    ['2024-05-01T00:00:00+99:99', /^Field 'at' must be an ISO-8601 date-time with a UTC offset from -23:59 to \+23:59; got "2024-05-01T00:00:00\+99:99"\.$/],
    ['2024-05-01T00:00:00-0060', /^Field 'at' must be an ISO-8601 date-time with a UTC offset from -23:59 to \+23:59; got /],
    ['2024-02-30', /^Field 'at' must be a real ISO-8601 date-time; "2024-02-30" names a date or time that does not exist\.$/],
    ['2024-05-01T24:00:00Z', /names a date or time that does not exist\.$/],
    ['May 1st', /^Field 'at' must be an ISO-8601 date-time such as 2024-05-01T12:00:00Z; got "May 1st"\.$/],
  ];
  for (const [at, message] of cases) {
    assert.throws(() => validate({ at }), (error: unknown) => error instanceof InvalidEventError && error.field === 'at' && message.test(error.message), at);
  }
  assert.equal(validate({ at: '1900-01-01T00:00:00Z' }).at, MIN_TIME);
  assert.equal(validate({ at: '9999-12-31T23:59:59.999Z' }).at, MAX_TIME);
});
