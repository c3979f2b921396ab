/**
 * The embedded engine's {@link ViewStateStore}: `views.json` in the data
 * directory, replaced atomically. A file that does not parse is reported
 * and treated as absent: the config's views are served, and nothing a
 * batch version holds depends on it (a view's batch files carry its hash).
 *
 * @module
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ViewState, ViewStateStore } from '../../engine/view-state.ts';
import { syncDirectory } from '../../util/sync-directory.ts';

export class ViewStateFile implements ViewStateStore {
  constructor(readonly path: string, private readonly onDamaged: (reason: string) => void) {}

  async read(): Promise<ViewState | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const state = JSON.parse(text) as ViewState;
      if (typeof state.configDigest !== 'string' || !Array.isArray(state.views) || !Array.isArray(state.pending) || typeof state.versions !== 'object') throw new Error('it lacks a field');
      return state;
    } catch (error) {
      this.onDamaged(`${this.path} cannot be read (${error instanceof Error ? error.message : String(error)}); the config's views are served`);
      return undefined;
    }
  }

  async write(state: ViewState): Promise<void> {
    await writeFile(`${this.path}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { flush: true });
    await rename(`${this.path}.tmp`, this.path);
    await syncDirectory(dirname(this.path));
  }
}
