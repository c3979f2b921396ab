/**
 * Erasure in the cluster's archive (issue #31): every Parquet object of the
 * event type that holds events the predicate matches is written again
 * without them, under a new blob name (`….e<id>.parquet`), uploaded and
 * read back; the chain returned names the new objects (rows, SHA-256) in
 * place of the old ones. Nothing is deleted here: the old objects count
 * until a version naming the new ones is published, and go after it
 * (`cluster-erasure.ts`). A crash before the publish leaves new objects no
 * manifest names, which the sweep deletes; the erasure then runs again.
 *
 * The objects searched are the chain's and, as embedded searches its retired
 * files, those retention retired and has not deleted yet: they stay in the
 * object store (and nodes' copies) for the grace period. The key-only
 * objects retention keeps for good (`cluster-retention.ts`) are written
 * again without the erased events' keys: a key may be the erased value
 * itself, and a rule resumed from the archive must forget the keys as the
 * forget seal makes running rules do, so that a re-sent copy counts once.
 *
 * Values are bound as parameters, never spliced into the SQL.
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { copyWithout, filterSql, sqlIdentifier, sqlStringLiteral, type ErasurePredicate } from '../../definitions/index.ts';
import { keyHash } from './log-message.ts';
import type { PartitionArchive } from './partition-archive.ts';
import type { ArchivedRange, RetiredArchiveFile } from './shared-manifest.ts';

type ArchivedObject = ArchivedRange['files'][string];

/** What erasing one predicate from a chain did. */
export interface ErasedFromArchive {
  /** The chain with every object that held matching events replaced. */
  readonly chain: readonly ArchivedRange[];
  /** The retired list with every retired object and key-only object that held matching events (or their keys) replaced. */
  readonly retired: readonly RetiredArchiveFile[];
  readonly events: number;
  /** Objects written again (key-only objects aside). */
  readonly files: number;
  /** The blobs replaced (key-only objects included): deleted once a version naming the new ones is published. */
  readonly replaced: readonly string[];
  /** The {@link keyHash} of each idempotency key the erased events held (none for a type without a key). */
  readonly keyHashes: readonly string[];
}

/** The blob an object goes to once written again by erasure `id`: its name with any earlier erasure's mark replaced. */
export function erasedBlob(blob: string, id: string): string {
  return blob.replace(/(\.e[0-9a-z]+)?\.parquet$/, `.e${id}.parquet`);
}

/**
 * Writes again without the events `predicate` matches every object of its
 * type in `chain`, and every object of `retired` not deleted yet, that holds
 * any, and every key-only object of `retired` without those events' keys;
 * resolves with the chain and retired list naming the new objects and what
 * was taken out.
 *
 * @example
 * ```ts
 * const { chain: erased, events } = await eraseFromArchive(archive, connection, chain, retired, compileErasure(types, request), id);
 * ```
 */
export async function eraseFromArchive(
  archive: PartitionArchive, connection: DuckDBConnection, chain: readonly ArchivedRange[], retired: readonly RetiredArchiveFile[], predicate: ErasurePredicate, id: string,
): Promise<ErasedFromArchive> {
  const type = predicate.eventType.name;
  const { sql, params } = filterSql(predicate.where);
  const stored = retired.filter((r) => r.eventType === type && r.deletedAt === undefined);
  const objects = [...chain.flatMap((r) => (r.files[type] === undefined ? [] : [r.files[type]])), ...stored];
  const copies = new Map<string, ArchivedObject>();
  for (const f of objects) copies.set(await archive.copyOf(f), f);
  const matches = await matchesPerFile(connection, [...copies.keys()], sql, params);
  const matching = [...copies.keys()].filter((file) => (matches.get(file) ?? 0) > 0);
  const keys = await erasedKeys(connection, matching, predicate, sql, params);
  // Read before anything is written again: the key-only objects are filtered by the keys the matching events hold.
  const rekeyed = await withoutKeys(archive, connection, retired.filter((r) => r.eventType === type), matching, predicate, sql, params, id);
  const rewritten = new Map<string, ArchivedObject>();
  for (const [file, f] of copies) {
    if ((matches.get(file) ?? 0) > 0) rewritten.set(f.blob, await rewriteWithout(archive, connection, file, f, sql, params, id));
  }
  const erased = [...matches.values()].reduce((a, b) => a + b, 0);
  const swapped = chain.map((r) => {
    const next = r.files[type] === undefined ? undefined : rewritten.get(r.files[type].blob);
    return next === undefined ? r : { ...r, files: { ...r.files, [type]: next } };
  });
  const retiredNow = retired.map((r): RetiredArchiveFile => {
    const next = r.eventType === type && r.deletedAt === undefined ? rewritten.get(r.blob) : undefined;
    const keysNext = r.keys === undefined ? undefined : rekeyed.get(r.keys.blob);
    return next === undefined && keysNext === undefined ? r : { ...r, ...(next === undefined ? {} : { blob: next.blob, rows: next.rows, sha256: next.sha256 }), ...(keysNext === undefined ? {} : { keys: keysNext }) };
  });
  return {
    chain: swapped, retired: retiredNow, events: erased, files: rewritten.size, replaced: [...rewritten.keys(), ...rekeyed.keys()], keyHashes: keys.map(keyHash),
  };
}

