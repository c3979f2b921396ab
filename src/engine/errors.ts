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

/**
 * Offsets the data directory should hold are in none of its files: a
 * segment manifest of the master dataset or a log segment is missing (or
 * two manifests claim the same offsets). The engine refuses to serve
 * answers that would be silently short; `tandem repair` rebuilds the piece
 * from a copy that survives, or records the offsets as lost.
 *
 * @example
 * ```ts
 * await Tandem.open({ dataDir, config }).catch((error) => {
 *   if (error instanceof MissingDataError) console.error(error.message, error.from, error.to);
 * });
 * ```
 */
export class MissingDataError extends TandemError {
  readonly code = 'data_missing';
  constructor(readonly dataDir: string, readonly from: number, readonly to: number, readonly piece: string) {
    super(`Offsets ${from.toLocaleString('en-US')} to ${(to - 1).toLocaleString('en-US')} of ${dataDir} are ${piece}, so answers would be short of them: run 'tandem repair --data ${dataDir}', which rebuilds them from a copy that survives or records them as lost.`);
  }
}

/**
 * The published batch version has no view of this name built from its
 * current definition (it was added or changed in the config): the batch
 * node's next cycle computes it, and the view answers from then on.
 *
 * @example
 * ```ts
 * await node.query({ view: 'new_view' }).catch((error) => {
 *   if (error instanceof ViewNotReadyError) setTimeout(retry, 5_000);
 * });
 * ```
 */
export class ViewNotReadyError extends TandemError {
  readonly code = 'view_not_ready';
  constructor(readonly view: string) {
    super(`View '${view}' is new or changed and the batch layer has not computed it yet; retry once the next batch version is published.`);
  }
}

/**
 * A query gathered the speed layer's states of some partitions from other
 * nodes, and each time a new batch version was served before it could
 * answer (cluster mode, batch cycles in quick succession): retrying soon
 * answers.
 *
 * @example
 * ```ts
 * await node.query({ view: 'revenue' }).catch((error) => {
 *   if (error instanceof ServedVersionChangingError) setTimeout(retry, 1_000);
 * });
 * ```
 */
export class ServedVersionChangingError extends TandemError {
  readonly code = 'served_version_changing';
  constructor(readonly attempts: number) {
    super(`A new batch version was served during each of ${attempts} tries to gather this query's speed layer from the other nodes; retry in a second.`);
  }
}

/**
 * A query names a view (or a version of one) whose batch layer is still
 * being backfilled from the master dataset after a change: a new view
 * answers once it is complete, a changed one answers with its old
 * definition meanwhile.
 *
 * @example
 * ```ts
 * await tandem.query({ view: 'by_plan', granularity: 'all' }).catch((error) => {
 *   if (error instanceof ViewBackfillingError) console.log(`${error.percent}% done`);
 * });
 * ```
 */
export class ViewBackfillingError extends TandemError {
  readonly code = 'view_backfilling';
  constructor(readonly view: string, readonly version: number, readonly percent: number, readonly serving: number | null) {
    super(serving === null
      ? `View '${view}' is new and its batch layer is being backfilled (${percent}% done); retry once it is complete.`
      : `Version ${version} of view '${view}' is being backfilled (${percent}% done); version ${serving} answers until it is complete.`);
  }
}

/**
 * A cluster was opened with a config whose event type declares a
 * `retention`: retention runs in the embedded engine only, for now, and a
 * cluster that kept every event while the config promised otherwise would
 * mislead.
 *
 * @example
 * ```ts
 * await ClusterNode.open({ dataDir, config, servers }).catch((error) => {
 *   if (error instanceof RetentionUnsupportedError) console.error(error.message);
 * });
 * ```
 */
export class RetentionUnsupportedError extends TandemError {
  readonly code = 'retention_unsupported';
  constructor(readonly eventType: string) {
    super(`Event type '${eventType}' declares a retention, which a cluster does not apply yet; remove it from the config to run as a cluster.`);
  }
}

/**
 * Erasure is not available on this engine: its backend keeps no erasures.
 *
 * @example
 * ```ts
 * await node.erase({ eventType: 'order', where: { customer: 'c-123' } }).catch((error) => {
 *   if (error instanceof ErasureUnsupportedError) console.error(error.message);
 * });
 * ```
 */
