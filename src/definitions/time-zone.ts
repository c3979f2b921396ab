/**
 * IANA time zones as the platform's Intl data knows them: the offset from
 * UTC at each instant, where it changes, and the instant a local wall-clock
 * time first comes round. Offsets are read once per zone and year (a daily
 * sample, each change then found to the millisecond by bisection) and kept,
 * so that rolling a year of hourly buckets up into local days asks Intl a
 * few hundred times, not once per bucket.
 *
 * @module
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** More than any offset a zone has had since 1900 (the widest are ±14 h): the window in which a wall-clock time can fall. */
const WIDEST_OFFSET = 18 * HOUR;

/** A change of a zone's offset: from `at` (epoch ms) on, local time is `offset` ms ahead of UTC. */
export interface OffsetChange {
  readonly at: number;
  readonly offset: number;
}

/** A zone's offsets over one UTC calendar year: the offset at its start and each change within it. */
interface YearOffsets {
  readonly initial: number;
  readonly changes: readonly OffsetChange[];
}

/** `GMT`, `GMT+05:30` or `GMT-03:21:10`, as Intl's `longOffset` prints the offset. */
const LONG_OFFSET = /GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** Named zones by their name in lower case, each built once: their yearly offsets are worth keeping. */
const ZONES = new Map<string, TimeZone>();

/** What a zone name may hold: `Europe/Berlin`, `America/Argentina/Buenos_Aires`, `Etc/GMT+5`; never an offset such as `+01:00`. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;

let canonical: ReadonlyMap<string, string> | undefined;
/** The zone names Intl lists, by their lower case. */
function canonicalNames(): ReadonlyMap<string, string> {
  canonical ??= new Map(Intl.supportedValuesOf('timeZone').map((n) => [n.toLowerCase(), n]));
  return canonical;
}

/**
 * An IANA time zone: its offsets from UTC over time. {@link TimeZone.named}
 * gives one, or undefined for a name Intl does not know.
 *
 * @example
 * ```ts
 * const berlin = TimeZone.named('Europe/Berlin')!;
 * berlin.offsetAt(Date.parse('2026-07-01T00:00:00Z'));   // 7_200_000 (two hours)
 * berlin.iso(Date.parse('2026-03-28T23:00:00Z'));         // '2026-03-29T00:00:00.000+01:00'
 * ```
 */
export class TimeZone {
  /** UTC, the default zone of a query: its buckets are the views' own. */
  static readonly UTC = new TimeZone('UTC');

  readonly #format: Intl.DateTimeFormat;
  readonly #years = new Map<number, YearOffsets>();

  private constructor(readonly name: string) {
    this.#format = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
  }

  /**
   * The zone `name` names, spelt as the IANA database spells it where only
   * the case differs (`europe/berlin` → `Europe/Berlin`); undefined when Intl
   * knows no such zone. Offsets such as `+01:00` are no zone name and are refused.
   */
  static named(name: string): TimeZone | undefined {
    if (name === 'UTC') return TimeZone.UTC;
    if (!ZONE_NAME.test(name)) return undefined;
    // Keyed in lower case, so that the cache holds one entry per zone however its name is cased.
    const key = name.toLowerCase();
    const known = ZONES.get(key);
    if (known !== undefined) return known;
    let resolved: string;
    try {
      resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    } catch {
      return undefined;
    }
    // Intl resolves some names to older aliases (Asia/Kolkata to Asia/Calcutta): keep the name asked for, in the database's case where it lists it.
    const spelt = canonicalNames().get(key) ?? (resolved.toLowerCase() === key ? resolved : name);
    const zone = spelt === 'UTC' ? TimeZone.UTC : new TimeZone(spelt);
    ZONES.set(key, zone);
    return zone;
  }

  /** Whether this is UTC itself, whose local periods are the views' own buckets. */
  get isUtc(): boolean {
    return this === TimeZone.UTC;
  }

  /** How far local time is ahead of UTC at `t`, in ms (negative west of Greenwich). */
  offsetAt(t: number): number {
    const year = this.#year(new Date(t).getUTCFullYear());
    let offset = year.initial;
    for (const change of year.changes) {
      if (change.at > t) break;
      offset = change.offset;
    }
    return offset;
  }

