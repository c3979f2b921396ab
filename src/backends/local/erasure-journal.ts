/**
 * The embedded engine's record of erasures, in `<data>/erasure/`:
 *
 *   pending.json   erasures accepted and not done yet, with their values:
 *                  written (durably) before the erasure starts, so that a
 *                  crash resumes it at the next open, and rewritten without
 *                  each one once it is done, so that no value outlives it
 *   audit.ndjson   one line per erasure done: who, when, which event type
 *                  and fields, how many events and files; never the values
 *
 * @module
 */
import { appendFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErasureEntry, ErasureFound } from '../../engine/engine-backend.ts';
import type { ErasureAudit } from '../../engine/engine-types.ts';
import { syncDirectory } from '../../util/sync-directory.ts';

export class ErasureJournal {
  #pending: ErasureEntry[] = [];
  /** Changes run one after another, each from the record the one before left: erasures asked together each wrote the same temporary file, and one of them was lost. */
  #changing: Promise<unknown> = Promise.resolve();

  private constructor(private readonly dir: string) {}

  /** Reads the erasures a stop left pending. */
  static async open(dir: string): Promise<ErasureJournal> {
    const journal = new ErasureJournal(dir);
    const text = await readFile(join(dir, 'pending.json'), 'utf8').catch(() => undefined);
    journal.#pending = text === undefined ? [] : (JSON.parse(text) as ErasureEntry[]);
    return journal;
  }

  get pending(): readonly ErasureEntry[] {
    return this.#pending;
  }

  /** Records an erasure before it starts. */
  add(entry: ErasureEntry): Promise<void> {
    return this.#change(() => this.#write([...this.#pending, entry]));
  }

  /** Records what an erasure found before it changes any file; a later try (after a stop) finds only what the first left, so the first record stays. */
  found(id: string, found: ErasureFound): Promise<void> {
    return this.#change(async () => {
      if (found.events === 0 || this.#pending.some((e) => e.id === id && e.found !== undefined)) return;
      await this.#write(this.#pending.map((e) => (e.id === id ? { ...e, found } : e)));
    });
  }

  /** Records erasures done: their audit lines first, then the pending record without them (a crash between runs them again, finding nothing). */
  done(audits: readonly ErasureAudit[]): Promise<void> {
    if (audits.length === 0) return Promise.resolve();
    return this.#change(async () => {
      await mkdir(this.dir, { recursive: true });
      const logged = new Set((await this.audit()).map((a) => a.id));
      const lines = audits.filter((a) => !logged.has(a.id)).map((a) => `${JSON.stringify(a)}\n`).join('');
      if (lines.length > 0) await appendFile(join(this.dir, 'audit.ndjson'), lines, { flush: true });
      const ids = new Set(audits.map((a) => a.id));
      await this.#write(this.#pending.filter((e) => !ids.has(e.id)));
    });
  }

  /** Runs `work` once every change asked before it is done; a failed one does not stop those after it. */
  #change(work: () => Promise<void>): Promise<void> {
    const run = this.#changing.then(work);
    this.#changing = run.catch(() => undefined);
    return run;
  }

  /** The erasures done, oldest first. */
  async audit(): Promise<ErasureAudit[]> {
    const text = await readFile(join(this.dir, 'audit.ndjson'), 'utf8').catch(() => '');
    return text.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as ErasureAudit);
  }

  async #write(pending: ErasureEntry[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, 'pending.json');
    if (pending.length === 0) await rm(path, { force: true });
    else {
      await writeFile(`${path}.tmp`, JSON.stringify(pending), { flush: true });
      await rename(`${path}.tmp`, path);
    }
    await syncDirectory(this.dir);
    this.#pending = pending;
  }
}