export class ErasureUnsupportedError extends TandemError {
  readonly code = 'erasure_unsupported';
  constructor() {
    super('This engine cannot erase events: its backend keeps no record of erasures.');
  }
}

/**
 * A change of a view that keeps aggregates of events retention removed
 * (`keepAggregates`): those events are gone, so no other definition can be
 * computed over them, and the change would silently lose that history.
 *
 * @example
 * ```ts
 * await tandem.applyView(changed).catch((error) => {
 *   if (error instanceof FrozenAggregatesError) console.error(error.message);
 * });
 * ```
 */
export class FrozenAggregatesError extends TandemError {
  readonly code = 'frozen_aggregates';
  constructor(readonly view: string) {
    super(`View '${view}' keeps aggregates of events retention removed, which no changed definition can recompute; add the new definition as a view of another name.`);
  }
}

/**
 * An erasure by a field that a view keeping aggregates (`keepAggregates`)
 * holds the values of in a measure (`min`, `max`, `quantiles`) without
 * having it as a dimension: the view's frozen rows, of events retention
 * removed, could keep an erased value that no recomputation can take out.
 *
 * @example
 * ```ts
 * await tandem.erase({ eventType: 'order', where: { amount: 42 } }).catch((error) => {
 *   if (error instanceof ErasureFrozenValueError) console.error(`${error.view} keeps ${error.field}`);
 * });
 * ```
 */
export class ErasureFrozenValueError extends TandemError {
  readonly code = 'erasure_frozen_value';
  constructor(readonly view: string, readonly measure: string, readonly field: string) {
    super(`View '${view}' keeps aggregates of events retention removed, and its measure '${measure}' may keep a value of field '${field}' in them, which an erasure by '${field}' cannot take out; erase by fields that are dimensions of '${view}', or by other fields.`);
  }
}

/**
 * Views cannot change on this engine while it serves (a cluster node, for now).
 *
 * @example
 * ```ts
 * await node.applyView(view).catch((error) => {
 *   if (error instanceof ViewChangesUnsupportedError) console.error(error.message);
 * });
 * ```
 */
export class ViewChangesUnsupportedError extends TandemError {
  readonly code = 'view_changes_unsupported';
  constructor() {
    super('Views cannot change while this engine serves, since its backend keeps no record of them; change the config file and restart it.');
  }
}

/**
 * A cancel names a view with no change under way, or one already switching
 * in (its backfill is done and the batch cycle that serves it has begun).
 *
 * @example
 * ```ts
 * await tandem.cancelViewChange('by_plan').catch((error) => {
 *   if (error instanceof NoViewChangeError) console.log('nothing to cancel');
 * });
 * ```
 */
export class NoViewChangeError extends TandemError {
  readonly code = 'no_view_change';
  constructor(readonly view: string, readonly switching = false) {
    super(switching
      ? `The change of view '${view}' is switching in now and can no longer be cancelled; apply the old definition again once it is served.`
      : `View '${view}' has no change under way to cancel.`);
  }
}

// Thrown by the definitions' reload check (`reloadedCatalog`); listed here with the engine's other errors.
export { EventTypesChangedError } from '../definitions/errors.ts';

/**
 * The engine is draining ({@link EngineCore.drain}) before it closes, so it
 * takes no more events; ingests already under way finish.
 *
 * @example
 * ```ts
 * await tandem.ingest('order', events).catch((error) => {
 *   if (error instanceof EngineDrainingError) return sendToAnotherNode(events);
 *   throw error;
 * });
 * ```
 */
export class EngineDrainingError extends TandemError {
  readonly code = 'draining';
  constructor(readonly eventType: string) {
    super(`The engine is draining before it closes, so it takes no more '${eventType.slice(0, 64)}' events; nothing in this request was stored, so send it again once an engine is open.`);
  }
}

/**
 * An option of `Tandem.open` is out of its range; `option` names it.
 *
 * @example
 * ```ts
 * await Tandem.open({ dataDir, config, batchEvery: 0 }).catch((error) => {
 *   if (error instanceof InvalidEngineOptionError) console.error(error.option, error.message);
 * });
 * ```
 */
export class InvalidEngineOptionError extends TandemError {
  readonly code = 'invalid_option';
  constructor(readonly option: string, message: string) {
    super(message);
  }
}
