/**
 * Turns flag values (always text) into numbers, with one-line errors that
 * name the flag.
 *
 * @module
 */
import { CliError } from './cli-error.ts';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `30s`, `5m`, `1h` (or a bare number of seconds) into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null || Number(m[1]) <= 0) throw new CliError(`${flag} must be a positive duration such as 500ms, 30s, 5m or 1h, not '${text}'.`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!);
}

/** Parses a TCP port. */
export function parsePort(text: string, flag = '--port'): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`${flag} must be an integer from 0 to 65535, not '${text}'.`);
  return port;
}

export function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} must be a positive integer, not '${text}'.`);
  return n;
}

export function nonNegativeInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${flag} must be zero or a positive integer, not '${text}'.`);
  return n;
}
