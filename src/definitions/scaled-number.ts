/**
 * Exact decimal arithmetic for `number` fields.
 *
 * A number field has a fixed `scale` (digits after the point); Tandem keeps
 * each value as the integer `value × 10^scale`. Sums stay JavaScript numbers
 * while they are safe integers and become bigints beyond, so every sum is exact
 * and associative: the batch layer (DuckDB DECIMAL) and the speed layer agree
 * to the last digit, whatever the order of addition. Doubles could not promise
 * that, and billing users notice a cent.
 *
 * @module
 */

/** An exact scaled integer: a safe-integer number, or a bigint once it outgrows one. */
export type ScaledInt = number | bigint;

export const MAX_SCALE = 12;

const POWERS = Array.from({ length: MAX_SCALE + 1 }, (_, i) => 10 ** i);

export function powerOfTen(scale: number): number {
  return POWERS[scale]!;
}

/** Canonical form: a number when it is a safe integer, else a bigint. Equal values have equal forms. */
export function canonical(value: bigint): ScaledInt {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** Exact addition of two scaled integers. */
export function addScaled(a: ScaledInt, b: ScaledInt): ScaledInt {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    // Rounding is monotonic, so a safe result means the exact sum was safe too.
    if (Number.isSafeInteger(sum)) return sum;
  }
  return canonical(BigInt(a) + BigInt(b));
}

/**
 * Scales a user's number to an integer, or returns undefined when it has more
 * decimals than `scale` allows or falls outside the safe range.
 */
export function toScaled(value: number, scale: number): number | undefined {
  const p = POWERS[scale]!;
  const scaled = Math.round(value * p);
  if (!Number.isSafeInteger(scaled)) return undefined;
  // Dividing an exact integer by 10^scale is correctly rounded, so this holds
  // exactly when `value` is the double nearest to a decimal with `scale` digits.
  return scaled / p === value ? scaled : undefined;
}

/** The number a scaled integer stands for, as the nearest double; a decimal string when it is beyond 2^53. */
export function fromScaled(value: ScaledInt, scale: number): number | string {
  if (typeof value === 'number') return scale === 0 ? value : value / POWERS[scale]!;
  return decimalString(value, scale);
}

/** Exact decimal text of a scaled integer, e.g. (12345n, 2) → "123.45". */
export function decimalString(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** The largest magnitude a field of this scale accepts. */
export function maxMagnitude(scale: number): number {
  return Number.MAX_SAFE_INTEGER / POWERS[scale]!;
}
