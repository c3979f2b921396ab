/**
 * One engine per data directory. Two processes appending to the same log
 * would assign the same offsets and overwrite each other's frames, so the
 * engine holds `LOCK` while open.
 *
 * The file names the process instance that holds it, as one JSON line:
 * `{"pid", "started", "boot", "host", "token"}`: the pid; on Linux the
 * process's start time (`/proc/<pid>/stat` field 22, clock ticks after boot)
 * and the boot id (`/proc/sys/kernel/random/boot_id`), null elsewhere; the
 * host name (shown to people, not compared: the directory is on local disk,
 * and a container's host name changes between runs); and a random token.
 *
 * A lock left by a process that died (kill -9, power loss) is taken over.
 * It is stale when no process has its pid, when it was written during an
 * earlier boot, or when the process that has its pid now started at another
 * time (the pid was reused). A LOCK of older versions, a pid alone, is still
 * read: its process counts as the holder unless it provably started after
 * the file was written. Where the start time cannot be read (not Linux), a
 * live pid counts as the holder.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { dataDirectory } from '../util/data-directory.ts';
import { DataDirectoryLockedError } from './errors.ts';

/** Who holds a lock, as its LOCK file says. Fields an old LOCK lacks are null. */
export interface LockHolder {
  readonly pid: number;
  /** Linux: the process's start time in clock ticks after boot, as text. */
  readonly started: string | null;
  /** Linux: the boot id of the boot during which the lock was taken. */
  readonly boot: string | null;
  readonly host: string | null;
  readonly token: string | null;
}

/** Tokens of locks held, or being taken, by engines in this process: a LOCK with our own pid is live only with one of these. */
const heldHere = new Set<string>();

/** Clock ticks per second of `/proc/<pid>/stat` times: USER_HZ, 100 on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;
/** How much later than its LOCK's last change a process must have started to count as provably not its writer (clock granularity). */
const START_MARGIN_MS = 2_000;
/** Rounds of create, read and take over before giving up: in each, another process won a race or held a takeover. */
const ATTEMPTS = 100;
/** How long a takeover claim may stand before its taker counts as dead (a takeover takes milliseconds); tests shorten it. */
export const lockTiming = { claimTimeoutMs: 10_000 };
/** Error codes of a file system without hard links. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

export class DataDirLock {
  private constructor(private readonly path: string, private readonly token: string) {}

  static async acquire(dataDir: string): Promise<DataDirLock> {
    const path = resolve(dataDirectory(dataDir).lockFile);
    const me = await ownHolder();
    const token = me.token!;
    const text = `${JSON.stringify(me)}\n`;
    heldHere.add(token);
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        if (await create(path, text, token)) return new DataDirLock(path, token);
        const found = await readLock(path);
        if (found === undefined) continue; // released between our try and our read
        const holder = parseLock(found.text);
        if (holder !== null && await isAlive(holder, found.changedMs)) throw new DataDirectoryLockedError(dataDir, holder.pid);
        await removeStale(path, found.text, token);
      }
      throw new DataDirectoryLockedError(dataDir, null);
    } catch (error) {
      heldHere.delete(token);
      throw error;
    }
  }

  /** Removes the LOCK, if it is still this lock's (never one another process took over). */
  async release(): Promise<void> {
    heldHere.delete(this.token);
    const found = await readLock(this.path).catch(() => undefined);
    if (found !== undefined && parseLock(found.text)?.token === this.token) await unlink(this.path).catch(() => undefined);
  }
}

/**
 * Reads a LOCK's text: a JSON holder, or (older versions) a pid alone.
 * Returns null for anything else (an empty or damaged file), which is stale.
 */
export function parseLock(text: string): LockHolder | null {
  const trimmed = text.trim();
  if (/^\d{1,10}$/.test(trimmed)) return validPid(Number(trimmed)) ? { pid: Number(trimmed), started: null, boot: null, host: null, token: null } : null;
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null || !validPid((json as { pid?: unknown }).pid)) return null;
  const record = json as Record<string, unknown>;
  const field = (key: string): string | null => (typeof record[key] === 'string' ? record[key] : null);
  return { pid: record.pid as number, started: field('started'), boot: field('boot'), host: field('host'), token: field('token') };
}

function validPid(pid: unknown): pid is number {
  return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0;
}

/** This process as a lock holder, with a fresh token. */
async function ownHolder(): Promise<LockHolder> {
  return {
    pid: process.pid, started: await processStartTicks(process.pid), boot: await bootId(), host: hostname(), token: randomBytes(16).toString('hex'),
  };
}

/**
 * A process's start time in clock ticks after boot (`/proc/<pid>/stat` field
 * 22), or null where it cannot be read. Two processes that had the same pid
 * one after the other have different start times.
 */
export async function processStartTicks(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat === null ? null : startTicksOf(stat);
}

