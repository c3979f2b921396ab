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
/** The most keys {@link KeySet.forKeys} makes room for ahead: 2^24 keys, a table of 512 MiB. */
const MAX_PRESIZED = 1 << 24;

const FNV_START = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Spreads the FNV state so that the low bits (the table position) use every bit. */
function mixed(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  return h ^ (h >>> 15);
}

/** FNV-1a over a string's UTF-16 code units, mixed at the end. */
function hashOf(key: string): number {
  let h = FNV_START;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), FNV_PRIME);
  return mixed(h);
}

/** Bytes the key stored at `offset` takes, header included; 0 when what is there cannot be a key (a damaged arena). */
function storedLength(arena: Buffer, offset: number, end: number): number {
  if (offset + HEADER > end) return 0;
  const width = arena[offset + 4];
  if (width !== ONE_BYTE && width !== TWO_BYTES) return 0;
  const bytes = HEADER + arena.readUInt32LE(offset) * (width === ONE_BYTE ? 1 : 2);
  return offset + bytes > end ? 0 : bytes;
}

/**
 * The hash of the key stored at `offset`, off its bytes: the same as
 * {@link hashOf} of the key, as a one-byte key's bytes are its code units
 * and a two-byte key's are them in little-endian pairs.
 */
function storedHash(arena: Buffer, offset: number): number {
  const length = arena[offset]! | (arena[offset + 1]! << 8) | (arena[offset + 2]! << 16) | (arena[offset + 3]! << 24);
  const start = offset + HEADER;
  let h = FNV_START;
  if (arena[offset + 4] === ONE_BYTE) {
    for (let i = start; i < start + length; i++) h = Math.imul(h ^ arena[i]!, FNV_PRIME);
  } else {
    for (let i = start; i < start + 2 * length; i += 2) h = Math.imul(h ^ (arena[i]! | (arena[i + 1]! << 8)), FNV_PRIME);
  }
  return mixed(h);
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

  /**
   * An empty set with room for `count` keys before its table grows (at most
   * 2^24, so a guess that is far too high cannot take gigabytes): growing a
   * table of millions of keys, a doubling at a time, cost about a third of
   * adding them. The table's pages are only touched as keys arrive.
   *
   * @example
   * ```ts
   * const keys = KeySet.forKeys(rowsInTheFile);
   * ```
   */
  static forKeys(count: number): KeySet {
    let positions = 1024;
    while (Math.min(count, MAX_PRESIZED) > positions * MAX_LOAD) positions *= 2;
    return new KeySet(positions);
  }

  get size(): number {
    return this.#size;
  }

  /** Bytes held: the arena and the table. */
  get bytes(): number {
    return this.#arena.length + this.#table.byteLength;
  }

  /**
   * Rebuilds a set from the bytes of another's arena ({@link storedBytes}),
   * without making a string of any key: how a snapshot of the keys is read
   * back at open. Throws a `RangeError` when the bytes are not a sequence of
   * stored keys.
   */
  static fromStored(stored: Buffer, table?: Float64Array): KeySet {
    const count = KeySet.#countStored(stored);
    let positions = 1024;
    while (count > positions * MAX_LOAD) positions *= 2;
    // The bytes become the arena as they are: the first key added after copies them into a larger one.
    const set = new KeySet(table === undefined ? positions : 1, 0);
    set.#arena = stored;
    set.#used = stored.length;
    if (table === undefined) {
      set.#indexStored();
    } else {
      // A table saved with these bytes ({@link storedTable}): putting a million keys back into a fresh one costs 250 ms or more of random writes.
      if (table.length < 4 || (table.length & (table.length - 1)) !== 0 || count > (table.length >> 1) * MAX_LOAD) throw new RangeError(`a stored table of ${table.length} entries cannot hold ${count} keys`);
      set.#table = table;
      set.#size = count;
    }
    return set;
  }

  /**
   * The table's bytes, not copied: saved beside the arena when no key can be
   * added any more (at close), so that {@link fromStored} need not rebuild it.
   */
  storedTable(): Buffer {
    return Buffer.from(this.#table.buffer, this.#table.byteOffset, this.#table.byteLength);
  }

  static #countStored(stored: Buffer): number {
    let count = 0;
    for (let offset = 0; offset < stored.length; count++) {
      const bytes = storedLength(stored, offset, stored.length);
      if (bytes === 0) throw new RangeError(`stored keys are cut or damaged at byte ${offset} of ${stored.length}`);
      offset += bytes;
    }
    return count;
  }

  /**
   * Puts every key of the arena into the (empty) table, skipping one equal
   * to a key already there. One loop over locals: through a method per key
   * it took 440 ms per million keys, against about 100 here.
   */
  #indexStored(): void {
    const arena = this.#arena;
    const table = this.#table;
    const mask = (table.length >> 1) - 1;
    const end = this.#used;
    let size = 0;
    for (let offset = 0; offset < end;) {
      const length = arena[offset]! | (arena[offset + 1]! << 8) | (arena[offset + 2]! << 16) | (arena[offset + 3]! << 24);
      const narrow = arena[offset + 4] === ONE_BYTE;
      const start = offset + HEADER;
      const stop = start + (narrow ? length : 2 * length);
      // Hashed here, not by storedHash: a call per key made rebuilding two million keys 1.3x slower.
      let h = FNV_START;
      if (narrow) for (let i = start; i < stop; i++) h = Math.imul(h ^ arena[i]!, FNV_PRIME);
      else for (let i = start; i < stop; i += 2) h = Math.imul(h ^ (arena[i]! | (arena[i + 1]! << 8)), FNV_PRIME);
      const hash = mixed(h);
      let at = hash & mask;
      let duplicate = false;
      for (let other = table[2 * at + 1]!; other !== 0; other = table[2 * at + 1]!) {
        if (table[2 * at] === hash && this.#sameStored(other - 1, offset)) {
          duplicate = true;
          break;
        }
        at = (at + 1) & mask;
      }
      if (!duplicate) {
        table[2 * at] = hash;
        table[2 * at + 1] = offset + 1;
        size++;
      }
      offset = stop;
    }
    this.#size = size;
  }

  /** Whether the arena holds the same key at offsets `a` and `b`. */
  #sameStored(a: number, b: number): boolean {
    const arena = this.#arena;
    const bytes = storedLength(arena, a, this.#arena.length);
    return bytes === storedLength(arena, b, this.#arena.length) && arena.compare(arena, b, b + bytes, a, a + bytes) === 0;
  }

  /**
   * How many bytes of the arena hold keys. The arena only grows, and its
   * bytes never change once written: the first N bytes at one moment are the
   * first N bytes at any later one, so a snapshot may write only what is new.
   */
  get storedBytes(): number {
    return this.#used;
  }

  /** The arena's bytes `[from, to)`, not copied: they never change (see {@link storedBytes}). */
  stored(from: number, to: number): Buffer {
    return this.#arena.subarray(from, to);
  }

  /** Every key, in the order added (an erasure picks out those to forget by a hash of each). */
  *keys(): Generator<string> {
    const arena = this.#arena;
    for (let offset = 0; offset < this.#used;) {
      const bytes = storedLength(arena, offset, this.#used);
      if (bytes === 0) return;
      const start = offset + HEADER;
      yield arena[offset + 4] === ONE_BYTE ? arena.toString('latin1', start, offset + bytes) : arena.toString('utf16le', start, offset + bytes);
      offset += bytes;
    }
  }

  has(key: string): boolean {
    return this.#table[2 * this.#position(key, hashOf(key)) + 1] !== 0;
  }

  /**
   * A new set of every key but those in `keys`: what an erasure leaves (the
   * arena only grows, so forgetting a key means copying the others). Keys
   * keep their order, so a snapshot of the new set is written whole.
   *
   * @example
   * ```ts
   * keys = keys.without(new Set(['order-1']));
   * ```
   */
  without(keys: ReadonlySet<string>): KeySet {
    const skipped = new Set<number>();
    for (const key of keys) {
      const at = this.#position(key, hashOf(key));
      const offset = this.#table[2 * at + 1]!;
      if (offset !== 0) skipped.add(offset - 1);
    }
    if (skipped.size === 0) return this;
    // A few keys go among millions: the stretches between them are copied whole.
    const cuts = [...skipped].sort((a, b) => a - b);
    const kept = Buffer.allocUnsafe(this.#used - cuts.reduce((n, at) => n + storedLength(this.#arena, at, this.#used), 0));
    let written = 0;
    let from = 0;
    for (const at of cuts) {
      written += this.#arena.copy(kept, written, from, at);
      from = at + storedLength(this.#arena, at, this.#used);
    }
    this.#arena.copy(kept, written, from, this.#used);
    return KeySet.fromStored(kept);
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

  /**
   * Adds every key of `other` that is not here, in `other`'s order, and
   * returns how many were added. Works on the stored bytes: no key
   * becomes a string, and each is hashed off its bytes in one pass, so a
   * history import's keys join the index at about the cost of
   * {@link fromStored} rather than of one {@link add} per key.
   *
   * @example
   * ```ts
   * const imported = new KeySet();
   * imported.add('order-9');
   * index.addAll(imported); // 1
   * ```
   */
  addAll(other: KeySet): number {
    if (other === this) return 0;
    const from = other.#arena;
    const end = other.#used;
    let positions = this.#table.length >> 1;
    while ((this.#size + other.#size) > positions * MAX_LOAD) positions *= 2;
    if (positions > this.#table.length >> 1) this.#growTo(positions);
    if (this.#used + end > this.#arena.length) this.#growArena(this.#used + end);
    let added = 0;
    for (let offset = 0; offset < end;) {
      const bytes = storedLength(from, offset, end);
      if (bytes === 0) throw new RangeError(`the keys to add are cut or damaged at byte ${offset} of ${end}`);
      if (this.#insertStored(from, offset, bytes)) added++;
      offset += bytes;
    }
    return added;
  }

  /** Copies the key stored at `offset` of `from` to this arena and table unless an equal key is here; the table has room. */
  #insertStored(from: Buffer, offset: number, bytes: number): boolean {
    const hash = storedHash(from, offset);
    const table = this.#table;
    const mask = (table.length >> 1) - 1;
    let at = hash & mask;
    for (let other = table[2 * at + 1]!; other !== 0; other = table[2 * at + 1]!) {
      const mine = other - 1;
      if (table[2 * at] === hash && storedLength(this.#arena, mine, this.#used) === bytes && this.#arena.compare(from, offset, offset + bytes, mine, mine + bytes) === 0) return false;
      at = (at + 1) & mask;
    }
    // Byte by byte: a call into Buffer.copy per key cost more than the whole probe.
    const arena = this.#arena;
    const to = this.#used - offset;
    for (let i = offset; i < offset + bytes; i++) arena[to + i] = from[i]!;
    table[2 * at] = hash;
    table[2 * at + 1] = this.#used + 1;
    this.#used += bytes;
    this.#size++;
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
    let length = Math.max(this.#arena.length * 2, 1 << 16);
    while (length < needed) length *= 2;
    const arena = Buffer.allocUnsafe(length);
    this.#arena.copy(arena, 0, 0, this.#used);
    this.#arena = arena;
  }

  /** Doubles the table, moving each key by its stored hash: no key is read or hashed again. */
  #grow(): void {
    this.#growTo(this.#table.length);
  }

  /** Moves every key to a table of `positions` (a power of two, larger than now) by its stored hash. */
  #growTo(positions: number): void {
    const old = this.#table;
    const table = new Float64Array(positions * 2);
    const mask = positions - 1;
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