  /** The offset at `from`, and every change of it in `(from, to)`. */
  offsetsBetween(from: number, to: number): { readonly first: number; readonly changes: readonly OffsetChange[] } {
    const changes: OffsetChange[] = [];
    const last = new Date(Math.max(from, to - 1)).getUTCFullYear();
    for (let y = new Date(from).getUTCFullYear(); y <= last; y++) {
      for (const change of this.#year(y).changes) if (change.at > from && change.at < to) changes.push(change);
    }
    return { first: this.offsetAt(from), changes };
  }

  /**
   * The first instant at which local time reads `wall` (epoch ms of that
   * wall-clock time as if it were UTC) or later. Where a change skips the
   * wall time (a spring-forward gap), that is the instant of the change;
   * where a change repeats it, the first time it comes round.
   */
  firstInstantAt(wall: number): number {
    const { first, changes } = this.offsetsBetween(wall - WIDEST_OFFSET, wall + WIDEST_OFFSET);
    // The stretches of constant offset around `wall`: on each, local time is t + offset.
    const starts = [wall - WIDEST_OFFSET, ...changes.map((c) => c.at)];
    const offsets = [first, ...changes.map((c) => c.offset)];
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i]!;
      const end = starts[i + 1] ?? wall + WIDEST_OFFSET;
      const t = wall - offsets[i]!;
      if (t >= start && t < end) best = Math.min(best, t);
      // A change that jumps local time past `wall`: the wall time never shows, and this is the first instant after it.
      if (i > 0 && start + offsets[i]! >= wall) best = Math.min(best, start);
    }
    return best;
  }

  /**
   * `t` as ISO-8601 local time with its offset (`2026-03-29T00:00:00.000+01:00`);
   * in UTC, or where the offset is not a whole number of minutes (local mean
   * time before a zone adopted a standard), as UTC with `Z`.
   */
  iso(t: number): string {
    const offset = this.isUtc ? 0 : this.offsetAt(t);
    if (this.isUtc || offset % MINUTE !== 0) return new Date(t).toISOString();
    const minutes = Math.abs(offset) / MINUTE;
    const sign = offset < 0 ? '-' : '+';
    const hhmm = `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    return `${new Date(t + offset).toISOString().slice(0, -1)}${sign}${hhmm}`;
  }

  #year(year: number): YearOffsets {
    let offsets = this.#years.get(year);
    if (offsets === undefined) {
      offsets = this.#readYear(year);
      this.#years.set(year, offsets);
    }
    return offsets;
  }

  /**
   * A year's offsets: sampled daily, each change between two samples found
   * by bisection. Two changes within one day that cancel out (none in the
   * database since 1900 that we know of) would go unseen.
   */
  #readYear(year: number): YearOffsets {
    const start = utcYearStart(year);
    const end = utcYearStart(year + 1);
    if (this.isUtc) return { initial: 0, changes: [] };
    const initial = this.#read(start);
    const changes: OffsetChange[] = [];
    let before = start;
    let offset = initial;
    while (before < end) {
      const after = Math.min(before + DAY, end);
      const next = this.#read(after);
      // Several changes within a day: find each in turn.
      while (next !== offset) {
        const change = this.#firstChange(before, after, offset);
        if (change.at < end) changes.push(change);
        before = change.at;
        offset = change.offset;
      }
      before = after;
    }
    return { initial, changes };
  }

  /** The first change after `from` and at or before `to`, where `from` has offset `offset` and `to` another. */
  #firstChange(from: number, to: number, offset: number): OffsetChange {
    let low = from;
    let high = to;
    while (high - low > 1) {
      const mid = low + Math.floor((high - low) / 2);
      if (this.#read(mid) === offset) low = mid;
      else high = mid;
    }
    return { at: high, offset: this.#read(high) };
  }

  /** The offset at `t` as Intl prints it. */
  #read(t: number): number {
    const match = LONG_OFFSET.exec(this.#format.format(t));
    if (match === null) throw new TypeError(`Intl printed no GMT offset for time zone ${this.name}.`);
    if (match[1] === undefined) return 0;
    const ms = Number(match[2]) * HOUR + Number(match[3]) * MINUTE + Number(match[4] ?? 0) * 1000;
    return match[1] === '-' ? -ms : ms;
  }
}

/** 1 January of `year`, 00:00 UTC: by setUTCFullYear, as Date.UTC reads years 0–99 as 1900–1999. */
function utcYearStart(year: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, 0, 1);
  return d.getTime();
}
