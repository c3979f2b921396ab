/**
 * What `tandem query` says about a view the server does not have. The
 * server's answer names only the view (`unknown_view`: "Unknown view 'x'."),
 * so the CLI asks `/v1/views` for the names and adds the list and the
 * nearest one.
 *
 * @module
 */
import { TandemError } from '../definitions/errors.ts';
import type { ApiClient } from './api-client.ts';
import { ServerAnswerError } from './cli-error.ts';
import { closestName } from './closest-name.ts';

/** More names than this are cut short: the list is there to jog memory, `tandem view list` has them all. */
const LISTED = 20;

/**
 * A query named a view the server does not define; `suggestion` is the
 * nearest name, when one is near enough to be a typo.
 *
 * @example
 * ```ts
 * new NoSuchViewError('revenue_by_cuntry', ['orders_by_hour', 'revenue_by_country']).message;
 * // "There is no view 'revenue_by_cuntry' (did you mean 'revenue_by_country'?); the views are orders_by_hour and revenue_by_country."
 * ```
 */
export class NoSuchViewError extends TandemError {
  readonly code = 'unknown_view';
  readonly suggestion: string | undefined;

  constructor(readonly view: string, readonly views: readonly string[]) {
    const suggestion = closestName(view, views);
    const hint = suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
    super(views.length === 0
      ? `There is no view '${view.slice(0, 64)}', and the server defines no views yet.`
      : `There is no view '${view.slice(0, 64)}'${hint}; the views are ${listed(views)}.`);
    this.suggestion = suggestion;
  }
}

/**
 * `error` made helpful when it is the server refusing an unknown view: the
 * same failure, with the views listed and a close match. Any other error,
 * or a server whose view list cannot be read, keeps the error as it was.
 *
 * @example
 * ```ts
 * const result = await client.postJson<QueryResult>('/v1/query', query).catch(async (error: unknown) => {
 *   throw await explainUnknownView(client, query, error);
 * });
 * ```
 */
export async function explainUnknownView(client: ApiClient, query: unknown, error: unknown): Promise<unknown> {
  const view = (query as { view?: unknown } | null)?.view;
  if (!(error instanceof ServerAnswerError) || error.answerCode !== 'unknown_view' || typeof view !== 'string') return error;
  try {
    const { views } = await client.get<{ views: readonly { name: string }[] }>('/v1/views');
    return new NoSuchViewError(view, views.map((v) => v.name));
  } catch {
    return error;
  }
}

function listed(views: readonly string[]): string {
  const shown = views.slice(0, LISTED);
  const rest = views.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more (tandem view list shows them all)`;
  return shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}
