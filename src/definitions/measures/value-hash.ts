/**
 * The hash both layers give a value for `countDistinct`: MD5 of the value's
 * text, its last eight bytes read as a little-endian 64-bit integer. That is
 * DuckDB's `md5_number_lower(text)`, so the batch layer computes it inside
 * DuckDB over the Parquet files and the speed layer in JavaScript, and both
 * derive the same HyperLogLog registers from the same value, bit for bit:
 * MD5 is a published algorithm, not an implementation detail that a new
 * version of either side may change (as DuckDB's own `hash()` may).
 *
 * MD5 is written out here, not taken from `node:crypto`: the speed layer
 * hashes every event, and `crypto.hash` allocates a digest per call and took
 * 1.2 µs per short string on this machine, where this one writes into
 * buffers it owns. Its collisions do not matter here; its spread does.
 *
 * The text of a value is what DuckDB's `CAST(... AS VARCHAR)` gives for the
 * normalized value: a string as is (UTF-8), a number as the decimal digits of
 * its scaled integer, a timestamp as its epoch milliseconds, a boolean as
 * `true` or `false`.
 *
 * @module
 */

const S = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21];
const K = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);

/** Message bytes, padded to whole 64-byte blocks; grown for long values and kept. */
let buffer = new Uint8Array(256);
let words = new Int32Array(buffer.buffer);
const encoder = new TextEncoder();

/** The two 32-bit halves of a value's hash: `lo` the low half, `hi` the high half, both unsigned. */
export interface Hash64 {
  lo: number;
  hi: number;
}

/** Hashes `text` into `out` (which it returns): `md5_number_lower(text)` as two unsigned 32-bit halves. */
export function md5Lower64(text: string, out: Hash64): Hash64 {
  // UTF-8 takes at most 3 bytes per UTF-16 unit; 72 more leave room for the padding.
  const room = text.length * 3 + 72;
  if (room > buffer.length) {
    buffer = new Uint8Array(2 ** Math.ceil(Math.log2(room)));
    words = new Int32Array(buffer.buffer);
  }
  const length = text.length === 0 ? 0 : encoder.encodeInto(text, buffer).written;
  const blocks = ((length + 8) >>> 6) + 1;
  const end = blocks * 64;
  buffer[length] = 0x80;
  buffer.fill(0, length + 1, end - 8);
  // The length in bits, little-endian, in the last eight bytes; values are far below 2^32 bits.
  const bits = length * 8;
  words[(end >> 2) - 2] = bits | 0;
  words[(end >> 2) - 1] = Math.floor(bits / 2 ** 32);
  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  // Int32Array reads in the machine's byte order: MD5 wants little-endian words, which every platform Node supports is.
  for (let block = 0; block < blocks; block++) {
    const base = block * 16;
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const sum = (a + f + K[i]! + words[base + g]!) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << S[i]!) | (sum >>> (32 - S[i]!)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  // The digest is a0 b0 c0 d0 in little-endian bytes: bytes 8..15 are c0 and d0.
  out.lo = c0 >>> 0;
  out.hi = d0 >>> 0;
  return out;
}
