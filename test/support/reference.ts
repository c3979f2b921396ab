/**
 * An independent, deliberately naive recomputation of a query over raw
 * events: no monoids, no tables, no shared code with the engine beyond the
 * config. Amounts are summed as bigint cents.
 */
import type { Query, QueryRow, ViewJson as ViewDefinition } from '../../src/index.ts';
import type { MeasureValue } from '../../src/index.ts';
import { bucketOf, representative, subBucketBits } from '../../src/definitions/measures/quantile-sketch.ts';
import { quantileName } from '../../src/definitions/measures/quantiles-measure.ts';

export interface RefEvent {
  readonly id: string;
  readonly at: number;
  readonly country: string;
  readonly device: string | null;
  readonly mobile: boolean;
  /** Amount in cents (scale 2). */
  readonly cents: number;
  readonly qty: number;
}

const DAY = 86_400_000;

export function refBucket(granularity: string, t: number): number {
  const d = new Date(t);
  switch (granularity) {
    case 'minute':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes());
    case 'hour':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours());
    case 'day':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    case 'week': {
      const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      return day - ((d.getUTCDay() + 6) % 7) * DAY;
    }
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    default:
      return 0;
  }
}

function fieldValue(e: RefEvent, field: string): string | number | boolean | null {
  if (field === 'amount') return e.cents / 100;
  return (e as unknown as Record<string, string | number | boolean | null>)[field]!;
}

/** Whether `e` meets every condition of a filter: a view's, or a measure's own. */
function passes(filter: ViewDefinition['filter'], e: RefEvent): boolean {
  return (filter ?? []).every((f) => {
    const v = fieldValue(e, f.field);
    if (v === null) return false;
    switch (f.op) {
      case '=': return v === f.value;
      case '!=': return v !== f.value;
      case '>': return (v as number) > (f.value as number);
      case '>=': return (v as number) >= (f.value as number);
      case '<': return (v as number) < (f.value as number);
      case '<=': return (v as number) <= (f.value as number);
      case 'in': return (f.value as readonly unknown[]).includes(v);
    }
  });
}

interface Acc { count: number; sum: bigint; n: number; min: number | null; max: number | null; distinct: Set<string>; values: number[] }

/** A quantiles answer recomputed from all the values: the same buckets and rank rule the measure defines (docs/sketches.md). */
function quantilesOf(values: readonly number[], asked: readonly number[], unit: number): Record<string, number | null> {
  const k = subBucketBits(0.01);
  const sorted = [...values].sort((a, b) => a - b);
  return Object.fromEntries(asked.map((q) => {
    if (sorted.length === 0) return [quantileName(q), null];
    const v = sorted[Math.floor(q * (sorted.length - 1))]!;
    return [quantileName(q), representative(bucketOf(v, k), k) / unit];
  }));
}

/** The base-10,000 weight and value of a decimal's leading nonzero group of 4 digits, read off its text as PostgreSQL stores it. */
function leadingGroup(text: string): { weight: number; value: number } {
  const [whole = '', fraction = ''] = text.replace('-', '').split('.');
  const groups = [
    ...whole.padStart(Math.ceil(whole.length / 4) * 4, '0').match(/.{4}/g) ?? [],
    ...fraction.padEnd(Math.ceil(fraction.length / 4) * 4, '0').match(/.{4}/g) ?? [],
  ];
  const wholeGroups = Math.ceil(whole.length / 4);
  const at = groups.findIndex((g) => Number(g) !== 0);
  return at === -1 ? { weight: 0, value: 0 } : { weight: wholeGroups - 1 - at, value: Number(groups[at]) };
}

/**
 * The average as the engine promises it: the exact quotient rounded half
 * away from zero to the places PostgreSQL's numeric division gives (16
 * significant digits as estimated from the leading groups, at least the
 * field's scale), trailing zeros dropped; a number when the double prints as
 * that text, else the text. Computed from decimal text and by truncating
 * division and a remainder test, not as the engine does.
 */
export function roundedAverage(sum: bigint, n: number, scale: number): number | string {
  const magnitude = (sum < 0n ? -sum : sum).toString().padStart(scale + 1, '0');
  const sumText = scale === 0 ? magnitude : `${magnitude.slice(0, -scale)}.${magnitude.slice(-scale)}`;
  const a = leadingGroup(sumText);
  const b = leadingGroup(String(n));
  const places = Math.max(16 - 4 * (a.weight - b.weight - (a.value <= b.value ? 1 : 0)), scale);
  const numerator = sum * 10n ** BigInt(places - scale);
  let q = numerator / BigInt(n);
  const remainder = numerator - q * BigInt(n);
  if (2n * (remainder < 0n ? -remainder : remainder) >= BigInt(n)) q += numerator < 0n ? -1n : 1n;
  const digits = (q < 0n ? -q : q).toString().padStart(places + 1, '0');
  let text = `${q < 0n ? '-' : ''}${digits.slice(0, digits.length - places)}.${digits.slice(digits.length - places)}`;
  text = text.replace(/0+$/, '').replace(/\.$/, '');
  if (text === '-0') text = '0';
  const value = Number(text);
  const printed = String(value).includes('e') ? value.toFixed(Math.min(places, 100)).replace(/\.?0+$/, '') : String(value);
  return printed === text ? value : text;
}

