/**
 * The keys of a `quantiles` measure's answer, typed from its definition:
 * the type-level twin of `quantileName` (`0.5` → `p50`, `0.999` →
 * `p99.9`), which test/typings/quantile-names.test.ts holds it to, so that
 * `row.latency.p75` fails to compile for a view that does not define 0.75.
 *
 * @module
 */

/** The quantiles a `quantiles` measure answers when its definition lists none (`DEFAULT_QUANTILES`). */
type DefaultQuantiles = readonly [0.5, 0.9, 0.99];

/** `T` without a leading zero: `'05'` → `'5'`, `'00'` → `'0'`. */
type WithoutLeadingZero<T extends string> = T extends `0${infer Rest}` ? (Rest extends '' ? '0' : Rest) : T;

/** How many characters `S` has. */
type LengthOf<S extends string, Counted extends unknown[] = []> = S extends `${string}${infer Rest}`
  ? (S extends '' ? Counted['length'] : LengthOf<Rest, [...Counted, unknown]>)
  : Counted['length'];

/**
 * The digits after `0.` as a percentage: the point moves two places right
 * (`'5'` → `'50'`, `'05'` → `'5'`, `'999'` → `'99.9'`, `'001'` → `'0.1'`).
 */
type Percent<Fraction extends string> = Fraction extends `${infer A}${infer B}${infer Rest}`
  ? (Rest extends '' ? WithoutLeadingZero<`${A}${B}`> : `${WithoutLeadingZero<`${A}${B}`>}.${Rest}`)
  : `${Fraction}0`;

/**
 * `quantileName` rounds `q × 100` to 12 significant digits; a fraction of
 * up to 12 digits is unchanged by it. Longer ones, exponent forms (`1e-7`)
 * and a plain `number` are named by the run time alone: any `p…` key.
 */
type FractionName<Fraction extends string> = LengthOf<Fraction> extends 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12
  ? (Fraction extends `${number}` ? `p${Percent<Fraction>}` : `p${string}`)
  : `p${string}`;

/**
 * The key quantile `Q` answers under, as `quantileName` names it.
 *
 * @example
 * ```ts
 * type Names = QuantileName<0.5 | 0.99 | 0.999>;   // 'p50' | 'p99' | 'p99.9'
 * ```
 */
export type QuantileName<Q extends number> = Q extends unknown
  ? `${Q}` extends '0' ? 'p0'
    : `${Q}` extends '1' ? 'p100'
      : `${Q}` extends `0.${infer Fraction}` ? FractionName<Fraction>
        : `p${string}`
  : never;

/**
 * The keys of a `quantiles` measure of spec `S` in an answer row: one per
 * quantile the definition lists (0.5, 0.9 and 0.99 when it lists none).
 *
 * @example
 * ```ts
 * type Keys = QuantileKey<{ type: 'quantiles'; field: 'ms'; quantiles: [0.5, 0.99] }>;   // 'p50' | 'p99'
 * ```
 */
export type QuantileKey<S> = QuantileName<(S extends { readonly quantiles: infer Listed extends readonly number[] } ? Listed : DefaultQuantiles)[number]>;

/**
 * What an answer row holds for a `quantiles` measure of spec `S`: a key per
 * quantile (see {@link QuantileKey}), each a number in the field's units, or
 * null when the group has no value of the field.
 *
 * @example
 * ```ts
 * type Latency = QuantileValuesOf<{ type: 'quantiles'; field: 'ms'; quantiles: [0.5, 0.99] }>;
 * // { readonly p50: number | null; readonly p99: number | null }
 * ```
 */
export type QuantileValuesOf<S> = { readonly [K in QuantileKey<S>]: number | null };
