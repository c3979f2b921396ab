/**
 * A set of strings kept off the JavaScript heap, for the idempotency keys of
 * an event type that keeps them all.
 *
 * Hand-written because a `Map` of a million fresh strings cost 1 to 2 µs per
 * insert on this machine, most of it growing, rehashing and collecting the
 * map's backing store on the heap, and held about 80 bytes per key there
 * for the collector to trace at every major GC. Here each key's characters
 * sit in one growing byte arena (a `Buffer`, outside the heap) and an
 * open-addressing table of (hash, arena offset) pairs lives in a typed array:
 * a key costs its characters, a 5-byte header, and 32 to 64 bytes of table
 * (16 per position, kept at most half full), and nothing to trace.
 *
 * Exact, whatever the hash does: a probe that meets an equal hash compares
 * the characters. A key whose characters are all below 256 is stored one
 * byte each, any other as UTF-16 code units (lone surrogates included, so no
 * two different strings ever share a stored form).
 *
 * @module
 */

/** Bytes before a key's characters: its length in UTF-16 code units (u32), then 0 for one byte per character, 1 for two. */
const HEADER = 5;
const ONE_BYTE = 0;
const TWO_BYTES = 1;
/** Table positions are kept at most half full, so probes stay short. */
const MAX_LOAD = 0.5;

/** FNV-1a over a string's UTF-16 code units, mixed at the end so the low bits (the table position) use every bit. */
function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h;
}

/** Whether every code unit of `key` is below 256. */
function oneByte(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0xff) return false;
  return true;
}

/**
 * A set of strings, exact, with its keys outside the JavaScript heap.
 *
 * @example
 * ```ts
 * const seen = new KeySet();
 * seen.add('order-1');   // true: added
 * seen.add('order-1');   // false: already there
 * seen.has('order-2');   // false
 * ```
 */
export class KeySet {
  #arena: Buffer;
  #used = 0;
  /**
   * Two doubles per table position: the key's hash, then its arena offset
   * + 1 (0 is empty; a double, as an arena may pass 4 GiB). Side by side,
   * so a probe reads one cache line, not one in each of two arrays.
   */
  #table: Float64Array;
  #size = 0;

  /** `positions` (a power of two) and `arenaBytes` are the starting sizes; tests start small to make the set grow. */
  constructor(positions = 1024, arenaBytes = 1 << 16) {
    this.#table = new Float64Array(positions * 2);
    this.#arena = Buffer.allocUnsafe(arenaBytes);
  }

  get size(): number {
    return this.#size;
  }

  /** Bytes held: the arena and the table. */
  get bytes(): number {
    return this.#arena.length + this.#table.byteLength;
  }

  has(key: string): boolean {
    return this.#table[2 * this.#position(key, hashOf(key)) + 1] !== 0;
  }

  /** Adds `key` unless it is there; says whether it was added. */
  add(key: string): boolean {
    const hash = hashOf(key);
    const at = this.#position(key, hash);
    if (this.#table[2 * at + 1] !== 0) return false;
    this.#table[2 * at] = hash;
    this.#table[2 * at + 1] = this.#store(key) + 1;
    if (++this.#size > (this.#table.length >> 1) * MAX_LOAD) this.#grow();
    return true;
  }

  /** The position holding `key`, or the empty position where it would go. */
  #position(key: string, hash: number): number {
    const table = this.#table;
    const mask = (table.length >> 1) - 1;
    let at = hash & mask;
    for (let offset = table[2 * at + 1]!; offset !== 0; offset = table[2 * at + 1]!) {
      if (table[2 * at] === hash && this.#equals(offset - 1, key)) return at;
      at = (at + 1) & mask;
    }
    return at;
  }

  /** Whether the key stored at arena `offset` is `key`. */
  #equals(offset: number, key: string): boolean {
    const arena = this.#arena;
    if (arena.readUInt32LE(offset) !== key.length) return false;
    const start = offset + HEADER;
    if (arena[offset + 4] === ONE_BYTE) {
      for (let i = 0; i < key.length; i++) if (arena[start + i] !== key.charCodeAt(i)) return false;
    } else {
      for (let i = 0; i < key.length; i++) if ((arena[start + 2 * i]! | (arena[start + 2 * i + 1]! << 8)) !== key.charCodeAt(i)) return false;
    }
    return true;
  }

  /** Appends `key` to the arena; returns where it starts. */
  #store(key: string): number {
    const narrow = oneByte(key);
    const bytes = HEADER + key.length * (narrow ? 1 : 2);
    if (this.#used + bytes > this.#arena.length) this.#growArena(this.#used + bytes);
    const offset = this.#used;
    const arena = this.#arena;
    arena.writeUInt32LE(key.length, offset);
    arena[offset + 4] = narrow ? ONE_BYTE : TWO_BYTES;
    // One byte per code unit is written here: a short key costs less so than a call into Buffer.write.
    if (narrow) for (let i = 0; i < key.length; i++) arena[offset + HEADER + i] = key.charCodeAt(i);
    else arena.write(key, offset + HEADER, 'utf16le');
    this.#used += bytes;
    return offset;
  }

  #growArena(needed: number): void {
    let length = this.#arena.length * 2;
    while (length < needed) length *= 2;
    const arena = Buffer.allocUnsafe(length);
    this.#arena.copy(arena, 0, 0, this.#used);
    this.#arena = arena;
  }

  /** Doubles the table, moving each key by its stored hash: no key is read or hashed again. */
  #grow(): void {
    const old = this.#table;
    const table = new Float64Array(old.length * 2);
    const mask = (table.length >> 1) - 1;
    for (let from = 0; from < old.length; from += 2) {
      if (old[from + 1] === 0) continue;
      let at = old[from]! & mask;
      while (table[2 * at + 1] !== 0) at = (at + 1) & mask;
      table[2 * at] = old[from]!;
      table[2 * at + 1] = old[from + 1]!;
    }
    this.#table = table;
  }
}
