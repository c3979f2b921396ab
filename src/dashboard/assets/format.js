// Number formatting for the dashboard, and the ISO instants queries send.
// Times as the explorer shows them, in its time zone, are in zoned-time.js.

export const fmt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: 2 }));

export const bytes = (n) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${Math.round(n / 1024)} KiB`);

export const duration = (ms) => (ms >= 60e3 ? `${(ms / 60e3).toFixed(1)} min` : ms >= 1e3 ? `${(ms / 1e3).toFixed(1)} s` : `${Math.round(ms)} ms`);

const UNITS = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'k']];

// Two decimals at most, trailing zeros dropped: ticks 1.25M apart stay distinct.
const short = (v) => String(Number(v.toFixed(2)) || 0);

/** An axis label that fits a narrow axis whatever the magnitude: 1.2M, 3.4k, -250k, 0.5. */
export function compact(n) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return '–';
  const v = Number(n);
  for (let i = 0; i < UNITS.length; i++) {
    const [size, suffix] = UNITS[i];
    if (Math.abs(v) < size) continue;
    const scaled = Number((v / size).toFixed(2));
    // 999,999 rounds to 1000k: say 1M instead.
    if (Math.abs(scaled) >= 1000 && i > 0) return `${short(v / UNITS[i - 1][0])}${UNITS[i - 1][1]}`;
    return `${short(scaled)}${suffix}`;
  }
  return short(v);
}

export const iso = (ms) => new Date(ms).toISOString();
