/**
 * The JSON Schemas of the HTTP API's bodies, shared by its routes through
 * `$ref: '<$id>#'` and listed by name under `components.schemas` of
 * `/openapi.json`. They describe what Tandem's own code takes and answers
 * (src/serving/query.ts, src/engine/engine-types.ts); no request is checked
 * against them (see openapi.ts).
 *
 * @module
 */
import { MAX_TIME, MIN_TIME } from '../definitions/index.ts';

/** A schema Fastify shares by `$id`. */
export interface SharedSchema {
  readonly $id: string;
  readonly [keyword: string]: unknown;
}

/** `from` and `to`: ISO-8601 or epoch ms, within the times events can hold. */
function timeBound(description: string): object {
  return { description, oneOf: [{ type: 'string', format: 'date-time' }, { type: 'integer', minimum: MIN_TIME, maximum: MAX_TIME + 1 }] };
}

const LAYER = { enum: ['merged', 'batch', 'speed'] };
const DIMENSION_VALUE = { type: ['string', 'number', 'boolean', 'null'] };

const ORDER_KEY = {
  oneOf: [
    { type: 'object', required: ['measure'], additionalProperties: false, properties: { measure: { type: 'string' }, desc: { type: 'boolean' }, quantile: { type: 'number', minimum: 0, maximum: 1, description: 'For a quantiles measure: the quantile to sort by (default its first).' } } },
    { type: 'object', required: ['dimension'], additionalProperties: false, properties: { dimension: { type: 'string', description: 'A dimension in groupBy.' }, desc: { type: 'boolean' } } },
    { type: 'object', required: ['time'], additionalProperties: false, properties: { time: { const: true }, desc: { type: 'boolean' } } },
  ],
};

