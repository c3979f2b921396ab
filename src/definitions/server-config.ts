/**
 * The config's optional `server` section: API keys with scopes, and limits on
 * what one request may ask. It lives beside the definitions so one file (or
 * one `defineConfig`) describes a whole deployment, and is checked with the
 * same path-naming errors.
 *
 * Keys are kept only as SHA-256 digests: a config may hold the digest alone
 * (`sha256`), so the secret need not sit in a file, and the server compares
 * digests of equal length in constant time.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { invalid, list, oneOf, onlyKeys, record } from './config-checks.ts';

/** What a key may do: send events; query views; run batches and read status and metrics. */
export const API_SCOPES = ['ingest', 'query', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** One API key as written in the config or in `TANDEM_API_KEYS`. Give `key` (the secret) or `sha256` (its digest, hex). */
export interface ApiKeyJson {
  readonly name: string;
  readonly scopes: readonly ApiScope[];
  readonly key?: string;
  readonly sha256?: string;
}

/** Limits on one request; each has a default (see {@link DEFAULT_LIMITS}). */
export interface ServerLimitsJson {
  readonly bodyBytes?: number;
  readonly lineBytes?: number;
  readonly eventsPerRequest?: number;
  readonly queryRows?: number;
  readonly queryTimeoutMs?: number;
  /** The largest history file `POST /v1/history/{eventType}` takes, in bytes: it is streamed to the data directory's disk, never held in memory. */
  readonly historyBytes?: number;
}

/** The `server` section of a config. */
export interface ServerConfigJson {
  readonly apiKeys?: readonly ApiKeyJson[];
  readonly limits?: ServerLimitsJson;
}

/** A compiled key: its name (for logs) and scopes, and the digest of its secret. */
export interface ApiKey {
  readonly name: string;
  readonly scopes: ReadonlySet<ApiScope>;
  readonly digest: Buffer;
}

export type ServerLimits = Required<ServerLimitsJson>;

export interface ServerSettings {
  readonly apiKeys: readonly ApiKey[];
  readonly limits: ServerLimits;
}

/** Generous for real batches, small enough that one request cannot take the process's memory. */
export const DEFAULT_LIMITS: ServerLimits = {
  bodyBytes: 16 * 1024 * 1024,
  lineBytes: 1024 * 1024,
  eventsPerRequest: 100_000,
  queryRows: 100_000,
  queryTimeoutMs: 10_000,
  // A year of a busy event type as Parquet; the file goes to disk as it arrives, so this bounds disk, not memory.
  historyBytes: 10 * 2 ** 30,
};

/** Shorter secrets are guessable; 16 characters of a random alphabet are not. */
const MIN_KEY_LENGTH = 16;

/** The SHA-256 digest of a key, as the config's `sha256` holds it in hex. */
export function keyDigest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

function compileApiKey(path: string, input: unknown): ApiKey {
  const obj = record(path, input);
  onlyKeys(path, obj, ['name', 'scopes', 'key', 'sha256']);
  if (typeof obj.name !== 'string' || obj.name.length === 0 || obj.name.length > 64) invalid(`${path}.name`, `${path}.name must be a name of 1 to 64 characters.`);
  const scopes = list(`${path}.scopes`, obj.scopes).map((s, i) => oneOf(`${path}.scopes[${i}]`, s, API_SCOPES));
  if (scopes.length === 0) invalid(`${path}.scopes`, `${path}.scopes must name at least one of ${API_SCOPES.join(', ')}.`);
  if ((obj.key === undefined) === (obj.sha256 === undefined)) invalid(path, `${path} must have either 'key' (the secret) or 'sha256' (its digest), not both or neither.`);
  let digest: Buffer;
  if (obj.key !== undefined) {
    if (typeof obj.key !== 'string' || obj.key.length < MIN_KEY_LENGTH) invalid(`${path}.key`, `${path}.key must be a string of at least ${MIN_KEY_LENGTH} characters; 'tandem keygen' makes one.`);
    digest = keyDigest(obj.key);
  } else {
    if (typeof obj.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(obj.sha256)) invalid(`${path}.sha256`, `${path}.sha256 must be 64 hexadecimal digits, the SHA-256 digest of the key.`);
    digest = Buffer.from(obj.sha256, 'hex');
  }
  return Object.freeze({ name: obj.name, scopes: new Set(scopes), digest });
}

/**
 * Checks a list of API keys (the config's `server.apiKeys`, or the parsed
 * `TANDEM_API_KEYS`); `path` prefixes every error.
 */
export function compileApiKeys(path: string, input: unknown): ApiKey[] {
  const keys = list(path, input).map((k, i) => compileApiKey(`${path}[${i}]`, k));
  const names = new Set<string>();
  keys.forEach((k, i) => {
    if (names.has(k.name)) invalid(`${path}[${i}].name`, `${path}[${i}].name '${k.name}' is used by another key; key names must be unique.`);
    names.add(k.name);
  });
  return keys;
}

function compileLimits(path: string, input: unknown): ServerLimits {
  if (input === undefined) return DEFAULT_LIMITS;
  const obj = record(path, input);
  const names = Object.keys(DEFAULT_LIMITS) as (keyof ServerLimits)[];
  onlyKeys(path, obj, names);
  const limits = { ...DEFAULT_LIMITS };
  for (const name of names) {
    const value = obj[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) invalid(`${path}.${name}`, `${path}.${name} must be a positive integer.`);
    limits[name] = value;
  }
  return Object.freeze(limits);
}

/**
 * Checks the config's `server` section; an absent section means no keys and
 * the default limits.
 *
 * @example
 * ```ts
 * const settings = compileServerConfig({ apiKeys: [{ name: 'loader', scopes: ['ingest'], sha256: '9f86…' }], limits: { queryRows: 10_000 } });
 * settings.limits.queryTimeoutMs; // 10000, the default
 * ```
 */
export function compileServerConfig(input: unknown): ServerSettings {
  if (input === undefined) return { apiKeys: [], limits: DEFAULT_LIMITS };
  const obj = record('server', input);
  onlyKeys('server', obj, ['apiKeys', 'limits']);
  const apiKeys = obj.apiKeys === undefined ? [] : compileApiKeys('server.apiKeys', obj.apiKeys);
  return { apiKeys, limits: compileLimits('server.limits', obj.limits) };
}
