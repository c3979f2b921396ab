/**
 * `tandem view apply|drop|cancel|list`: views changed on a running server
 * (issue #31). `apply` sends each definition of a JSON file and, unless
 * told not to wait, follows the backfill in `/v1/status` with a progress
 * bar until the new definition answers.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import type { ViewJson } from '../../definitions/index.ts';
import type { ViewChangeAnswer, ViewChangeStatus } from '../../engine/index.ts';
import { ApiClient } from '../api-client.ts';
import { CliError } from '../cli-error.ts';
import { formatTable } from '../print-table.ts';
import type { ServerOptions } from './server-commands.ts';

export interface ApplyOptions extends ServerOptions {
  wait: boolean;
  progress: boolean;
}

/** How often a waiting `apply` reads the server's status. */
const POLL_MS = 250;

export async function apply(file: string, options: ApplyOptions): Promise<void> {
  const client = new ApiClient(options.url, options.apiKey);
  const answers: ViewChangeAnswer[] = [];
  for (const view of await readViews(file)) answers.push(await client.putJson<ViewChangeAnswer>(`/v1/views/${encodeURIComponent(view.name)}`, view));
  for (const answer of answers) console.log(describe(answer));
  if (!options.wait) return;
  for (const answer of answers.filter((a) => a.state === 'backfilling')) await follow(client, answer, options.progress && process.stderr.isTTY);
}

export async function drop(name: string, options: ServerOptions): Promise<void> {
  console.log(describe(await new ApiClient(options.url, options.apiKey).delete<ViewChangeAnswer>(`/v1/views/${encodeURIComponent(name)}`)));
}

export async function cancel(name: string, options: ServerOptions): Promise<void> {
  const answer = await new ApiClient(options.url, options.apiKey).delete<ViewChangeAnswer>(`/v1/views/${encodeURIComponent(name)}/change`);
  console.log(answer.state === 'served' ? `Cancelled the change of ${name}; version ${answer.version} still answers.` : `Cancelled ${name}: it was being added, so it is gone.`);
}

export async function list(options: ServerOptions & { json?: boolean }): Promise<void> {
  const defs = await new ApiClient(options.url, options.apiKey).get<{ views: ViewJson[]; versions: Record<string, number>; changes: ViewChangeStatus[] }>('/v1/views');
  if (options.json === true) return console.log(JSON.stringify(defs, null, 2));
  const changes = new Map(defs.changes.map((c) => [c.view, c]));
  const rows: Record<string, string | number>[] = defs.views.map((v) => ({ view: v.name, version: defs.versions[v.name] ?? 1, eventType: v.eventType, granularity: v.granularity, change: changeText(changes.get(v.name)) }));
  for (const c of defs.changes) if (!defs.views.some((v) => v.name === c.view)) rows.push({ view: c.view, version: c.version, eventType: '', granularity: '', change: changeText(c) });
  console.log(formatTable(rows));
}

/** A file's views: one definition, a list of them, or a config whose `views` they are. */
async function readViews(file: string): Promise<ViewJson[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${file} cannot be read as JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
  }
  const views = Array.isArray(parsed) ? parsed : isObject(parsed) && Array.isArray(parsed.views) ? parsed.views : [parsed];
  if (views.length === 0) throw new CliError(`${file} holds no view definition.`);
  return views.map((view, i) => {
    if (!isObject(view) || typeof view.name !== 'string') throw new CliError(`${file}: view ${i + 1} must be an object with a "name".`);
    return view as unknown as ViewJson;
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(a: ViewChangeAnswer): string {
  switch (a.action) {
    case 'add': return `Added ${a.view} as version ${a.version}: its batch layer is being backfilled, and it answers once that is done.`;
    case 'change': return `Changed ${a.view} to version ${a.version}: the version before answers until the backfill is done.`;
    case 'drop': return `Dropped ${a.view}.`;
    case 'unchanged': return `${a.view} is unchanged at version ${a.version}.`;
  }
}

function changeText(c: ViewChangeStatus | undefined): string {
  if (c === undefined) return '';
  const eta = c.etaMs === null ? '' : `, about ${Math.ceil(c.etaMs / 1000)} s left`;
  return `v${c.version} ${c.state}: ${c.filesDone}/${c.filesTotal} files${eta}`;
}

/** Waits until the change is served (or gone), drawing its progress by events. */
async function follow(client: ApiClient, answer: ViewChangeAnswer, progress: boolean): Promise<void> {
  const bar = progress ? new cliProgress.SingleBar({
    format: `${answer.view} v${answer.version} [{bar}] {percentage}% | {value}/{total} events | {files} files | ETA {eta}s | {state}`,
    hideCursor: true, stream: process.stderr,
  }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(1, 0, { files: '0/0', state: 'backfilling' });
  try {
    for (;;) {
      const defs = await client.get<{ versions: Record<string, number>; changes: ViewChangeStatus[] }>('/v1/views');
      const change = defs.changes.find((c) => c.view === answer.view && c.version === answer.version);
      if (change === undefined) {
        bar?.update(bar.getTotal());
        bar?.stop();
        if (defs.versions[answer.view] !== answer.version) throw new CliError(`The change of ${answer.view} to version ${answer.version} did not switch in (cancelled, replaced, or failed: the server's log says why).`);
        return console.log(`${answer.view} version ${answer.version} answers now.`);
      }
      bar?.setTotal(Math.max(1, change.eventsTotal));
      bar?.update(change.eventsDone, { files: `${change.filesDone}/${change.filesTotal}`, state: change.error === null ? change.state : `${change.state}: ${change.error}` });
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    bar?.stop();
  }
}