/** Field 22 of a `/proc/<pid>/stat` line. Field 2, the command name, is in parentheses and may hold spaces and parentheses itself, so fields are counted after the last `)`. */
export function startTicksOf(stat: string): string | null {
  const end = stat.lastIndexOf(')');
  if (end === -1) return null;
  const ticks = stat.slice(end + 1).trim().split(/\s+/)[22 - 3];
  return ticks !== undefined && /^\d+$/.test(ticks) ? ticks : null;
}

async function bootId(): Promise<string | null> {
  const id = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => null);
  return id === null || id.trim() === '' ? null : id.trim();
}

/** When this boot began, in epoch ms (`btime` in `/proc/stat`), or null. */
async function bootTimeMs(): Promise<number | null> {
  const stat = await readFile('/proc/stat', 'utf8').catch(() => null);
  const match = stat === null ? null : /^btime (\d+)$/m.exec(stat);
  return match === null ? null : Number(match[1]) * 1000;
}

/**
 * Creates the LOCK with its content in one step: written to a file of its
 * own, then linked to `LOCK`, which fails if one exists. So nobody ever reads
 * a LOCK that is still empty and takes it for a stale one. Where the file
 * system has no hard links, the LOCK is created exclusively and then written.
 */
async function create(path: string, text: string, token: string): Promise<boolean> {
  const staged = `${path}.${token}.new`;
  // Not fsync'd: a LOCK that loses its content in a power cut is unreadable, hence stale, and its holder is gone anyway.
  await writeFile(staged, text);
  try {
    await link(staged, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(code ?? '')) throw error;
    return await createExclusively(path, text);
  } finally {
    await unlink(staged).catch(() => undefined);
  }
}

async function createExclusively(path: string, text: string): Promise<boolean> {
  try {
    const file = await open(path, 'wx');
    try {
      await file.writeFile(text);
    } finally {
      await file.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** A LOCK's text and when it last changed, or undefined when there is none. */
async function readLock(path: string): Promise<{ text: string; changedMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { text, changedMs: info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Removes a stale LOCK, but only the one judged stale, even when several
 * processes judge it at once. A taker first claims that LOCK: it links it
 * under a name made from its content, which fails if another process holds
 * the claim. Holding the claim, it checks that the file it linked is the
 * stale one and only then removes the LOCK; nobody else can remove that LOCK
 * meanwhile (they would need the claim), and nobody can create one while it
 * exists. Then it drops the claim, and everyone races to create the LOCK,
 * which only one wins.
 */
async function removeStale(path: string, staleText: string, token: string): Promise<void> {
  const claim = `${path}.${createHash('sha256').update(staleText).digest('hex').slice(0, 16)}.takeover`;
  try {
    await link(path, claim);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOENT') return; // already taken over: the caller tries again
    if (code === 'EEXIST') return await awaitClaim(claim);
    if (NO_HARD_LINKS.has(code)) return await removeStaleByRename(path, staleText, token);
    throw error;
  }
  try {
    if (await readFile(claim, 'utf8').catch(() => null) === staleText) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(claim).catch(() => undefined);
  }
}

/** Another process holds the claim on this LOCK: let it finish, or drop its claim if it died holding it. */
async function awaitClaim(claim: string): Promise<void> {
  const claimed = await stat(claim).then((info) => info.ctimeMs, () => null);
  if (claimed !== null && Date.now() - claimed > lockTiming.claimTimeoutMs) await unlink(claim).catch(() => undefined);
  else await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
}

/**
 * Without hard links: the LOCK is renamed aside (one step, so two processes
 * cannot both remove it), and if what was renamed is a newer LOCK that
 * another process wrote meanwhile, it is put back.
 */
async function removeStaleByRename(path: string, staleText: string, token: string): Promise<void> {
  const aside = `${path}.${token}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (await readFile(aside, 'utf8').catch(() => null) === staleText) {
    await unlink(aside).catch(() => undefined);
    return;
  }
  await rename(aside, path).catch(() => unlink(aside).catch(() => undefined));
}

/** Whether the holder a LOCK names is still running. */
async function isAlive(holder: LockHolder, lockChangedMs: number): Promise<boolean> {
  const boot = await bootId();
  // Written during an earlier boot: every process of that boot is gone.
  if (holder.boot !== null && boot !== null && holder.boot !== boot) return false;
  if (holder.pid === process.pid) {
    // Our pid: this process if an engine here holds the token; else a process before us had the pid.
    return holder.token !== null && heldHere.has(holder.token);
  }
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false; // no such process
    // EPERM: alive, owned by another user; its start time is still readable.
  }
  const started = await processStartTicks(holder.pid);
  if (started === null) return true; // cannot tell it apart from the holder
  if (holder.started !== null) return holder.started === started;
  // An old LOCK, without a start time: the process cannot have written it if it started after the file last changed.
  const bootMs = await bootTimeMs();
  if (bootMs === null) return true;
  return bootMs + (Number(started) * 1000) / TICKS_PER_SECOND <= lockChangedMs + START_MARGIN_MS;
}
