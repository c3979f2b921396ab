// The chart's time axis in 24-hour local time of the explorer's zone (UTC by
// default), as the range inputs and the server's buckets are: uPlot's own
// labels are US-style (12am, 3/1), which read wrong beside 24-hour inputs.

import { zonedLabel } from './zoned-time.js';

const DAY_S = 86400;
const MONTH_S = 28 * DAY_S;

/**
 * uPlot's `values` for a time axis: `YYYY-MM` for monthly ticks, `MM-DD` for
 * daily ones, `HH:MM` below a day; the date (or year) goes on a second line
 * at the first tick and wherever it changes (after the first, a date as
 * `MM-DD`), all in `zone`. uPlot calls it with the first five arguments.
 *
 * @example
 * timeAxisLabels(null, [1740787200, 1740801600], 0, 0, 14400) // ['00:00\n2025-03-01', '04:00']
 */
export function timeAxisLabels(_u, splits, _axis, _space, increment, zone = 'UTC') {
  let previous = '';
  return splits.map((ts, i) => {
    const label = zonedLabel(ts * 1000, zone);
    const [date, time] = label.split(' ');
    const [main, context] = increment >= MONTH_S ? [date.slice(0, 7), ''] : increment >= DAY_S ? [date.slice(5), date.slice(0, 4)] : [time, date];
    const changed = context !== '' && context !== previous;
    previous = context;
    if (!changed) return main;
    // The full date once, then month and day only: a long label at the right edge would be clipped.
    return `${main}\n${i === 0 || increment >= DAY_S ? context : context.slice(5)}`;
  });
}