const QUERY: SharedSchema = {
  $id: 'Query',
  type: 'object',
  required: ['view'],
  additionalProperties: false,
  properties: {
    view: { type: 'string' },
    from: timeBound('Inclusive start of the time range, from 1900-01-01 up to 10000-01-01.'),
    to: timeBound('Exclusive end of the time range, from 1900-01-01 up to 10000-01-01.'),
    where: { type: 'object', additionalProperties: { oneOf: [DIMENSION_VALUE, { type: 'array', minItems: 1, items: DIMENSION_VALUE }] }, description: 'Dimension → value, or a list of values any of which may match.' },
    groupBy: { type: 'array', items: { type: 'string' }, uniqueItems: true, description: 'Each dimension at most once.' },
    granularity: { enum: ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year', 'all'], description: "The view's granularity or a coarser one, or all." },
    timeZone: {
      type: 'string', examples: ['Europe/Berlin'],
      description: "An IANA time zone (default UTC): days, weeks, months, quarters and years are its local ones, rolled up from the view's UTC buckets, which must fit inside them (hour buckets for whole-hour offsets, minute buckets for zones such as Asia/Kolkata); rows' time is the local period start with its offset. An unknown zone is unknown_time_zone, buckets that do not fit time_zone_roll_up (both 400).",
    },
    orderBy: { type: 'array', items: ORDER_KEY, description: 'Keys in order: measures, grouped dimensions and the time bucket, each at most once; ascending unless desc, nulls last.' },
    limit: { type: 'integer', minimum: 0 },
    layer: { ...LAYER, description: 'merged (default) answers from both layers; batch or speed from one alone.' },
    allowPartial: { type: 'boolean', description: "Cluster mode: answer even when some partitions' speed layers cannot be read in time, leaving their recent events out and naming them in meta.missingPartitions; without it such a query is refused with partitions_unavailable (503)." },
    states: { type: 'boolean', description: 'Answer each countDistinct and quantiles measure with its state ({ type, format, state: base64, and its parameters }) instead of its estimate, so that states of several answers can be merged.' },
    quantiles: {
      type: 'object',
      additionalProperties: { type: 'array', minItems: 1, maxItems: 32, items: { type: 'number', minimum: 0, maximum: 1 } },
      description: 'Per quantiles measure, other quantiles than the defined ones: {"latency": [0.5, 0.999]}.',
    },
    numbers: { enum: ['auto', 'text'], description: "The form of every count and sum: auto (default) a number, or exact decimal text once a double cannot carry it, so one column may mix both; text always exact decimal text. (The library also takes bigint; JSON has none.)" },
    version: { type: 'integer', minimum: 1, description: "The view's version to answer from (meta.viewVersion); refused unless it is the one served. While a change of the view is backfilled, naming the new version answers view_backfilling (503) with how far it is." },
    after: { type: 'array', items: { type: 'integer', minimum: 0 }, maxItems: 256, description: 'The position an ingest answered with: the answer includes those events. In cluster mode a node waits until it has applied it (503 with Retry-After after a bounded wait); the embedded engine has applied every position it answered with.' },
  },
};

/** A query's `meta`, which a SQL answer carries too (sql-route.ts). */
export const QUERY_META = {
  type: 'object',
  additionalProperties: false,
  required: ['batchVersion', 'batchCutoff', 'logEnd', 'batchAgeMs', 'layer', 'partialBuckets'],
  properties: {
    batchVersion: { type: ['integer', 'null'] },
    batchCutoff: { type: 'integer', description: 'Events with offsets below it come from the batch view; the rest from the speed layer.' },
    logEnd: { type: 'integer', description: 'One past the last durable offset.' },
    batchAgeMs: { type: ['number', 'null'] },
    layer: LAYER,
    partialBuckets: { type: 'array', items: { type: 'string', format: 'date-time' }, description: 'Time buckets the range cuts (only part of their view buckets are in range).' },
    timeZone: { type: 'string', description: "The time zone whose local periods the rows' buckets are: the query's timeZone, else UTC." },
    applied: { type: 'array', items: { type: 'integer' }, description: "Per log partition (the embedded log is one), how far this answer read it: in cluster mode, as far as the node that gave the partition's recent events had applied it. The answer includes an ingest's events when every entry is at least its position's." },
    batchCutoffs: { type: 'array', items: { type: 'integer' }, description: "Per log partition, the served batch version's cutoff." },
    owners: { type: 'array', items: { type: ['string', 'null'] }, description: 'Cluster mode: per log partition, the node holding its lease as the answering node last saw it (null while none does).' },
    missingPartitions: { type: 'array', items: { type: 'integer' }, description: 'Cluster mode, with allowPartial: the partitions whose speed layer no node could give, so the answer lacks their events past the batch cutoff.' },
    viewVersion: { type: 'integer', description: "The version of the view's definition that answered: raised each time the view changes." },
    retention: {
      ...exactly({ horizon: { type: 'string', format: 'date-time' }, keepsAggregates: { type: 'boolean' } }),
      description: "Set when the range reaches past the event type's retention horizon: older events may have left the master dataset, unless the view keeps its aggregates.",
    },
  },
};

/** A measure's value: a number, exact decimal text, an ISO time, null, an object of quantiles, or a sketch's state. */
const MEASURE_VALUE = { type: ['number', 'string', 'boolean', 'null', 'object'] };

const QUERY_RESULT: SharedSchema = {
  $id: 'QueryResult',
  type: 'object',
  additionalProperties: false,
  required: ['rows', 'meta'],
  properties: {
    rows: {
      type: 'array',
      items: { type: 'object', additionalProperties: MEASURE_VALUE, description: 'The grouped dimensions, time (ISO, unless granularity is all), and each measure: a sum or an average may be exact decimal text, a quantiles measure an object such as { p50, p99 }.' },
    },
    meta: QUERY_META,
  },
};

const INGEST_RESULT: SharedSchema = {
  $id: 'IngestResult',
  type: 'object',
  additionalProperties: false,
  required: ['accepted', 'stored', 'duplicates', 'rejected', 'firstOffset', 'lastOffset'],
  properties: {
    accepted: { type: 'integer', description: 'Valid events: stored now, or already in the log under the same idempotency key.' },
    stored: { type: ['integer', 'null'], description: 'The accepted events this request stored: accepted less duplicates. Null only in cluster mode when a partition\'s reader could not count the duplicates in time.' },
    duplicates: { type: 'integer', description: 'Accepted events already stored under the same idempotency key, so not stored again.' },
    rejected: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['index', 'field', 'error'], properties: { index: { type: 'integer' }, field: { type: 'string' }, error: { type: 'string' } } } },
    ignoredFields: { type: 'array', items: { type: 'string' }, description: 'Fields the events had and their type does not declare, left out (event types with undeclaredFields: ignore); absent when none.' },
    firstOffset: { type: ['integer', 'null'] },
    lastOffset: { type: ['integer', 'null'] },
    position: { type: 'array', items: { type: 'integer' }, description: "Where this ingest's events are: an answer whose meta.applied is at least this in every partition includes them, and a query's `after` set to it waits for them, on any node. In cluster mode, per partition, the sequence it was acknowledged at; embedded, one number, the log's end." },
  },
};

