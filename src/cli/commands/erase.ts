/**
 * `tandem erase`: erases one event type's events whose fields equal the
 * values given (issue #31), on a running server, after asking (or with
 * `--yes`); `tandem erase --list` prints the audit log. Values are sent as
 * the event type's fields take them, read from the server's definitions, so
 * `--where paid=true` matches a boolean and `--where units=3` a number.
 *
 * @module
 */
import { createInterface } from 'node:readline/promises';
import type { FrozenErasure } from '../../batch/index.ts';
import type { EventTypeJson } from '../../definitions/index.ts';
import type { ErasureAudit } from '../../engine/index.ts';
import { ApiClient } from '../api-client.ts';
import { CliError } from '../cli-error.ts';
import { countOf } from '../count-of.ts';
import { formatTable } from '../print-table.ts';
import type { ServerOptions } from './server-commands.ts';

export interface EraseOptions extends ServerOptions {
  event?: string;
  where: string[];
  yes?: boolean;
  list?: boolean;
  json?: boolean;
}

export async function erase(options: EraseOptions): Promise<void> {
  const client = new ApiClient(options.url, options.apiKey);
  if (options.list === true) return list(client, options.json === true);
  if (options.event === undefined) throw new CliError('Name the event type to erase from with --event, or pass --list to see the erasures done.');
  if (options.where.length === 0) throw new CliError('Name at least one field and value with --where field=value, such as --where customer=c-123.');
  const { eventTypes } = await client.get<{ eventTypes: EventTypeJson[] }>('/v1/views');
  const eventType = eventTypes.find((e) => e.name === options.event);
  if (eventType === undefined) throw new CliError(`The server has no event type '${options.event}'; it has ${eventTypes.map((e) => e.name).join(', ')}.`);
  const where = whereOf(options.where, eventType);
  if (options.yes !== true && !(await confirmed(`Erase every ${eventType.name} event where ${describe(where)}? This cannot be undone. [y/N] `))) {
    throw new CliError('Nothing was erased.');
  }
  process.stderr.write('Erasing: the server rewrites the files that hold the events and recomputes every view…\n');
  const audit = await client.postJson<ErasureAudit>('/v1/erase', { eventType: eventType.name, where });
  console.log(`Erased ${countOf(audit.events, 'event')} of ${audit.eventType} (${countOf(audit.files, 'file')} written again); audit record ${audit.id}.`);
  for (const line of frozenLines(audit.frozen ?? [])) console.log(line);
}

/**
 * One line per view keeping aggregates that had frozen rows: what the
 * erasure dropped, or that they may still count the erased events.
 *
 * @example
 * ```ts
 * frozenLines([{ view: 'by_plan', outcome: 'counted' }]);
 * // ["View by_plan's frozen aggregates beyond retention may still count the erased events: the fields erased by are not all its dimensions."]
 * ```
 */
export function frozenLines(frozen: readonly FrozenErasure[]): string[] {
  return frozen.map((f) => (f.outcome === 'dropped'
    ? `View ${f.view}: ${countOf(f.rows, 'frozen row')} dropped${f.events === undefined ? '' : ` (${countOf(f.events, 'event')} beyond retention)`}.`
    : `View ${f.view}'s frozen aggregates beyond retention may still count the erased events: the fields erased by are not all its dimensions.`));
}

async function list(client: ApiClient, json: boolean): Promise<void> {
  const audits = await client.get<ErasureAudit[]>('/v1/erasures');
  if (json) return console.log(JSON.stringify(audits, null, 2));
  if (audits.length === 0) return console.log('No erasure has been done.');
  console.log(formatTable(audits.map((a) => ({ id: a.id, requested: a.requestedAt, by: a.by, eventType: a.eventType, fields: a.fields.join(', '), events: a.events, files: a.files }))));
}

/** `field=value` pairs as the request's `where`: a field named twice matches either value. */
function whereOf(pairs: readonly string[], eventType: EventTypeJson): Record<string, unknown> {
  const where: Record<string, unknown[]> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CliError(`--where ${pair} must be field=value, such as customer=c-123.`);
    const field = pair.slice(0, at);
    if (eventType.fields[field] === undefined) throw new CliError(`Event type '${eventType.name}' has no field '${field}'; its fields are ${Object.keys(eventType.fields).join(', ')}.`);
    (where[field] ??= []).push(typed(pair.slice(at + 1), eventType.fields[field]));
  }
  return Object.fromEntries(Object.entries(where).map(([field, values]) => [field, values.length === 1 ? values[0] : values]));
}

/** A value as its field takes it: booleans and numbers from their text; the server checks the rest and names a mismatch. */
function typed(text: string, spec: EventTypeJson['fields'][string] | undefined): unknown {
  const type = typeof spec === 'string' ? spec : spec?.type;
  if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

function describe(where: Record<string, unknown>): string {
  return Object.entries(where).map(([field, value]) => `${field} is ${Array.isArray(value) ? value.map((v) => JSON.stringify(v)).join(' or ') : JSON.stringify(value)}`).join(' and ');
}

/** Asks on the terminal; without one, there is nobody to ask, so the answer is no (`--yes` says yes). */
async function confirmed(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new CliError('Erasing cannot be undone: pass --yes to erase without a terminal to confirm on.');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
