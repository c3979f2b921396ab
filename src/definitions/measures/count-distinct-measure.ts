import { BOOLEAN_NULL } from '../event-columns.ts';
import { exactLimit, HyperLogLog } from './hyperloglog.ts';
import type { Measure } from './measure.ts';
import { ObjectColumn, type ObjectState } from './object-column.ts';
import { md5Lower64, type Hash64 } from './value-hash.ts';

/** The text DuckDB's `CAST(value AS VARCHAR)` gives a normalized value: what both layers hash. */
function textAt(column: unknown, i: number): string {
  if (Array.isArray(column)) return column[i] as string;
  if (column instanceof Uint8Array) return column[i] === 1 ? 'true' : 'false';
  return String((column as Float64Array)[i]);
}

function isNullAt(column: unknown, i: number): boolean {
  if (Array.isArray(column)) return column[i] === null || column[i] === undefined;
  if (column instanceof Uint8Array) return column[i] === BOOLEAN_NULL;
  return Number.isNaN((column as Float64Array)[i]);
}

/** One hash buffer for the whole process: hashing allocates nothing. */
const scratch: Hash64 = { lo: 0, hi: 0 };

function sketchKind(precision: number): ObjectState<HyperLogLog> {
  return {
    create: () => new HyperLogLog(precision),
    merge: (into, from) => into.merge(from),
    clone: (state) => state.clone(),
    addAt: (state, column, i) => state.addHash(md5Lower64(textAt(column, i), scratch)),
    isNull: isNullAt,
    bytes: (state) => state.bytes,
  };
}

/**
 * `countDistinct`: the number of distinct values of a field, exact below
 * `2^precision / 8` distinct values per key and a HyperLogLog estimate above
 * (see `hyperloglog.ts`). In SQL the hash is `md5_number_lower` of the
 * value's text (see `value-hash.ts`), so the batch layer builds, from
 * DuckDB's hashes, the very states the speed layer builds.
 */
export function countDistinctMeasure(precision: number): Measure<HyperLogLog> {
  const kind = sketchKind(precision);
  const m = 2 ** precision;
  // The sentinel bit above the 64 - p bits that rho is counted in; a literal from the definitions, never request text.
  const sentinel = (1n << BigInt(64 - precision)).toString();
  return {
    type: 'countDistinct',
    empty: () => new HyperLogLog(precision),
    add: (state, value) => {
      if (value !== null) state.addHash(md5Lower64(String(value), scratch));
      return state;
    },
    merge: (into, from) => {
      into.merge(from);
      return into;
    },
    result: (state) => state.estimate(),
    stateResult: (state) => ({ type: 'countDistinct', format: 1, precision, state: Buffer.from(state.encode()).toString('base64') }),
    encode: (state) => Buffer.from(state.encode()).toString('base64'),
    decode: (encoded) => HyperLogLog.decode(Buffer.from(String(encoded), 'base64')),
    sql: (input) => ({
      // Grouped by value first: each distinct value of a key is hashed once, not once per row.
      subKeys: [input],
      partials: [],
      states: (_, [value]) => {
        const hash = `md5_number_lower(CAST(${value} AS VARCHAR))`;
        // The register and its rho: the low p bits, and the trailing zeros of the rest with a sentinel bit above it.
        const w = `((${hash} >> ${precision}) | CAST('${sentinel}' AS UBIGINT))`;
        const packed = `((${hash} & ${m - 1}) * 64 + bit_count(xor(${w}, ${w} - 1)))`;
        const distinct = `count(DISTINCT ${value})`;
        return [
          `CASE WHEN ${distinct} <= ${exactLimit(precision)} THEN string_agg(concat(${hash} >> 32, ':', ${hash} & 4294967295), ',') FILTER (WHERE ${value} IS NOT NULL) END`,
          `CASE WHEN ${distinct} > ${exactLimit(precision)} THEN string_agg(DISTINCT CAST(${packed} AS VARCHAR), ',') END`,
        ];
      },
    }),
    fromSql: ([exact, packed]) => HyperLogLog.fromSql(precision, (exact ?? null) as string | null, (packed ?? null) as string | null),
    column: () => new ObjectColumn(kind),
  };
}
