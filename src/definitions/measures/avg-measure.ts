import { addScaled, decimalString, type ScaledInt } from '../scaled-number.ts';
import { addInto, grownFloat64, mergeEach, sqlToNumber, type Measure, type StateColumn } from './measure.ts';
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

/** Decimal places an average has beyond its field's scale. */
export const AVERAGE_EXTRA_DIGITS = 4;

/**
 * The average of `count` values whose exact sum is `sum` (scaled by 10^scale),
 * rounded once, half away from zero, to `scale + 4` decimal places: 4569.69
 * over 10 is 456.969, where dividing doubles gave 456.96899999999994. It is
 * a number when the double prints as that decimal (JSON carries it exactly),
 * else the decimal as text, as a sum too large for a double is.
 */
export function averageResult(sum: ScaledInt, count: number, scale: number): number | string {
  const numerator = BigInt(sum) * 10n ** BigInt(AVERAGE_EXTRA_DIGITS);
  const divisor = BigInt(count);
  const magnitude = numerator < 0n ? -numerator : numerator;
  const rounded = (2n * magnitude + divisor) / (2n * divisor);
  const text = trimZeros(decimalString(numerator < 0n ? -rounded : rounded, scale + AVERAGE_EXTRA_DIGITS));
  const value = Number(text);
  // A tiny average prints in exponent form (1e-7); its fixed form is what to compare.
  const shortest = String(value);
  const plain = shortest.includes('e') ? trimZeros(value.toFixed(scale + AVERAGE_EXTRA_DIGITS)) : shortest;
  return plain === text ? value : text;
}

/** `12.3400` → `12.34`, `5.0000` → `5`, `-0.0000` → `0`. */
function trimZeros(text: string): string {
  const trimmed = text.includes('.') ? text.replace(/\.?0+$/, '') : text;
  return trimmed === '-0' ? '0' : trimmed;
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
    sqlAggregates: (input) => [`sum(${input})`, `count(${input})`],
    fromSql: ([sum, count]) => ({ sum: scaledFromSql(sum ?? null), count: sqlToNumber(count ?? 0, 'avg count') }),
    column: () => new AvgColumn(),
  };
}
