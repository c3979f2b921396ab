/**
 * A count with its noun in the right number, as every count the CLI prints
 * reads: "1 row", "2 rows", "2,922 events" (digits grouped, en-US).
 *
 * @module
 */

/**
 * `n` and the noun, singular for exactly 1 and plural otherwise (0 too:
 * "0 rows"). The plural defaults to the singular with an `s`.
 *
 * @example
 * ```ts
 * countOf(1, 'row');            // '1 row'
 * countOf(2922, 'event');       // '2,922 events'
 * countOf(3, 'entry', 'entries'); // '3 entries'
 * ```
 */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : plural}`;
}
