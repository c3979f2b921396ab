// The chart split by a dimension: one series per top value, each with its
// merged, batch and speed values per bucket, and an "other" series for what
// the top values leave out where that can be known exactly. Pure functions
// over query answers, so the page and its tests share them.

import { decimalValue, exactDifference } from './decimal.js';

/** The measures whose values add up across groups, so the rest is the total minus the top groups. */
export const ADDITIVE = new Set(['count', 'sum']);

export const LAYER_NAMES = ['merged', 'batch', 'speed'];

/** Why a measure type gets no "other" series: one sentence for the legend. */
export function noOtherReason(type) {
  return `No "other" series: ${type} values of groups do not add up, so the rest cannot be derived from the total.`;
}

/** A dimension value as a series is labelled. */
export const valueLabel = (value) => (value === null ? '(none)' : String(value));

/**
 * Whether two answers saw the same data: the same batch, the same log end and
 * the same view version. A total and a grouped answer from different moments
 * would make their difference count events once, twice or not at all.
 */
export function sameSnapshot(a, b) {
  const seen = ({ meta }) => JSON.stringify([meta.batchVersion, meta.batchCutoff, meta.logEnd, meta.applied ?? null, meta.viewVersion ?? null]);
  return seen(a) === seen(b);
}

/** `cell(row)` of each answer row by bucket start (ms), and by dimension value when `dim` is given. */
function index(answer, cell, dim) {
  const out = new Map();
  for (const row of answer.rows) out.set(dim === undefined ? Date.parse(row.time) : `${Date.parse(row.time)}|${JSON.stringify(row[dim])}`, cell(row));
  return out;
}

/** A bucket's value: a group with no row there holds nothing, which for a count or sum is zero. */
function valueAt(map, key, additive) {
  const value = map.get(key);
  return value === undefined || value === null ? (additive ? 0 : null) : value;
}

/**
 * One series per value of `keys` (in rank order) from the answers grouped by
 * `dim`, each `{ key, label, merged, batch, speed }` with a value per bucket of
 * `times`; then, when `totals` are given (counts and sums only), the series
 * "other": each layer's total minus the top values, in exact decimals.
 *
 * @example
 * splitSeries({ times, dim: 'city', keys: ['Oslo'], grouped, totals, cell: (r) => r.orders, additive: true })
 * // [{ key: '"Oslo"', label: 'Oslo', merged: [3, 0], batch: [3, 0], speed: [0, 0] }, { key: 'other', … }]
 */
export function splitSeries({ times, dim, keys, grouped, totals, cell, additive }) {
  const byLayer = Object.fromEntries(LAYER_NAMES.map((layer) => [layer, index(grouped[layer], cell, dim)]));
  const series = keys.map((value) => {
    const key = JSON.stringify(value);
    const values = (layer) => times.map((t) => valueAt(byLayer[layer], `${t}|${key}`, additive));
    return { key, label: valueLabel(value), merged: values('merged'), batch: values('batch'), speed: values('speed') };
  });
  if (!totals) return series;
  // A top value may itself be called "other": the rest is then labelled so that the two stay apart.
  const other = { key: 'other', label: series.some((s) => s.label === 'other') ? '(other values)' : 'other', other: true };
  for (const layer of LAYER_NAMES) {
    const total = index(totals[layer], cell);
    other[layer] = times.map((t, i) => decimalValue(exactDifference([valueAt(total, t, true)], series.map((s) => s[layer][i]))));
  }
  return [...series, other];
}

/** A series' values summed exactly over its buckets, as decimal text: what tests compare with their own count. */
export const seriesTotal = (values) => exactDifference(values);
