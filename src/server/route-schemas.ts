/**
 * The contracts of Tandem's HTTP routes: what each takes, answers, and which
 * error codes its own work may answer with (the engine's, the log's, the
 * cluster's). create-server.ts declares every route with these options, and
 * `/openapi.json` is generated from them.
 *
 * @module
 */
import type { RouteShorthandOptions } from 'fastify';
import type { Catalog } from '../definitions/index.ts';
import { eventSchemaId } from './event-schemas.ts';
import { routeOptions, type RouteContract } from './route-contract.ts';

/** A 200 answer of JSON with the schema of `$id`. */
function jsonAnswer(description: string, id: string): object {
  return { description, content: { 'application/json': { schema: { $ref: `${id}#` } } } };
}

function ingest(eventTypes: readonly string[]): RouteContract {
  return {
    operationId: 'ingest',
    summary: 'Append events durably; answers once they are fsynced and visible to queries.',
    scope: 'ingest',
    accepts: ['ndjson', 'json'],
    params: { type: 'object', required: ['eventType'], properties: { eventType: { enum: eventTypes, description: 'An event type of the config.' } } },
    body: {
      content: {
        'application/x-ndjson': { schema: { type: 'string', description: 'One JSON event per line; a bad line is rejected alone.' } },
        'application/json': { schema: { type: 'array', items: { anyOf: eventTypes.map((t) => ({ $ref: `${eventSchemaId(t)}#` })) }, description: 'Events of the type the path names.' } },
      },
    },
    answer: jsonAnswer('Valid events stored; bad ones listed by index.', 'IngestResult'),
    errors: [
      'unknown_event_type', 'url_too_long', 'invalid_event', 'too_many_events', 'event_too_large',
      'log_overloaded', 'draining', 'log_write_failed', 'log_closed', 'speed_layer_full', 'disk_full',
      'append_unacknowledged', 'append_rejected', 'cluster_log_closed', 'cluster_record_invalid',
    ],
    notes: {
      404: 'No event type of that name.',
      413: 'The body (counted decompressed), its number of events, or in cluster mode one event, is larger than the configured limit.',
      414: 'An event type name in the URL longer than 64 characters.',
      503: 'The log cannot accept writes now (overloaded, failing or closing), or the speed layer is full; nothing of the request was stored, so retry it.',
    },
  };
}

const QUERY: RouteContract = {
  operationId: 'query',
  summary: 'Query a view: the batch view merged with the speed layer.',
  scope: 'query',
  accepts: ['json'],
  body: { $ref: 'Query#' },
  answer: jsonAnswer('Rows and where they came from.', 'QueryResult'),
  errors: ['unknown_view', 'unknown_dimension', 'unknown_measure', 'invalid_query', 'unknown_time_zone', 'time_zone_roll_up', 'result_too_large', 'query_timeout', 'position_wait_timeout', 'view_not_ready', 'view_backfilling', 'partitions_unavailable', 'served_version_changing', 'share_too_large', 'remote_share_failed', 'share_message_invalid'],
  notes: {
    400: 'An unknown view, dimension or measure, a malformed query (`field` names the key at fault), or an answer over the row limit.',
    503: 'The query ran past the time limit; the view (or the `version` named) is being backfilled after a change; in cluster mode, the node did not reach `after` in time, or the view is not ready yet.',
  },
};