const BATCH_SUMMARY: SharedSchema = {
  $id: 'BatchSummary',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'cutoff', 'events', 'durationMs', 'exportMs', 'views'],
  properties: {
    version: { type: 'integer' },
    cutoff: { type: 'integer', description: 'Offsets below it went into this version (embedded mode; in cluster mode, see cutoffs).' },
    cutoffs: { type: 'array', items: { type: 'integer' }, description: 'Cluster mode: per log partition, the stream sequence below which its events went into this version.' },
    events: { type: 'integer', description: 'Events in the master dataset below the cutoff: all of them went into this version.' },
    durationMs: { type: 'number', description: 'The whole cycle, from sealing the log to publishing the version.' },
    exportMs: { type: 'number', description: 'Of which: sealing the log and exporting to Parquet what the background had not exported yet.' },
    mode: { enum: ['full', 'incremental'], description: 'incremental: the published views plus the events since their cutoff; full: every view recomputed from everything.' },
    inputEvents: { type: 'integer', description: 'Events this cycle read from the master dataset.' },
    views: { type: 'object', additionalProperties: { type: 'object', additionalProperties: false, required: ['rows', 'durationMs'], properties: { rows: { type: 'integer' }, durationMs: { type: 'number' } } } },
  },
};

/** An object with exactly these properties, all present, as the engine's types declare them (or null). */
function exactly(properties: Readonly<Record<string, object>>, nullable = false): object {
  return { type: nullable ? ['object', 'null'] : 'object', additionalProperties: false, required: Object.keys(properties), properties };
}

/** `schema` (of {@link exactly}) with the `optional` properties allowed too. */
function withOptional(optional: Readonly<Record<string, object>>, schema: object): object {
  const exact = schema as { properties: Record<string, object> };
  return { ...exact, properties: { ...exact.properties, ...optional } };
}

const TIME = { type: 'string', format: 'date-time' };

