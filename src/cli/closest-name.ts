/**
 * The name a user most likely meant, for "did you mean ...?" after a typo.
 *
 * @module
 */

/**
 * The candidate nearest to `name` by edit distance (insertions, deletions,
 * substitutions and swaps of neighbours, case ignored), or undefined when
 * none is near enough to be a typo: at most a third of the name's length
 * may differ (at least 1, at most 3 edits). Ties go to the first candidate.
 *
 * @example
 * ```ts
 * closestName('revenue_by_cuontry', ['orders_by_hour', 'revenue_by_country']); // 'revenue_by_country'
 * closestName('pizza', ['orders_by_hour']);                                     // undefined
 * ```
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const allowed = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

/**
 * Optimal-string-alignment distance: Levenshtein plus a swap of two
 * neighbouring characters as one edit, the commonest typo ("cuontry").
 *
 * @example
 * ```ts
 * editDistance('country', 'cuontry'); // 1: one swap
 * editDistance('kitten', 'sitting');  // 3
 * ```
 */
export function editDistance(a: string, b: string): number {
  // Rows i-2, i-1 and i of the dynamic-programming table; column j is b's first j characters.
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      current.push(d);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}
