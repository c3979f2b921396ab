/**
 * The checks every part of a config shares. Each throws an
 * {@link InvalidDefinitionError} whose path points at the value at fault.
 *
 * @module
 */
import { InvalidDefinitionError } from './errors.ts';

export function invalid(path: string, message: string): never {
  throw new InvalidDefinitionError(path, message);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted, so that reordering keys in a config file changes no hash and no comparison. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (isRecord(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v));
}

export function record(path: string, value: unknown): Record<string, unknown> {
  if (!isRecord(value)) invalid(path, `${path} must be an object.`);
  return value;
}

export function list(path: string, value: unknown): readonly unknown[] {
  if (!Array.isArray(value)) invalid(path, `${path} must be an array.`);
  return value;
}

export function onlyKeys(path: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) invalid(`${path}.${key}`, `${path} has unknown key '${key}'; allowed keys are ${allowed.join(', ')}.`);
  }
}

export function oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    invalid(path, `${path} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}.`);
  }
  return value as T;
}
