import { DuckDBDecimalValue, type DuckDBValue } from '@duckdb/node-api';
import type { SqlScalar, Value } from '../definitions/index.ts';

/** Unwraps a DuckDB value into a plain scalar: a DECIMAL becomes its scaled integer, exactly. */
export function toSqlScalar(value: DuckDBValue): SqlScalar {
  if (value instanceof DuckDBDecimalValue) return value.value;
  if (value === null || typeof value === 'bigint' || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    return value;
  }
  throw new TypeError(`Unexpected DuckDB value of type ${value.constructor.name}.`);
}

/** A dimension value read from a batch view, in the same normalized form the speed layer uses. */
export function toDimensionValue(value: DuckDBValue): Value {
  const scalar = toSqlScalar(value);
  return typeof scalar === 'bigint' ? Number(scalar) : scalar;
}
