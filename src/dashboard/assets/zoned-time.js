// Times in the explorer's time zone: shown and typed as 24-hour local time,
// `YYYY-MM-DD HH:MM`, read back to instants. The server buckets a query's
// days, weeks and months by the same zone's local calendar, so the inputs,
// the axis and the bars agree. UTC is the default and needs no Intl.

const DAY = 86400e3;

/** `YYYY-MM-DD HH:MM`, the form the inputs take (or with `T`, as ISO writes it). */
const INPUT = /^\s*(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})\s*$/;

// One formatter per zone: building one costs far more than formatting with it.
const FORMATS = new Map();

function wallFormat(zone) {
  let format = FORMATS.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    FORMATS.set(zone, format);
  }
  return format;
}

/**
 * The wall-clock reading at instant `ms` in `zone`, written as the epoch ms
 * at which UTC reads the same: `wallClock(t, z) - t` is the zone's offset.
 *
 * @example
 * wallClock(Date.UTC(2025, 6, 1, 12), 'Europe/Berlin') === Date.UTC(2025, 6, 1, 14) // true: summer time, +2 h
 */
export function wallClock(ms, zone) {
  if (zone === 'UTC') return ms;
  const part = Object.fromEntries(wallFormat(zone).formatToParts(ms).map((p) => [p.type, Number(p.value)]));
  // Not Date.UTC(year, ...), which reads years 0–99 as 1900–1999.
  const wall = new Date(0);
  wall.setUTCFullYear(part.year, part.month - 1, part.day);
  return wall.setUTCHours(part.hour, part.minute, part.second, ((ms % 1000) + 1000) % 1000);
}

/**
 * The instant at which `zone`'s clocks read `wall` (a reading as from
 * {@link wallClock}). A reading that comes round twice, as clocks go back,
 * is its first instant; one that clocks skip, as they go forward, is read
 * with the offset from before the change (02:30 in a skipped hour is 03:30
 * after it): the way Temporal's `compatible` disambiguation reads them.
 *
 * @example
 * instantAt(Date.UTC(2025, 9, 26, 2, 30), 'Europe/Berlin') === Date.UTC(2025, 9, 26, 0, 30) // true: the first 02:30, in summer time
 */
export function instantAt(wall, zone) {
  if (zone === 'UTC') return wall;
  // A reading's instant lies within a day of it (offsets are under 15 hours): the offsets a day either side cover one change.
  const before = wallClock(wall - DAY, zone) - (wall - DAY);
  const after = wallClock(wall + DAY, zone) - (wall + DAY);
  const fits = [wall - before, wall - after].filter((t) => wallClock(t, zone) === wall);
  return fits.length > 0 ? Math.min(...fits) : wall - before;
}

/** `YYYY-MM-DD HH:MM` in `zone`, 24-hour: what the range inputs, the axis and the legend show. */
export function zonedLabel(ms, zone) {
  return new Date(wallClock(ms, zone)).toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * A range input read as local time in `zone`: `YYYY-MM-DD HH:MM` (or with
 * `T`); NaN when empty or not such a time. A time the clocks skip or repeat
 * is read as {@link instantAt} reads it.
 *
 * @example
 * parseZonedInput('2025-03-10 14:30', 'Asia/Kolkata') === Date.UTC(2025, 2, 10, 9, 0) // true: +05:30
 */
export function parseZonedInput(value, zone) {
  const match = INPUT.exec(value ?? '');
  if (!match) return NaN;
  const wall = Date.parse(`${match[1]}T${match[2]}Z`);
  // Date.parse takes 2025-02-30 as 2 March: a time that does not print back as typed is no time.
  if (!Number.isFinite(wall) || new Date(wall).toISOString().slice(0, 16) !== `${match[1]}T${match[2]}`) return NaN;
  return instantAt(wall, zone);
}

/**
 * `ms` rounded (with `Math.floor` or `Math.ceil`) to a whole `step` of local
 * time in `zone`: a minute, an hour, or a day, which then starts at local
 * midnight.
 *
 * @example
 * roundLocal(Date.UTC(2025, 2, 1, 12), 86400e3, 'Europe/Berlin', Math.floor) === Date.UTC(2025, 1, 28, 23) // true
 */
export function roundLocal(ms, step, zone, round) {
  return instantAt(round(wallClock(ms, zone) / step) * step, zone);
}

/**
 * The zone `name` names, spelt as this browser's list of zones spells it
 * where only the case differs (`europe/berlin` → `Europe/Berlin`), as the
 * server spells it; undefined when this browser knows no such zone.
 *
 * @example
 * knownZone('europe/berlin') // 'Europe/Berlin'
 * knownZone('Mars/Olympus') // undefined
 */
export function knownZone(name) {
  const trimmed = name.trim();
  if (trimmed.toUpperCase() === 'UTC') return 'UTC';
  let resolved;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: trimmed }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  const listed = zoneNames().find((n) => n.toLowerCase() === trimmed.toLowerCase());
  return listed ?? (resolved.toLowerCase() === trimmed.toLowerCase() ? resolved : trimmed);
}

/** The zones to offer: UTC, then every IANA zone this browser lists. */
export function zoneNames() {
  return ['UTC', ...Intl.supportedValuesOf('timeZone').filter((n) => n !== 'UTC')];
}

/** This browser's own zone, or UTC where its clock is UTC under another name (`Etc/UTC`). */
export function browserZone() {
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return own === undefined || new Intl.DateTimeFormat('en-US', { timeZone: own }).resolvedOptions().timeZone === 'UTC' ? 'UTC' : own;
}
