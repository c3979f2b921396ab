/**
 * Erasure in the master dataset (issue #31): every Parquet file of the event
 * type that holds events the predicate matches is written again without
 * them, under a new name, and its segment manifest then names the new file
 * (with its rows and SHA-256) before the old one is deleted. A crash at any
 * point leaves a manifest naming a whole file: before the manifest, the old
 * file still counts and the erasure runs again; after it, the old file is
 * one that {@link sweepErased} deletes when the erasure runs again.
 *
 * The files of the type are the segments' own, their history imports', and
 * retired files still waiting for deletion (`retention.ts`).
 *
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { copyWithout, filterSql, sqlIdentifier, sqlStringLiteral, type ErasurePredicate } from '../definitions/index.ts';
import { fileSha256 } from '../util/checksums.ts';
import { syncDirectory } from '../util/sync-directory.ts';
import { writeSegmentManifest } from './master-integrity.ts';
import { manifestFiles, type MasterFile, type SegmentManifest } from './master-layout.ts';

/** What one erasure took out of the master dataset. */
export interface ErasedFromMaster {
  readonly events: number;
  /** Files written again without the erased events. */
  readonly files: number;
  /** The idempotency keys the erased events held (none for a type without a key): the key index forgets them. */
  readonly keys: readonly string[];
}

/** Where a file goes once written again by erasure `id`: its name with any earlier erasure's mark replaced. */
export function erasedPath(path: string, id: string): string {
  return join(dirname(path), `${rangeOf(path)}.erased-${id}.parquet`);
}

/** The offset range a master file's name starts with (`<first>-<end>`), whatever erasure marked it. */
function rangeOf(path: string): string {
  return basename(path).replace(/(\.erased-[0-9a-z]+)?\.parquet$/, '');
}

/** Every file of `eventType` a manifest names (own, history, retired but not deleted), as the manifest holds it. */
function filesOf(manifest: SegmentManifest, eventType: string): MasterFile[] {
  const read = manifestFiles(manifest).filter((f) => f.eventType === eventType).map((f) => f.file);
  return [...read, ...(manifest.retired ?? []).filter((r) => r.eventType === eventType && r.deletedAt === undefined)];
}

/** `manifest` with each file in `replaced` (by old path) swapped for its new form, and the events erased added up. */
function withReplaced(manifest: SegmentManifest, replaced: ReadonlyMap<string, MasterFile>, erased: number): SegmentManifest {
  const swap = <T extends MasterFile>(f: T): T => {
    const next = replaced.get(f.path);
    return next === undefined ? f : { ...f, path: next.path, rows: next.rows, sha256: next.sha256 };
  };
  return {
    ...manifest,
    files: Object.fromEntries(Object.entries(manifest.files).map(([type, f]) => [type, swap(f)])),
    ...(manifest.history === undefined ? {} : { history: manifest.history.map((h) => ({ ...h, files: h.files.map(swap) })) }),
    ...(manifest.retired === undefined ? {} : { retired: manifest.retired.map(swap) }),
    erased: (manifest.erased ?? 0) + erased,
  };
}

/**
 * Erases the events `predicate` matches from every file of its type that
 * `segments` name, telling `onFound` what it found (events, files, keys)
 * before any file changes; resolves with the segments as they are now (their
 * manifests written) and what was taken out.
 */
export async function eraseFromMaster(
  connection: DuckDBConnection, masterDir: string, segments: readonly SegmentManifest[], predicate: ErasurePredicate, id: string,
  onFound: (found: ErasedFromMaster) => Promise<void>,
): Promise<{ segments: SegmentManifest[]; erased: ErasedFromMaster }> {
  const type = predicate.eventType.name;
  const { sql, params } = filterSql(predicate.where);
  const matches = await matchesPerFile(connection, masterDir, segments.flatMap((s) => filesOf(s, type)), sql, params);
  const keys = matches.size === 0 ? [] : await erasedKeys(connection, masterDir, [...matches.keys()], predicate, sql, params);
  // Recorded before any file changes: once the files are written again, only this record still says which keys to forget, and how many events went.
  await onFound({ events: [...matches.values()].reduce((a, b) => a + b, 0), files: matches.size, keys });
  const result: SegmentManifest[] = [];
  let events = 0;
  let files = 0;
  for (const segment of segments) {
    const due = filesOf(segment, type).filter((f) => matches.has(f.path));
    if (due.length === 0) {
      result.push(segment);
      continue;
    }
    const replaced = new Map<string, MasterFile>();
    for (const file of due) replaced.set(file.path, await rewriteWithout(connection, masterDir, file, sql, params, id));
    const erased = due.reduce((n, f) => n + matches.get(f.path)!, 0);
    const updated = withReplaced(segment, replaced, erased);
    await writeSegmentManifest(masterDir, updated);
    for (const file of due) await rm(join(masterDir, file.path), { force: true });
    result.push(updated);
    events += erased;
    files += due.length;
  }
  await sweepErased(masterDir, result);
  return { segments: result, erased: { events, files, keys } };
}