const STATUS: SharedSchema = {
  $id: 'Status',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'logEnd', 'sealedSegments', 'idempotencyKeys', 'batch', 'batchRunning', 'batchProgress', 'recentBatches', 'batchFailing', 'speed', 'viewChanges', 'viewVersions', 'ingestRate', 'memory', 'disk'],
  properties: {
    version: { type: 'string' },
    logEnd: { type: 'integer' },
    sealedSegments: { type: 'integer' },
    idempotencyKeys: { type: 'integer' },
    batch: exactly({ version: { type: 'integer' }, cutoff: { type: 'integer' }, createdAt: TIME, ageMs: { type: 'number' }, durationMs: { type: 'number' }, slots: { type: 'integer' }, bytes: { type: 'integer' } }, true),
    batchRunning: { type: 'boolean' },
    batchProgress: exactly({
      startedAt: TIME, phase: { enum: ['sealing', 'exporting', 'computing'] }, cutoff: { type: ['integer', 'null'] }, viewsDone: { type: 'integer' }, viewsTotal: { type: 'integer' },
    }, true),
    recentBatches: { type: 'array', items: { $ref: 'BatchSummary#' } },
    batchFailing: {
      ...exactly({ consecutive: { type: 'integer' }, since: TIME, lastAt: TIME, error: { type: 'string' }, code: { type: ['string', 'null'] } }, true),
      description: 'Set while batch runs keep failing (the published version keeps serving, but ages), null once one succeeds.',
    },
    speed: exactly({ from: { type: 'integer' }, events: { type: 'integer' }, keys: { type: 'integer' }, bytes: { type: 'integer', description: 'Estimated heap bytes.' }, generations: { type: 'integer' } }),
    viewChanges: { type: 'array', items: { $ref: 'ViewChange#' }, description: 'View changes whose batch layer is being backfilled, oldest first.' },
    viewVersions: { type: 'object', additionalProperties: { type: 'integer' }, description: "Each view's version: raised whenever its definition changes." },
    retention: {
      ...exactly({
        horizons: { type: 'object', additionalProperties: TIME }, retiredFiles: { type: 'integer' }, retiredEvents: { type: 'integer' }, awaitingDeletion: { type: 'integer' },
      }),
      description: 'Event types with a retention: the horizon of each, and the files and events retention took out of the master dataset (files awaiting deletion are still on disk).',
    },
    cluster: {
      type: 'object',
      additionalProperties: true,
      description: "Cluster mode only: the nodes, the batch lease, and each partition's positions. Sequences (`end`, `applied`, `batchCutoff`, `archived`) count messages, and a message may carry many events: `events` counts events.",
      properties: {
        events: { type: ['integer', 'null'], description: 'Events the cluster holds, each once, summed over the partitions; null while a partition\'s count is unknown to this node.' },
        archiveBytes: { type: ['integer', 'null'], description: 'Bytes of the archive (the Parquet objects in the object store) the served version reads; null until every object\'s size is looked up.' },
        partitions: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: true,
            properties: {
              partition: { type: 'integer' },
              end: { type: 'integer', description: "The stream's last sequence (messages), as of the node's last look." },
              applied: { type: 'integer', description: 'The last sequence (message) applied.' },
              events: { type: ['integer', 'null'], description: 'Events the partition holds up to `applied`, each once, counted by the node holding its speed layer; null while none has told.' },
              archivedEvents: { type: 'integer', description: 'Of them, the events in the archive the served version reads.' },
              archiveBytes: { type: ['integer', 'null'], description: 'Bytes of those events\' Parquet objects; null until looked up.' },
            },
          },
        },
      },
    },
    history: {
      ...exactly({
        eventType: { type: 'string' },
        phase: { enum: ['uploading', 'importing', 'publishing'], description: 'uploading while the file arrives, importing while its rows go into the master dataset, publishing during the batch cycle that serves them.' },
        file: { type: 'string', description: 'The name the client gave the file.' },
        bytesReceived: { type: 'integer', description: 'Bytes of the file received so far.' },
        rowsDone: { type: 'integer', description: 'Rows read so far.' },
        rowsKnown: { type: 'integer', description: 'Rows in the file, once counted (0 while uploading).' },
      }),
      description: 'Present while a history file sent to POST /v1/history/{eventType} is received, imported or published.',
    },
    ingestRate: { type: 'number', description: 'Events per second over the last 10 s.' },
    memory: exactly({ rssBytes: { type: 'integer' }, heapUsedBytes: { type: 'integer' } }),
    disk: exactly({ logBytes: { type: 'integer' }, masterBytes: { type: 'integer' }, batchBytes: { type: 'integer' }, freeBytes: { type: ['integer', 'null'] } }),
  },
};

const HISTORY_FILE = exactly({
  file: { type: 'string' },
  rows: { type: 'integer', description: 'Rows in the file.' },
  imported: { type: 'integer' },
  duplicates: { type: 'integer', description: 'Rows whose idempotency key was stored already, or came earlier in the file.' },
  rejected: { type: 'integer' },
  firstRejections: { type: 'array', items: exactly({ row: { type: 'integer', description: 'From 1.' }, error: { type: 'string' } }), description: 'The first rejected rows, with why.' },
  first: { type: 'integer', description: 'The first offset claimed for the file\'s rows.' },
  end: { type: 'integer', description: 'One past the last.' },
});

const HISTORY_IMPORT_SUMMARY: SharedSchema = {
  $id: 'HistoryImportSummary',
  ...withOptional({
    warning: { type: 'string', description: 'Set when the event type declares no idempotency key: a second load of the same file stores its events again.' },
  }, exactly({
    eventType: { type: 'string' },
    files: { type: 'array', items: HISTORY_FILE },
    rows: { type: 'integer' },
    imported: { type: 'integer' },
    duplicates: { type: 'integer' },
    rejected: { type: 'integer' },
    skipped: { type: 'array', items: { type: 'string' }, description: 'Always empty for an upload.' },
    importSeconds: { type: 'number', description: 'Seconds writing the master dataset.' },
    batchSeconds: { type: 'number', description: 'Seconds of the batch cycle that published it.' },
    batch: { $ref: 'BatchSummary#' },
  })),
};

