import { TandemError } from '../definitions/errors.ts';

/**
 * Another engine (this process or another) has the data directory open.
 *
 * @example
 * ```ts
 * await Tandem.open({ dataDir, config }).catch((error) => {
 *   if (error instanceof DataDirectoryLockedError) console.error(`in use by process ${error.pid}`);
 * });
 * ```
 */
export class DataDirectoryLockedError extends TandemError {
  readonly code = 'data_directory_locked';
  constructor(readonly dataDir: string, readonly pid: number | null) {
    super(`The data directory ${dataDir} is in use by ${pid === null ? 'another process' : `process ${pid}`}; stop it first, or send events to its server with --url.`);
  }
}

/**
 * The speed layer holds as many keys, or as many bytes, as it may; a batch run is absorbing them.
 *
 * @example
 * ```ts
 * await tandem.ingest('order', events).catch(async (error) => {
 *   if (error instanceof SpeedLayerFullError) await new Promise((r) => setTimeout(r, 5_000)); // then retry: nothing was stored
 * });
 * ```
 */
export class SpeedLayerFullError extends TandemError {
  readonly code = 'speed_layer_full';
  /** @param measure what reached its limit: the number of keys, or the estimated bytes they take. */
  constructor(readonly held: number, readonly limit: number, readonly measure: 'keys' | 'bytes' = 'keys') {
    const amount = (n: number) => (measure === 'keys' ? `${n.toLocaleString('en-US')} keys` : `${(n / 2 ** 20).toLocaleString('en-US', { maximumFractionDigits: 1 })} MiB`);
    const holds = measure === 'keys' ? amount(held) : `an estimated ${amount(held)}`;
    super(`The speed layer holds ${holds}, its limit of ${measure === 'keys' ? limit.toLocaleString('en-US') : amount(limit)}; nothing in this request was stored, so retry it once a batch run has absorbed them.`);
  }
}
