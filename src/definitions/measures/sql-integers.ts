/**
 * The integers of a sketch's state as the batch layer's SQL gives it: text
 * such as `12:3,-7:1` (DuckDB writes and reads such text far faster than a
 * list of structs, in Parquet and across to JavaScript).
 *
 * @module
 */

const ZERO = 48;
const NINE = 57;
const MINUS = 45;

/**
 * The integers in `text`, in order: runs of digits with an optional leading
 * `-`, separated by any other characters. Read digit by digit, exact below
 * 2^53, with no string per number (a state can hold a million of them).
 */
export function parseIntegers(text: string): Float64Array {
  const out = new Float64Array(countIntegers(text));
  let n = 0;
  let value = 0;
  let sign = 1;
  let inNumber = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= ZERO && c <= NINE) {
      value = value * 10 + (c - ZERO);
      inNumber = true;
    } else {
      if (inNumber) out[n++] = sign * value;
      value = 0;
      inNumber = false;
      sign = c === MINUS ? -1 : 1;
    }
  }
  if (inNumber) out[n] = sign * value;
  return out;
}

/** How many runs of digits `text` holds. */
function countIntegers(text: string): number {
  let count = 0;
  let inNumber = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= ZERO && c <= NINE;
    if (digit && !inNumber) count++;
    inNumber = digit;
  }
  return count;
}