const VIEW_CHANGE: SharedSchema = {
  $id: 'ViewChange',
  ...exactly({
    view: { type: 'string' },
    action: { enum: ['add', 'change'], description: 'add for a new name, change for a new definition of a served view.' },
    version: { type: 'integer', description: 'The version the change makes.' },
    serving: { type: ['integer', 'null'], description: 'The version answering meanwhile; null for a new view.' },
    state: { enum: ['backfilling', 'switching', 'retrying'], description: 'backfilling while its batch files are computed, switching during the batch cycle that serves it, retrying after that cycle failed.' },
    startedAt: TIME,
    filesDone: { type: 'integer' }, filesTotal: { type: 'integer' }, eventsDone: { type: 'integer' }, eventsTotal: { type: 'integer' },
    etaMs: { type: ['integer', 'null'], description: 'Milliseconds left at the rate so far; null until something is done.' },
    error: { type: ['string', 'null'], description: 'Why the last switch failed, while retrying.' },
  }),
};

const VIEW_CHANGE_ANSWER: SharedSchema = {
  $id: 'ViewChangeAnswer',
  ...exactly({
    view: { type: 'string' },
    action: { enum: ['add', 'change', 'drop', 'unchanged'] },
    version: { type: 'integer', description: 'The version the view has, or will have once backfilled; for a drop, the version dropped.' },
    state: { enum: ['backfilling', 'served', 'dropped'], description: 'backfilling until the new definition answers (follow it in /v1/status), served when it already does, dropped.' },
  }),
};

/** What an erasure did to a view's frozen aggregates (`keepAggregates`). */
const FROZEN_ERASURE = {
  type: 'object',
  additionalProperties: false,
  required: ['view', 'outcome'],
  properties: {
    view: { type: 'string' },
    outcome: { enum: ['dropped', 'counted'], description: 'dropped: the rows of the erased groups were taken out of the frozen parts; counted: the fields are not all dimensions of the view, whose frozen rows (aggregates, never the values) may still count erased events.' },
    rows: { type: 'integer', description: 'dropped: the frozen rows taken out.' },
    events: { type: 'integer', description: 'dropped: the events those rows counted, when the view has a count without a filter of its own.' },
  },
};

const ERASURE_AUDIT: SharedSchema = {
  $id: 'ErasureAudit',
  ...withOptional({
    frozen: { type: 'array', items: FROZEN_ERASURE, description: 'Views keeping aggregates of the type that had frozen rows: what the erasure did to them.' },
  }, exactly({
    id: { type: 'string' },
    by: { type: 'string', description: 'Who asked: the API key\'s name, or "anonymous" on a server without keys.' },
    requestedAt: TIME,
    completedAt: TIME,
    eventType: { type: 'string' },
    fields: { type: 'array', items: { type: 'string' }, description: 'The fields the predicate named; never their values.' },
    events: { type: 'integer', description: 'Events taken out of the master dataset.' },
    files: { type: 'integer', description: 'Parquet files written again without them.' },
  })),
};

const DEFINITIONS: SharedSchema = {
  $id: 'Definitions',
  type: 'object',
  required: ['eventTypes', 'views'],
  properties: {
    eventTypes: { type: 'array', items: { type: 'object' }, description: 'The event types, as JSON config.' },
    views: { type: 'array', items: { type: 'object' }, description: 'The views served now, as JSON config.' },
    versions: { type: 'object', additionalProperties: { type: 'integer' }, description: "Each view's version: raised whenever its definition changes." },
    changes: { type: 'array', items: { $ref: 'ViewChange#' }, description: 'View changes being backfilled; the definition served answers until each switches in.' },
  },
};

const ERROR: SharedSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string', description: 'One sentence that says what to do.' }, field: { type: 'string' } },
    },
  },
};

/** The API's shared schemas, other than the event types' (event-schemas.ts). */
export const API_SCHEMAS: readonly SharedSchema[] = [ERROR, QUERY, QUERY_RESULT, INGEST_RESULT, BATCH_SUMMARY, VIEW_CHANGE, VIEW_CHANGE_ANSWER, ERASURE_AUDIT, HISTORY_IMPORT_SUMMARY, STATUS, DEFINITIONS];
