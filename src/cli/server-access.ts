/**
 * Who may use a server the CLI starts: API keys from the config and from
 * `TANDEM_API_KEYS`, and the rule that a server without keys stays on the
 * loopback interface unless the user says otherwise.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
// Not the definitions' index: main.ts loads this module for --help, and the index loads every measure.
import { TandemError } from '../definitions/errors.ts';
import { compileApiKeys, keyDigest, type ApiKey, type ApiScope } from '../definitions/server-config.ts';
import { CliError } from './cli-error.ts';

/** The environment variable holding extra API keys, as a JSON array shaped like the config's `server.apiKeys`. */
export const API_KEYS_VARIABLE = 'TANDEM_API_KEYS';

/** Keys from `TANDEM_API_KEYS`, or none when it is unset. */
export function environmentApiKeys(env: NodeJS.ProcessEnv = process.env): ApiKey[] {
  const text = env[API_KEYS_VARIABLE];
  if (text === undefined || text.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${API_KEYS_VARIABLE} must be a JSON array such as [{"name":"loader","scopes":["ingest"],"sha256":"..."}].`);
  }
  try {
    return compileApiKeys(API_KEYS_VARIABLE, parsed);
  } catch (error) {
    if (error instanceof TandemError) throw new CliError(error.message);
    throw error;
  }
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  if (bare.startsWith('::ffff:')) return isLoopback(bare.slice('::ffff:'.length));
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/** Refuses to expose a keyless server beyond this machine unless told to with `--allow-unauthenticated`. */
export function checkBindSafety(host: string, keys: readonly ApiKey[], allowUnauthenticated: boolean): void {
  if (keys.length > 0 || allowUnauthenticated || isLoopback(host)) return;
  throw new CliError(
    `Refusing to listen on ${host} without API keys, since anyone who can reach it could write and read data; `
    + `add keys (server.apiKeys in the config or ${API_KEYS_VARIABLE}; 'tandem keygen' makes one) or pass --allow-unauthenticated.`,
  );
}

/** A new random key: 32 characters, 192 bits. */
export function generateKey(): string {
  return `tdk_${randomBytes(21).toString('base64url')}`;
}

/** A fresh key with `scopes`, for use inside this process only (the demo's own traffic). */
export function internalKey(name: string, scopes: readonly ApiScope[]): { readonly secret: string; readonly key: ApiKey } {
  const secret = generateKey();
  return { secret, key: { name, scopes: new Set(scopes), digest: keyDigest(secret) } };
}
