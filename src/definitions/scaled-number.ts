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

/**
 * Scaled integers of smaller magnitude have at most 15 significant digits,
 * and a double prints every decimal of 15 significant digits back as itself.
 */
const ALWAYS_PRINTS_BACK = 10 ** 15;

/**
 * The number a scaled integer stands for: a double when that double prints
 * as the same decimal (so JSON carries it exactly), else the exact decimal as
 * text. (7036874417766401, 2) is "70368744177664.01", since the double
 * nearest it prints as 70368744177664.02; (1250, 2) is 12.5.
 */
export function fromScaled(value: ScaledInt, scale: number): number | string {
  if (typeof value === 'number') {
    if (scale === 0) return value;
    if (Math.abs(value) < ALWAYS_PRINTS_BACK) return value / POWERS[scale]!;
  }
  // 16 or more significant digits: the answer's form depends on the decimal alone, not on how the sum is held.
  const text = decimalString(BigInt(value), scale);
  const double = Number(text);
  return String(double) === trimZeros(text) ? double : text;
}

/** `12.3400` → `12.34`, `5.0000` → `5`, `-0.0000` → `0`. */
export function trimZeros(text: string): string {
  const trimmed = text.includes('.') ? text.replace(/\.?0+$/, '') : text;
  return trimmed === '-0' ? '0' : trimmed;
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

/**
 * DuckDB SQL for the scaled integer of `column`, a DECIMAL(18, scale): exact.
 * A product keeps its decimal's scale, so at scale 3 and above `column *
 * 10^scale` overflows DECIMAL(18) for values near the largest a field
 * accepts; scaling the whole and the fractional parts apart stays in 64 bits
 * (a cast to DECIMAL(38) is exact too, but about 80 times slower). At scale
 * 2 and below the product has at most 18 digits, so the plain form is safe.
 */
export function scaledIntegerSql(column: string, scale: number): string {
  if (scale === 0) return `CAST(${column} AS BIGINT)`;
  const p = POWERS[scale]!;
  if (scale <= 2) return `CAST(${column} * ${p} AS BIGINT)`;
  return `(CAST(trunc(${column}) AS BIGINT) * ${p} + CAST((${column} - trunc(${column})) * ${p} AS BIGINT))`;
}

/** A decimal's digits and the power of ten they are scaled by: "-12.5" is (-125, -1), "1e-7" is (1, -7). */
function decimalParts(value: number | string): { digits: bigint; exponent: number } {
  const [mantissa = '', power = '0'] = String(value).split('e');
  const [whole = '', fraction = ''] = mantissa.split('.');
  return { digits: BigInt(whole + fraction), exponent: Number(power) - fraction.length };
}

/**
 * Compares two answers that stand for decimals, numbers or decimal text,
 * exactly: "70368744177664.01" is below 70368744177664.02, though both are
 * nearest the same double. A number stands for the decimal it prints as.
 */
export function compareDecimals(a: number | string, b: number | string): number {
  const x = Number(a);
  const y = Number(b);
  // Rounding to the nearest double is monotonic, so distinct doubles are in the decimals' order.
  if (x !== y || (typeof a === 'number' && typeof b === 'number')) return x < y ? -1 : x > y ? 1 : 0;
  const p = decimalParts(a);
  const q = decimalParts(b);
  const at = Math.min(p.exponent, q.exponent);
  const left = p.digits * 10n ** BigInt(p.exponent - at);
  const right = q.digits * 10n ** BigInt(q.exponent - at);
  return left < right ? -1 : left > right ? 1 : 0;
}