/**
 * Writes again, under their erased names, the key-only objects of `retired`
 * (deleted or not: the keys stay for good) that hold a key of the events
 * `where` matches in `matching` (local copies of the objects, before any is
 * written again); resolves with the new key-only objects by the blob each
 * replaces. Nothing for a type without a key.
 */
async function withoutKeys(
  archive: PartitionArchive, connection: DuckDBConnection, retired: readonly RetiredArchiveFile[], matching: readonly string[], predicate: ErasurePredicate,
  where: string, params: readonly (string | boolean | number)[], id: string,
): Promise<Map<string, { blob: string; sha256: string }>> {
  const rekeyed = new Map<string, { blob: string; sha256: string }>();
  const key = predicate.eventType.idempotencyKey;
  const keyed = retired.flatMap((r) => (r.keys === undefined ? [] : [{ ...r.keys, rows: r.rows }]));
  if (key === undefined || matching.length === 0 || keyed.length === 0) return rekeyed;
  const column = sqlIdentifier(key.name);
  // The keys erased, by the same predicate and values (bound again), so that no key is spliced into the SQL either.
  const erasedKey = `${column} IN (SELECT ${column} FROM read_parquet([${matching.map(sqlStringLiteral).join(', ')}]) WHERE ${where})`;
  const copies = new Map<string, { blob: string; sha256: string }>();
  for (const k of keyed) copies.set(await archive.copyOf(k), k);
  const holding = await matchesPerFile(connection, [...copies.keys()], erasedKey, params);
  for (const [file, k] of copies) {
    if ((holding.get(file) ?? 0) === 0) continue;
    const blob = erasedBlob(k.blob, id);
    const target = archive.cachePath(blob);
    await mkdir(dirname(target), { recursive: true });
    await copyWithout(connection, file, target, erasedKey, params);
    rekeyed.set(k.blob, { blob, sha256: await archive.store(blob, target) });
  }
  return rekeyed;
}

/** The idempotency keys of the matching events in `files` (chain and retired objects), for a type that has a key: the forget seal names their hashes. */
async function erasedKeys(connection: DuckDBConnection, files: readonly string[], predicate: ErasurePredicate, where: string, params: readonly (string | boolean | number)[]): Promise<string[]> {
  const key = predicate.eventType.idempotencyKey;
  if (key === undefined || files.length === 0) return [];
  const prepared = await connection.prepare(`SELECT DISTINCT ${sqlIdentifier(key.name)} FROM read_parquet([${files.map(sqlStringLiteral).join(', ')}]) WHERE ${where}`);
  try {
    prepared.bind([...params]);
    return (await prepared.runAndReadAll()).getRows().map(([k]) => String(k ?? ''));
  } finally {
    prepared.destroySync();
  }
}

/** Per local file, how many of its events match: only files with any. */
async function matchesPerFile(connection: DuckDBConnection, files: readonly string[], where: string, params: readonly (string | boolean | number)[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (files.length === 0) return counts;
  const list = `[${files.map(sqlStringLiteral).join(', ')}]`;
  const prepared = await connection.prepare(`SELECT filename, count(*)::BIGINT FROM read_parquet(${list}, filename = true) WHERE ${where} GROUP BY filename`);
  try {
    prepared.bind([...params]);
    for (const [file, n] of (await prepared.runAndReadAll()).getRows()) counts.set(String(file), Number(n));
  } finally {
    prepared.destroySync();
  }
  return counts;
}

/** Writes `file` (a copy of `f`) again without the matching events, stores it under its erased name; resolves with the new object. */
async function rewriteWithout(
  archive: PartitionArchive, connection: DuckDBConnection, file: string, f: ArchivedObject, where: string, params: readonly (string | boolean | number)[], id: string,
): Promise<ArchivedObject> {
  const blob = erasedBlob(f.blob, id);
  const target = archive.cachePath(blob);
  await mkdir(dirname(target), { recursive: true });
  // Rows keep their order and offsets; an event whose field is null matches nothing and stays.
  const rows = await copyWithout(connection, file, target, where, params);
  // The latest event time stays: taking events out can only lower it, so the object retires no sooner than it should.
  return { blob, rows, sha256: await archive.store(blob, target), ...(f.maxTime === undefined ? {} : { maxTime: f.maxTime }) };
}

/**
 * The objects of `previous` that an erasure replaced in `ranges` (the same
 * range and type, now an object under an erased name): a node that adopts
 * `ranges` deletes its local copies of them.
 */
export function replacedBlobs(previous: readonly ArchivedRange[], ranges: readonly ArchivedRange[]): string[] {
  const now = new Map(ranges.map((r) => [`${r.partition}:${r.from}:${r.to}`, r]));
  return previous.flatMap((r) => Object.entries(r.files).flatMap(([type, f]) => {
    const next = now.get(`${r.partition}:${r.from}:${r.to}`)?.files[type];
    return next !== undefined && next.blob !== f.blob && /\.e[0-9a-z]+\.parquet$/.test(next.blob) ? [f.blob] : [];
  }));
}