const BATCH: RouteContract = {
  operationId: 'runBatch',
  summary: 'Run a batch cycle now (or join the running one) and answer when it is published.',
  scope: 'admin',
  accepts: ['json'],
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      full: { type: 'boolean', description: 'Recompute every view from the whole master dataset instead of adding the new events to the published views.' },
      seal: { type: 'boolean', description: 'Absorb every event up to the log end now. Without it an embedded engine stops at the end of the last log segment already in Parquet, and the partial segment stays in the speed layer.' },
    },
    description: 'Nothing, {}, {"full": true}, {"seal": true}, or both.',
  },
  bodyOptional: true,
  answer: jsonAnswer('The published version.', 'BatchSummary'),
  errors: [
    'batch_lease_held', 'batch_lease_expiring', 'batch_fenced', 'log_closed', 'log_write_failed', 'disk_full', 'data_missing', 'corrupt_master_file', 'cluster_record_invalid', 'archive_damaged',
    'cluster_bucket_missing', 'bucket_stalled', 'cluster_bucket_broken', 'log_behind_archive', 'batch_holder_unreachable', 'batch_holder_silent', 'batch_request_timeout', 'remote_batch_failed', 'batch_message_invalid',
  ],
  notes: {
    409: 'Cluster mode: another node holds the batch lease (the message names it), or this node lost the lease while its cycle ran.',
    502: 'Cluster mode: the node holding the batch lease ran the cycle for this one and it failed there (the message names the node and says why), or it answered with something this node could not read.',
    503: 'The log could not be sealed: the engine is closing, or the disk failed; in cluster mode, a record the cycle needs in NATS is not valid (the message names its bucket and key), or the object store lacks part of the archive or stalled while listing it, or NATS lost messages while the cycle ran, or the node holding the batch lease could not be reached, went silent, or was still running the cycle after the longest wait, or it restarted and waits for the lease its previous process held to expire (`batch_lease_expiring`: Retry-After says when it has).',
  },
};

const VIEWS: RouteContract = {
  operationId: 'views', summary: 'Event types and view definitions.', scope: 'any', answer: jsonAnswer('The definitions as JSON config.', 'Definitions'),
};

const VIEW_NAME = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 64, description: 'A view name.' } } };

const APPLY_VIEW: RouteContract = {
  operationId: 'applyView',
  summary: 'Add a view, or replace the view of this name, while serving: the old definition answers until the new one is backfilled from the master dataset and switched in.',
  scope: 'admin',
  accepts: ['json'],
  params: VIEW_NAME,
  body: { type: 'object', description: 'A view definition as in the config (its name may be left out; given, it must be the name in the path).' },
  answer: jsonAnswer('The change accepted: follow its backfill in /v1/status (viewChanges).', 'ViewChangeAnswer'),
  errors: ['invalid_definition', 'unknown_field', 'unknown_measure_type', 'view_changes_unsupported', 'frozen_aggregates'],
  notes: {
    400: 'The definition does not fit the event types; `field` names the key at fault (view.…).',
    409: 'The view keeps aggregates of events retention removed (keepAggregates), which a changed definition cannot recompute.',
    501: 'Cluster mode: views cannot change while a cluster serves yet.',
  },
};

const DROP_VIEW: RouteContract = {
  operationId: 'dropView',
  summary: 'Drop a view at once, and any change of it under way; the next batch version leaves it out.',
  scope: 'admin',
  params: VIEW_NAME,
  answer: jsonAnswer('The view dropped.', 'ViewChangeAnswer'),
  errors: ['unknown_view', 'view_changes_unsupported'],
  notes: { 400: 'No view of that name.', 501: 'Cluster mode: views cannot change while a cluster serves yet.' },
};

const CANCEL_VIEW_CHANGE: RouteContract = {
  operationId: 'cancelViewChange',
  summary: 'Cancel the change of a view under way: its backfill stops, its files go, and the definition served stays as it was.',
  scope: 'admin',
  params: VIEW_NAME,
  answer: jsonAnswer('The change cancelled.', 'ViewChangeAnswer'),
  errors: ['no_view_change'],
  notes: { 409: 'The view has no change under way, or its change is already switching in.' },
};

