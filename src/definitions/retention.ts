/**
 * An event type's retention: how long its events stay in the master dataset
 * after their event time, written as a whole number and a unit (`"400d"`,
 * `"36h"`, `"2w"`). Parsed here once, so that the config, the status and
 * `meta` name the same horizon.
 *
 * @module
 */
import type { EventTypeSchema } from './schema.ts';
import { invalid } from './config-checks.ts';

const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * The milliseconds a retention such as `"400d"` names, or undefined when
 * none is set; anything else is refused naming `path`.
 *
 * @example
 * ```ts
 * compileRetention('eventTypes[0].retention', '400d'); // 34_560_000_000
 * ```
 */
export function compileRetention(path: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const match = typeof value === 'string' ? /^([1-9]\d{0,5})([mhdw])$/.exec(value) : null;
  if (match === null) invalid(path, `${path} must be a whole number of minutes, hours, days or weeks, such as "400d" or "36h".`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/**
 * The horizon a retention puts at `now`: events older than it may have left
 * the master dataset (a file leaves once all its events are older).
 *
 * @example
 * ```ts
 * const horizon = retentionHorizon(schema.retentionMs, Date.now()); // undefined: kept forever
 * ```
 */
export function retentionHorizon(retentionMs: number | undefined, now: number): number | undefined {
  return retentionMs === undefined ? undefined : now - retentionMs;
}

/**
 * Per event type with a retention, its horizon at `now`.
 *
 * @example
 * ```ts
 * retentionHorizons(catalog, Date.now()).get('page_view'); // ms since the epoch
 * ```
 */
export function retentionHorizons(catalog: { readonly eventTypes: ReadonlyMap<string, EventTypeSchema> }, now: number): Map<string, number> {
  return new Map([...catalog.eventTypes.values()].flatMap((e) => {
    const horizon = retentionHorizon(e.retentionMs, now);
    return horizon === undefined ? [] : [[e.name, horizon] as const];
  }));
}