/** Per file (by its path in the manifest), how many of its events match: only files with any. */
async function matchesPerFile(
  connection: DuckDBConnection, masterDir: string, files: readonly MasterFile[], where: string, params: readonly (string | boolean | number)[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (files.length === 0) return counts;
  const byPath = new Map(files.map((f) => [join(masterDir, f.path), f.path]));
  const list = `[${[...byPath.keys()].map(sqlStringLiteral).join(', ')}]`;
  const prepared = await connection.prepare(`SELECT filename, count(*)::BIGINT FROM read_parquet(${list}, filename = true) WHERE ${where} GROUP BY filename`);
  try {
    prepared.bind([...params]);
    for (const [file, n] of (await prepared.runAndReadAll()).getRows()) counts.set(byPath.get(String(file))!, Number(n));
  } finally {
    prepared.destroySync();
  }
  return counts;
}

/** The idempotency keys of the matching events, for a type that has a key. */
async function erasedKeys(
  connection: DuckDBConnection, masterDir: string, paths: readonly string[], predicate: ErasurePredicate, where: string, params: readonly (string | boolean | number)[],
): Promise<string[]> {
  const key = predicate.eventType.idempotencyKey;
  if (key === undefined) return [];
  const list = `[${paths.map((p) => sqlStringLiteral(join(masterDir, p))).join(', ')}]`;
  const prepared = await connection.prepare(`SELECT DISTINCT ${sqlIdentifier(key.name)} FROM read_parquet(${list}) WHERE ${where}`);
  try {
    prepared.bind([...params]);
    return (await prepared.runAndReadAll()).getRows().map(([k]) => String(k));
  } finally {
    prepared.destroySync();
  }
}

/** Writes `file` again without the matching events, under its erased name; resolves with the new file's entry. */
async function rewriteWithout(
  connection: DuckDBConnection, masterDir: string, file: MasterFile, where: string, params: readonly (string | boolean | number)[], id: string,
): Promise<MasterFile> {
  const path = erasedPath(file.path, id);
  const target = join(masterDir, path);
  const rows = await copyWithout(connection, join(masterDir, file.path), `${target}.tmp`, where, params);
  await rename(`${target}.tmp`, target);
  await syncDirectory(dirname(target));
  return { path, rows, sha256: await fileSha256(target) };
}

/**
 * Deletes every other file of the same range beside a file an erasure wrote:
 * the one it replaced, when a crash came between the manifest and the
 * delete, and any a crash left half done before the manifest.
 */
export async function sweepErased(masterDir: string, segments: readonly SegmentManifest[]): Promise<void> {
  const named = new Set(segments.flatMap((s) => [...manifestFiles(s).map((f) => f.file), ...(s.retired ?? [])].map((f) => f.path)));
  // Per directory, the ranges an erasure rewrote: their other files are copies the manifests no longer name.
  const rewritten = new Map<string, Set<string>>();
  for (const path of named) if (path.includes('.erased-')) rewritten.set(dirname(path), (rewritten.get(dirname(path)) ?? new Set()).add(rangeOf(path)));
  for (const [dir, ranges] of rewritten) {
    for (const name of await readdir(join(masterDir, dir)).catch(() => [] as string[])) {
      const path = join(dir, name);
      if (name.endsWith('.parquet') && !named.has(path) && ranges.has(rangeOf(path))) await rm(join(masterDir, path), { force: true });
    }
  }
}
