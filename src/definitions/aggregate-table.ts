/**
 * The in-memory state of one view: for each combination of dimension values
 * (a series), a map from bucket start to the measures' monoid states. The speed
 * layer folds events into it; the serving layer loads batch views into it; a
 * query merges several of them.
 *
 * @module
 */
import { bucketStart } from './granularity.ts';
import type { Row, Value, ViewSchema } from './schema.ts';

/** Measure states of one (series, bucket), in the view's measure order. */
export type States = unknown[];

export interface Series {
  readonly dims: readonly Value[];
  readonly buckets: Map<number, States>;
}

/**
 * An injective string key for dimension values: strings are length-prefixed
 * and numbers terminated, so no two tuples share a key.
 */
export function seriesKey(values: readonly Value[]): string {
  let key = '';
  for (const v of values) key += keyPart(v);
  return key;
}

function keyPart(v: Value): string {
  switch (typeof v) {
    case 'string':
      return `s${v.length}:${v}`;
    case 'number':
      return `n${v};`;
    case 'boolean':
      return v ? 't' : 'f';
    default:
      return '_';
  }
}

export class AggregateTable {
  readonly series = new Map<string, Series>();
  #buckets = 0;
  readonly #dimNames: readonly string[];
  readonly #measureFields: readonly (string | undefined)[];
  readonly #timeField: string;

  constructor(readonly view: ViewSchema) {
    this.#dimNames = view.dimensions.map((d) => d.name);
    this.#measureFields = view.measures.map((m) => m.field?.name);
    this.#timeField = view.eventType.time.name;
  }

  /** Number of (series, bucket) keys held. */
  get size(): number {
    return this.#buckets;
  }

  /** Folds one event in, if it passes the view's filter. */
  apply(row: Row): void {
    for (const f of this.view.filter) if (!f.test(row)) return;
    const names = this.#dimNames;
    let key = '';
    for (let i = 0; i < names.length; i++) key += keyPart(row[names[i]!]!);
    const states = this.#statesAt(key, names, row, bucketStart(this.view.granularity, row[this.#timeField] as number));
    const measures = this.view.measures;
    const fields = this.#measureFields;
    for (let i = 0; i < measures.length; i++) {
      const field = fields[i];
      states[i] = measures[i]!.monoid.add(states[i], field === undefined ? null : (row[field] as number | null));
    }
  }

  #statesAt(key: string, names: readonly string[], row: Row, bucket: number): States {
    let series = this.series.get(key);
    if (series === undefined) {
      series = { dims: names.map((n) => row[n]!), buckets: new Map() };
      this.series.set(key, series);
    }
    let states = series.buckets.get(bucket);
    if (states === undefined) {
      states = this.view.measures.map((m) => m.monoid.empty());
      series.buckets.set(bucket, states);
      this.#buckets++;
    }
    return states;
  }

  /** Merges precomputed states into (dims, bucket): how a batch view is loaded. */
  mergeStates(dims: readonly Value[], bucket: number, incoming: States): void {
    const key = seriesKey(dims);
    let series = this.series.get(key);
    if (series === undefined) {
      series = { dims, buckets: new Map() };
      this.series.set(key, series);
    }
    const states = series.buckets.get(bucket);
    if (states === undefined) {
      series.buckets.set(bucket, incoming);
      this.#buckets++;
      return;
    }
    const measures = this.view.measures;
    for (let i = 0; i < measures.length; i++) states[i] = measures[i]!.monoid.merge(states[i], incoming[i]);
  }
}
