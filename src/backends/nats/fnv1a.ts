/**
 * FNV-1a, 32 bits, over UTF-8: the stable hash that routes an idempotency
 * key to its partition. Written here (a few lines) because routing must never
 * change with a library's version, a platform or a process: a key hashed on
 * any node, today or in a year, must land in the same partition.
 *
 * @module
 */

const OFFSET_BASIS = 0x811c9dc5;
const PRIME = 0x01000193;

/** Folds the UTF-8 bytes of `text` into `hash`; code points above the BMP are read as their 4-byte UTF-8 form, lone surrogates as U+FFFD, as `TextEncoder` does. */
function fold(hash: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        code = 0xfffd;
      }
    }
    if (code < 0x80) {
      hash = Math.imul(hash ^ code, PRIME);
    } else if (code < 0x800) {
      hash = Math.imul(hash ^ (0xc0 | (code >> 6)), PRIME);
      hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), PRIME);
    } else if (code < 0x10000) {
      hash = Math.imul(hash ^ (0xe0 | (code >> 12)), PRIME);
      hash = Math.imul(hash ^ (0x80 | ((code >> 6) & 0x3f)), PRIME);
      hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), PRIME);
    } else {
      hash = Math.imul(hash ^ (0xf0 | (code >> 18)), PRIME);
      hash = Math.imul(hash ^ (0x80 | ((code >> 12) & 0x3f)), PRIME);
      hash = Math.imul(hash ^ (0x80 | ((code >> 6) & 0x3f)), PRIME);
      hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), PRIME);
    }
  }
  return hash;
}

/**
 * FNV-1a 32 of the UTF-8 bytes of `text`, as an unsigned integer.
 *
 * @example
 * ```ts
 * fnv1a32('a'); // 0xe40c292c
 * ```
 */
export function fnv1a32(text: string): number {
  return fold(OFFSET_BASIS, text) >>> 0;
}

/**
 * FNV-1a 32 of `parts` joined by a zero byte (which no event type name holds),
 * so that ('ab', 'c') and ('a', 'bc') hash apart.
 */
export function fnv1a32Of(...parts: readonly string[]): number {
  let hash = OFFSET_BASIS;
  parts.forEach((part, i) => {
    if (i > 0) hash = Math.imul(hash ^ 0, PRIME);
    hash = fold(hash, part);
  });
  return hash >>> 0;
}
