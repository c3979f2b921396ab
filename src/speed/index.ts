/**
 * The speed layer: in-memory real-time views of the events the batch layer
 * has not absorbed yet.
 *
 * @module
 */
export { SpeedLayer, viewKey } from './speed-layer.ts';
export type { RealtimeStore, RealtimeStats } from './realtime-store.ts';
export { MisalignedCutoffError } from './errors.ts';
