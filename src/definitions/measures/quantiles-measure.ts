import type { Field } from '../field.ts';
import type { Measure, MeasureValue } from './measure.ts';
import { ObjectColumn, type ObjectState } from './object-column.ts';
import { bucketOf, bucketSql, QuantileSketch } from './quantile-sketch.ts';

/** The name a quantile gets in an answer row: `p50`, `p99`, `p99.9`. */
export function quantileName(q: number): string {
  return `p${Number((q * 100).toPrecision(12))}`;
}

/**
 * The first two of `quantiles` that answer under one name (0.5 and
 * 0.5000000000000001 are both `p50`), or undefined when every name is
 * distinct: an answer keyed by name would silently drop one of them.
 */
export function sameNamedQuantiles(quantiles: readonly number[]): readonly [number, number, string] | undefined {
  const seen = new Map<string, number>();
  for (const q of quantiles) {
    const name = quantileName(q);
    const earlier = seen.get(name);
    if (earlier !== undefined) return [earlier, q, name];
    seen.set(name, q);
  }
  return undefined;
}

/** The sentence that refuses two quantiles of one name, at `path`. */
export function sameNamedQuantilesMessage(path: string, [a, b, name]: readonly [number, number, string]): string {
  return `${path} lists ${a} and ${b}, which both answer as '${name}'; list each quantile once.`;
}

function sketchKind(k: number): ObjectState<QuantileSketch> {
  return {
    create: () => new QuantileSketch(),
    merge: (into, from) => into.merge(from),
    clone: (state) => state.clone(),
    addAt: (state, column, i) => state.addBucket(bucketOf((column as Float64Array)[i]!, k)),
    isNull: (column, i) => Number.isNaN((column as Float64Array)[i]),
    // A Map entry of two numbers: about 40 bytes in V8.
    bytes: (state) => state.buckets * 40,
  };
}

/**
 * `quantiles`: quantiles of a number field within a guaranteed relative
 * error (see `quantile-sketch.ts`). The answer is an object with one entry
 * per quantile asked, such as `{ "p50": 12.3, "p99": 180 }`; values come
 * back in the field's units.
 */
export function quantilesMeasure(field: Field, quantiles: readonly number[], k: number): Measure<QuantileSketch> {
  const kind = sketchKind(k);
  const unit = 10 ** field.scale;
  const valuesOf = (state: QuantileSketch, asked: readonly number[]): MeasureValue => {
    const sorted = state.entries();
    return Object.fromEntries(asked.map((q) => {
      const value = state.quantile(q, k, sorted);
      return [quantileName(q), value === null ? null : value / unit];
    }));
  };
  return {
    type: 'quantiles',
    empty: () => new QuantileSketch(),
    add: (state, value) => {
      if (value !== null) state.addBucket(bucketOf(Number(value), k));
      return state;
    },
    merge: (into, from) => {
      into.merge(from);
      return into;
    },
    result: (state) => valuesOf(state, quantiles),
    resultFor: (state, asked) => valuesOf(state, asked),
    stateResult: (state) => ({ type: 'quantiles', format: 1, subBucketBits: k, scale: field.scale, state: Buffer.from(state.encode(k)).toString('base64') }),
    encode: (state) => Buffer.from(state.encode(k)).toString('base64'),
    decode: (encoded) => QuantileSketch.decode(Buffer.from(String(encoded), 'base64')).sketch,
    sql: (input) => ({
      // Grouped by bucket first: a key's count of each bucket, then its `bucket:count` entries.
      subKeys: [bucketSql(input, k)],
      partials: ['count(*)'],
      states: ([n], [bucket]) => [`string_agg(concat(${bucket}, ':', ${n}), ',') FILTER (WHERE ${bucket} IS NOT NULL)`],
    }),
    fromSql: ([text]) => QuantileSketch.fromSql((text ?? null) as string | null),
    column: () => new ObjectColumn(kind),
  };
}
