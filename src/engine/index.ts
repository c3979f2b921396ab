/**
 * The engine: one process's Lambda Architecture. It opens the data
 * directory, recovers the log, loads the published batch views, replays the
 * speed layer, takes ingest, runs batch cycles and answers queries through
 * the serving layer.
 *
 * @module
 */
export { Tandem } from './tandem.ts';
export type * from './engine-types.ts';
export type { ServedEngine } from './served-engine.ts';
export { DataDirectoryLockedError, SpeedLayerFullError } from './errors.ts';