function measureValue(type: string, field: string | undefined, accs: Acc, spec: { readonly quantiles?: readonly number[] }): MeasureValue {
  const cents = field === 'amount';
  switch (type) {
    case 'countDistinct': return accs.distinct.size;
    case 'quantiles': return quantilesOf(accs.values, spec.quantiles ?? [0.5, 0.9, 0.99], cents ? 100 : 1);
    case 'count': return accs.count;
    case 'sum': return cents ? Number(accs.sum) / 100 : Number(accs.sum);
    case 'avg': return accs.n === 0 ? null : roundedAverage(accs.sum, accs.n, cents ? 2 : 0);
    case 'min': return accs.min === null ? null : field === 'at' ? new Date(accs.min).toISOString() : cents ? accs.min / 100 : accs.min;
    default: return accs.max === null ? null : field === 'at' ? new Date(accs.max).toISOString() : cents ? accs.max / 100 : accs.max;
  }
}

function rawOf(e: RefEvent, field: string): number | null {
  return field === 'amount' ? e.cents : (e as unknown as Record<string, number | null>)[field]!;
}

/** Recomputes `query` over `events` (already deduplicated, valid ones only). */
export function referenceQuery(view: ViewDefinition, events: readonly RefEvent[], query: Query): QueryRow[] {
  const gran = query.granularity ?? (view.granularity === 'none' ? 'all' : view.granularity);
  const from = query.from === undefined ? -Infinity : Date.parse(String(query.from));
  const to = query.to === undefined ? Infinity : Date.parse(String(query.to));
  const measures = Object.entries(view.measures);
  const groups = new Map<string, { dims: (string | number | boolean | null)[]; time: number; accs: Acc[] }>();
  for (const e of events) {
    if (!passes(view.filter, e)) continue;
    const bucket = refBucket(view.granularity, e.at);
    if (bucket < from || bucket >= to) continue;
    const where = Object.entries(query.where ?? {});
    if (!where.every(([dim, want]) => (Array.isArray(want) ? want : [want]).includes(fieldValue(e, dim)))) continue;
    const dims = (query.groupBy ?? []).map((d) => fieldValue(e, d));
    const time = gran === 'all' ? 0 : refBucket(gran, bucket);
    const key = JSON.stringify([dims, time]);
    let g = groups.get(key);
    if (!g) {
      g = { dims, time, accs: measures.map(() => ({ count: 0, sum: 0n, n: 0, min: null, max: null, distinct: new Set<string>(), values: [] })) };
      groups.set(key, g);
    }
    measures.forEach(([, m], i) => {
      // A measure's own filter skips the event for that measure only: the row is there for the others.
      if (!passes(m.filter, e)) return;
      const acc = g!.accs[i]!;
      acc.count++;
      if (m.field === undefined) return;
      if (m.type === 'countDistinct') {
        const raw = fieldValue(e, m.field);
        if (raw !== null) acc.distinct.add(String(raw));
        return;
      }
      const v = rawOf(e, m.field);
      if (v === null) return;
      acc.values.push(v);
      acc.sum += BigInt(v);
      acc.n++;
      acc.min = acc.min === null || v < acc.min ? v : acc.min;
      acc.max = acc.max === null || v > acc.max ? v : acc.max;
    });
  }
  const rows = [...groups.values()].map((g) => {
    const row: Record<string, unknown> = {};
    (query.groupBy ?? []).forEach((d, i) => (row[d] = g.dims[i]));
    if (gran !== 'all') row.time = new Date(g.time).toISOString();
    measures.forEach(([name, m], i) => (row[name] = measureValue(m.type, 'field' in m ? m.field : undefined, g.accs[i]!, m as { quantiles?: readonly number[] })));
    return row as QueryRow;
  });
  return limitRows(rows, query);
}

type Cell = QueryRow[string];

function compareCells(x: Cell, y: Cell): number {
  // A quantiles answer sorts by its first quantile, as the engine does.
  const first = (c: Cell) => (c !== null && typeof c === 'object' ? Object.values(c)[0] ?? null : c);
  const a = first(x);
  const b = first(y);
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/** Applies orderBy (nulls last), then time and the group-by dimensions as tie-breakers, then the limit. */
function limitRows(rows: QueryRow[], query: Query): QueryRow[] {
  if (query.orderBy === undefined && query.limit === undefined) return rows;
  const keys = ['time', ...(query.groupBy ?? [])];
  rows.sort((a, b) => {
    for (const o of query.orderBy ?? []) {
      // The column a key reads: a measure's, a dimension's, or the time bucket's (ISO text sorts as time does).
      const column = 'measure' in o ? o.measure : 'dimension' in o ? o.dimension : 'time';
      const c = compareCells(a[column], b[column]);
      if (c !== 0) return o.desc && a[column] !== null && b[column] !== null ? -c : c;
    }
    for (const k of keys) {
      const c = compareCells(a[k], b[k]);
      if (c !== 0) return c;
    }
    return 0;
  });
  return rows.slice(0, query.limit ?? rows.length);
}

/** Rows in a canonical order, for comparing answers as sets. */
export function canonicalRows(rows: readonly QueryRow[]): string[] {
  return rows.map((r) => JSON.stringify(Object.keys(r).sort().map((k) => [k, r[k]]))).sort();
}
