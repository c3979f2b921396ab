import { addScaled, decimalString, trimZeros, type ScaledInt } from '../scaled-number.ts';
import { addInto, addCounts, grownFloat64, mergeEach, sqlToNumber, type Measure, type StateColumn } from './measure.ts';
import { decodeScaled, encodeScaled, ScaledSumColumn, scaledFromSql } from './sum-measure.ts';

/** The state of `avg`: an exact sum and the number of values in it. */
export interface AvgState {
  sum: ScaledInt;
  count: number;
}

/** An exact sum column beside a count column. */
class AvgColumn implements StateColumn<AvgState> {
  readonly #sums = new ScaledSumColumn();
  #counts = new Float64Array(0);

  grow(capacity: number): void {
    this.#sums.grow(capacity);
    this.#counts = grownFloat64(this.#counts, capacity);
  }

  add(slot: number, value: number | null): void {
    if (value === null) return;
    this.#sums.merge(slot, value);
    this.#counts[slot]! += 1;
  }

  addMany(slots: Int32Array, count: number, values: Float64Array | undefined): void {
    this.#sums.addMany(slots, count, values);
    const counts = this.#counts;
    for (let i = 0; i < count; i++) {
      const slot = slots[i]!;
      if (slot !== -1 && !Number.isNaN(values![i]!)) counts[slot]! += 1;
    }
  }

  merge(slot: number, state: AvgState): void {
    this.#sums.merge(slot, state.sum);
    this.#counts[slot]! += state.count;
  }

  mergeSqlColumns(slots: Int32Array, count: number, [sums, counts]: readonly Float64Array[]): void {
    this.#sums.addMany(slots, count, sums);
    addCounts(this.#counts, slots, count, counts!);
  }

  foldInto(into: AvgState, slot: number): AvgState {
    into.sum = this.#sums.foldInto(into.sum, slot);
    into.count += this.#counts[slot]!;
    return into;
  }

  get(slot: number): AvgState {
    return { sum: this.#sums.get(slot), count: this.#counts[slot]! };
  }

  mergeFrom(source: StateColumn<AvgState>, targets: Int32Array, count: number, slots?: Int32Array): void {
    if (!(source instanceof AvgColumn)) return mergeEach(this, source, targets, count, slots);
    this.#sums.mergeFrom(source.#sums, targets, count, slots);
    addInto(this.#counts, source.#counts, targets, count, slots);
  }
}

/** PostgreSQL's numeric division keeps at least this many significant digits (its NUMERIC_MIN_SIG_DIGITS). */
const MIN_SIGNIFICANT_DIGITS = 16;
/** PostgreSQL stores numerics in base 10,000: digits of 4 decimals, which its choice of scale counts in. */
const BASE_DIGITS = 4;
/** PostgreSQL's largest display scale. */
const MAX_PLACES = 1000;

/** The base-10,000 weight of a decimal `magnitude / 10^scale` and its leading base-10,000 digit; zero has weight 0, digit 0. */
function baseTenThousand(magnitude: bigint, scale: number): { weight: number; first: bigint } {
  if (magnitude === 0n) return { weight: 0, first: 0n };
  const exponent = magnitude.toString().length - 1 - scale;
  const weight = Math.floor(exponent / BASE_DIGITS);
  const shift = scale + weight * BASE_DIGITS;
  const first = shift >= 0 ? magnitude / 10n ** BigInt(shift) : magnitude * 10n ** BigInt(-shift);
  return { weight, first };
}

/**
 * The decimal places of `sum / count`, chosen as PostgreSQL chooses them for
 * numeric division (`select_div_scale`): enough for 16 significant digits of
 * the quotient as estimated from the operands' leading base-10,000 digits,
 * and never fewer than the field's scale.
 */
export function averagePlaces(sum: bigint, count: bigint, scale: number): number {
  const dividend = baseTenThousand(sum < 0n ? -sum : sum, scale);
  const divisor = baseTenThousand(count, 0);
  const weight = dividend.weight - divisor.weight - (dividend.first <= divisor.first ? 1 : 0);
  return Math.min(MAX_PLACES, Math.max(MIN_SIGNIFICANT_DIGITS - weight * BASE_DIGITS, scale, 0));
}

/**
 * The average of `count` values whose exact sum is `sum` (scaled by 10^scale),
 * rounded once, half away from zero, to the places PostgreSQL's `avg` over a
 * `numeric(p, scale)` column gives (at least 16 significant digits; see
 * {@link averagePlaces}), trailing zeros dropped: 4569.69 over 10 is
 * 456.969, and an average distance PostgreSQL gives as 712.6122778675282994
 * is that here too. It is a number when the double prints as that decimal
 * (JSON carries it exactly), else the decimal as text.
 */
export function averageResult(sum: ScaledInt, count: number, scale: number): number | string {
  const exact = BigInt(sum);
  const divisor = BigInt(count);
  const places = averagePlaces(exact, divisor, scale);
  const numerator = exact * 10n ** BigInt(places - scale);
  const magnitude = numerator < 0n ? -numerator : numerator;
  const rounded = (2n * magnitude + divisor) / (2n * divisor);
  const text = trimZeros(decimalString(numerator < 0n ? -rounded : rounded, places));
  const value = Number(text);
  // A tiny average prints in exponent form (1e-7); its fixed form is what to compare.
  const shortest = String(value);
  const plain = shortest.includes('e') ? trimZeros(value.toFixed(Math.min(places, 100))) : shortest;
  return plain === text ? value : text;
}

/**
 * `avg` of a number field. The state keeps the exact sum and the count, and the
 * division happens only in `result`, rounded once (see {@link averageResult}),
 * so both layers give the same answer, exactly.
 */
export function avgMeasure(scale: number): Measure<AvgState> {
  return {
    type: 'avg',
    empty: () => ({ sum: 0, count: 0 }),
    add(state, value) {
      if (value === null) return state;
      state.sum = addScaled(state.sum, value as number);
      state.count += 1;
      return state;
    },
    merge(into, from) {
      into.sum = addScaled(into.sum, from.sum);
      into.count += from.count;
      return into;
    },
    result: (state) => (state.count === 0 ? null : averageResult(state.sum, state.count, scale)),
    encode: (state) => [encodeScaled(state.sum), state.count],
    decode(encoded) {
      const [sum, count] = encoded as readonly [string | number, number];
      return { sum: decodeScaled(sum), count: Number(count) };
    },
    sql: (input) => ({ subKeys: [], partials: [`sum(${input})`, `count(${input})`], states: ([sum, n]) => [`sum(${sum})`, `CAST(sum(${n}) AS BIGINT)`] }),
    fromSql: ([sum, count]) => ({ sum: scaledFromSql(sum ?? null), count: sqlToNumber(count ?? 0, 'avg count') }),
    column: () => new AvgColumn(),
  };
}