const ERASE: RouteContract = {
  operationId: 'erase',
  summary: 'Erase the events of one event type whose fields equal the values given, from every layer: answers once no answer counts them, with the audit record kept (which holds no value).',
  scope: 'admin',
  accepts: ['json'],
  body: {
    type: 'object', required: ['eventType', 'where'],
    properties: {
      eventType: { type: 'string' },
      where: { type: 'object', description: 'Field → value, or a list of values: an event is erased when every field named equals its value (one of them).' },
    },
    description: 'Which events to erase, e.g. {"eventType": "order", "where": {"customer": "c-123"}}.',
  },
  answer: jsonAnswer('The erasure done: its audit record.', 'ErasureAudit'),
  errors: ['invalid_erasure', 'erasure_unsupported', 'erasure_frozen_value', 'erasure_not_served', 'erasure_pending'],
  notes: {
    400: 'The request names no event type, no field, or a value its field cannot hold; `field` names the part at fault.',
    409: 'A view keeping aggregates (`keepAggregates`) has a `min`, `max` or `quantiles` of a field the erasure names that is not one of its dimensions: its frozen rows could keep an erased value; the message names the view.',
    501: 'This engine cannot erase events.',
    503: 'Cluster mode: the erasure is done, but a node still serves an older batch version that counts the erased events after a minute; the message names them.',
  },
};

const ERASURES: RouteContract = {
  operationId: 'erasures',
  summary: 'The audit log of erasures done, oldest first: who, when, which event type and fields, how many events and files; never the values.',
  scope: 'admin',
  answer: { description: 'The audit records.', type: 'array', items: { $ref: 'ErasureAudit#' } },
};

const STATUS: RouteContract = {
  operationId: 'status', summary: 'Log, batch and speed-layer state.', scope: 'admin', answer: jsonAnswer('Status snapshot.', 'Status'),
};

const STATUS_STREAM: RouteContract = {
  operationId: 'statusStream',
  summary: 'The status snapshot as Server-Sent Events: once a second, and after each batch.',
  scope: 'admin',
  answer: { description: '`status` events, each a Status snapshot as JSON.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
};

const HEALTH: RouteContract = {
  operationId: 'health',
  summary: 'Liveness.',
  answer: { description: 'The server is up.', type: 'object', required: ['ok'], properties: { ok: { const: true } } },
};

const METRICS: RouteContract = {
  operationId: 'metrics', summary: 'Prometheus metrics.', scope: 'admin',
  answer: { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } },
};

const OPENAPI: RouteContract = {
  operationId: 'openapi',
  summary: 'This document.',
  description: 'It describes every event type\'s fields: with keys configured, only key holders read it.',
  scope: 'any',
  answer: { description: 'OpenAPI 3.1.', type: 'object' },
};

/** The routes create-server.ts declares, by name. */
export type ApiRoute = 'ingest' | 'query' | 'batch' | 'views' | 'applyView' | 'dropView' | 'cancelViewChange' | 'erase' | 'erasures' | 'status' | 'statusStream' | 'health' | 'metrics' | 'openapi';

/**
 * The Fastify options of every route, for a catalog; `keys` says whether the server requires API keys.
 *
 * @example
 * ```ts
 * const routes = apiRoutes(tandem.catalog, access.enabled);
 * app.post('/v1/query', routes.query, handler);
 * ```
 */
export function apiRoutes(catalog: Catalog, keys: boolean): Readonly<Record<ApiRoute, RouteShorthandOptions>> {
  const contracts: Record<ApiRoute, RouteContract> = {
    ingest: ingest([...catalog.eventTypes.keys()]),
    query: QUERY, batch: BATCH, views: VIEWS, applyView: APPLY_VIEW, dropView: DROP_VIEW, cancelViewChange: CANCEL_VIEW_CHANGE, erase: ERASE, erasures: ERASURES, status: STATUS, statusStream: STATUS_STREAM, health: HEALTH, metrics: METRICS, openapi: OPENAPI,
  };
  return Object.fromEntries(Object.entries(contracts).map(([name, contract]) => [name, routeOptions(contract, keys)])) as Record<ApiRoute, RouteShorthandOptions>;
}
