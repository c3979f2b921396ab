/**
 * A view's filter, compiled twice from one definition: a JavaScript predicate
 * for the speed layer and a SQL condition with bound parameters for the batch
 * layer. A null value fails every condition, as it does in SQL.
 *
 * @module
 */
import type { ComparisonOp } from './definition-types.ts';
import type { Field } from './field.ts';
import { sqlIdentifier } from './names.ts';
import { decimalString } from './scaled-number.ts';
import type { Value } from './value.ts';

export type FilterOp = ComparisonOp | 'in';

export interface CompiledFilter {
  readonly field: Field;
  readonly op: FilterOp;
  /** Normalized operand(s). */
  readonly values: readonly Value[];
  /** Whether an event whose field holds `value` passes. */
  readonly test: (value: Value) => boolean;
}

type Comparable = string | number | boolean;

const COMPARE: Record<ComparisonOp, (a: Comparable, b: Comparable) => boolean> = {
  '=': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

export function compileFilter(field: Field, op: FilterOp, values: readonly Value[]): CompiledFilter {
  let test: (value: Value) => boolean;
  if (op === 'in') {
    const set = new Set(values);
    test = (value) => value !== null && set.has(value);
  } else {
    const compare = COMPARE[op];
    const operand = values[0] as Comparable;
    test = (value) => value !== null && compare(value, operand);
  }
  return Object.freeze({ field, op, values, test });
}

/** A SQL value for a bound parameter: the column's own type, so comparisons are exact. */
export function sqlParameter(field: Field, value: Value): { readonly sql: string; readonly value: string | boolean | number } {
  switch (field.type) {
    case 'number':
      return { sql: `CAST(? AS DECIMAL(18, ${field.scale}))`, value: decimalString(BigInt(value as number), field.scale) };
    case 'timestamp':
      return { sql: 'epoch_ms(CAST(? AS BIGINT))', value: String(value) };
    case 'boolean':
      return { sql: 'CAST(? AS BOOLEAN)', value: value as boolean };
    case 'string':
      return { sql: 'CAST(? AS VARCHAR)', value: value as string };
  }
}

/** The filter as a SQL condition over the master dataset's columns, with its parameters in order. */
export function filterSql(filters: readonly CompiledFilter[]): { readonly sql: string; readonly params: readonly (string | boolean | number)[] } {
  const clauses: string[] = [];
  const params: (string | boolean | number)[] = [];
  for (const f of filters) {
    const column = sqlIdentifier(f.field.name);
    const operands = f.values.map((v) => sqlParameter(f.field, v));
    params.push(...operands.map((o) => o.value));
    clauses.push(
      f.op === 'in'
        ? `${column} IN (${operands.map((o) => o.sql).join(', ')})`
        : `${column} ${f.op === '!=' ? '<>' : f.op} ${operands[0]!.sql}`,
    );
  }
  return { sql: clauses.length === 0 ? 'TRUE' : clauses.join(' AND '), params };
}
