/**
 * The form counts and sums take in an answer. By default (`auto`) a sum is
 * a number, or exact decimal text once a double could not carry it, so one
 * column may mix both; `text` answers every count and sum as exact decimal
 * text, and `bigint` (for code in this process: JSON has no bigint) answers
 * counts and sums of whole numbers as bigints, and sums of a field with
 * decimals as text. Each column then has one type.
 *
 * @module
 */
import { decimalString, type MeasureSchema, type ScaledInt } from '../definitions/index.ts';

/**
 * How a query answers its `count` and `sum` measures: `auto` (a number, or
 * decimal text past what a double carries), `text` (always decimal text), or
 * `bigint` (in-process only: bigints, and text for a sum with decimals).
 *
 * @example
 * ```ts
 * const { rows } = await tandem.query({ view: 'usage', granularity: 'all', numbers: 'text' satisfies NumberForm });
 * rows[0]?.calls;   // string, e.g. "9007199254740993"
 * ```
 */
export type NumberForm = 'auto' | 'text' | 'bigint';
export const NUMBER_FORMS: readonly NumberForm[] = ['auto', 'text', 'bigint'];

/**
 * A `count` or `sum` measure's answer in `form`, from its state (a count, or
 * a sum scaled by its field's scale); undefined for any other measure, or
 * for `auto`, which keeps the measure's own result.
 */
export function formedNumber(measure: MeasureSchema, state: unknown, form: NumberForm): string | bigint | undefined {
  if (form === 'auto' || (measure.type !== 'count' && measure.type !== 'sum')) return undefined;
  const scale = measure.type === 'sum' ? measure.field!.scale : 0;
  const value = BigInt(state as ScaledInt);
  if (form === 'bigint' && scale === 0) return value;
  return plainDecimal(value, scale);
}

/** Exact decimal text without trailing zeros: 1250 at scale 2 is "12.5", as the `auto` form prints 12.5. */
function plainDecimal(value: bigint, scale: number): string {
  const text = decimalString(value, scale);
  if (!text.includes('.')) return text;
  const trimmed = text.replace(/\.?0+$/, '');
  return trimmed === '-0' ? '0' : trimmed;
}
