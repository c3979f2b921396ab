// The explorer's state in the page's URL, so a chart can be bookmarked or
// sent: the view, measure, range, time zone, granularity, filters, split and
// the series hidden in the legend. Written as plain query parameters that read well in
// a link (`?view=orders&range=custom&from=2025-03-10T10:00Z&where.city="Oslo"`),
// and read back leniently: what a link names that the server lacks is left
// to the page to refuse or ignore.

const FILTER = 'where.';

/** A custom range's end as a link shows it: ISO, to the minute when the seconds are zero. */
const linkTime = (ms) => new Date(ms).toISOString().replace(/:00\.000Z$/, 'Z');

const readTime = (text) => (text === null || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{3})?)?Z$/.test(text) ? NaN : Date.parse(text));

/**
 * The query string (without `?`) for an explorer state: `view`, `measure`,
 * `range` (`{ value, custom }` as the range select has it, `custom` holding
 * `from` and `to` in ms, written as UTC instants whatever the zone), and
 * where set: `timeZone` (as `tz`), `granularity`, `split`, `top`, `where`
 * (dimension → value) and `hidden` (series labels).
 *
 * @example
 * encodeExplorerState({ view: 'orders', measure: 'n', range: { value: 'all', custom: null }, where: { city: 'Oslo' }, hidden: [] })
 * // 'view=orders&measure=n&range=all&where.city=%22Oslo%22'
 */
export function encodeExplorerState(s) {
  const params = new URLSearchParams();
  params.set('view', s.view);
  params.set('measure', s.measure);
  params.set('range', s.range.value);
  if (s.range.value === 'custom') {
    params.set('from', linkTime(s.range.custom.from));
    params.set('to', linkTime(s.range.custom.to));
  }
  if (s.timeZone) params.set('tz', s.timeZone);
  if (s.granularity) params.set('granularity', s.granularity);
  if (s.split) params.set('split', s.split);
  if (s.split && s.top) params.set('top', String(s.top));
  for (const [dim, value] of Object.entries(s.where ?? {})) params.set(`${FILTER}${dim}`, JSON.stringify(value));
  for (const label of s.hidden ?? []) params.append('hide', label);
  return params.toString();
}

/** A filter's value from a link: JSON (`"Oslo"`, `3`, `null`), or else the text as written. */
function filterValue(text) {
  try {
    const value = JSON.parse(text);
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
  } catch {
    // Not JSON: a hand-written link's `where.city=Oslo`.
  }
  return text;
}

/** The range a link names, or undefined when it names none or one that cannot be. */
function readRange(params) {
  const value = params.get('range');
  if (value === null) return undefined;
  if (value === 'custom') {
    const from = readTime(params.get('from'));
    const to = readTime(params.get('to'));
    return Number.isFinite(from) && Number.isFinite(to) && from < to ? { value, custom: { from, to } } : undefined;
  }
  return value === 'all' || /^[1-9]\d*$/.test(value) ? { value, custom: null } : undefined;
}

/**
 * The explorer state a query string names, every part optional; the inverse
 * of {@link encodeExplorerState}.
 *
 * @example
 * decodeExplorerState('?view=orders&split=city&top=5').split // 'city'
 */
export function decodeExplorerState(search) {
  const params = new URLSearchParams(search);
  const where = {};
  for (const [name, text] of params) {
    const dim = name.slice(FILTER.length);
    // `__proto__` would set the object's prototype, not a filter: no dimension has that name.
    if (name.startsWith(FILTER) && dim !== '' && dim !== '__proto__') where[dim] = filterValue(text);
  }
  const top = Number(params.get('top'));
  return {
    view: params.get('view') ?? undefined,
    measure: params.get('measure') ?? undefined,
    range: readRange(params),
    timeZone: params.get('tz') || undefined,
    granularity: params.get('granularity') ?? undefined,
    split: params.get('split') ?? undefined,
    top: Number.isInteger(top) && top > 0 ? top : undefined,
    where,
    hidden: params.getAll('hide'),
  };
}
