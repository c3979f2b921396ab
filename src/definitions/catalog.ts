/**
 * Validates a config (from TypeScript or JSON) and compiles it into the
 * {@link Catalog} every layer reads. All checks name the exact path that is
 * wrong, e.g. `views[0].measures.revenue.field`.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { COMPARISON_OPS, type EventTypeJson, type TandemConfig, type ViewJson } from './definition-types.ts';
import { canonicalJson, invalid, isRecord, list, oneOf, onlyKeys, record } from './config-checks.ts';
import { InvalidEventError, UnknownFieldError, UnknownMeasureTypeError } from './errors.ts';
import { FIELD_TYPES, MAX_SCALE, MAX_STRING_LENGTH, normalizeField, type Field, type FieldSpecInput } from './field.ts';
import { compileFilter, type CompiledFilter, type FilterOp } from './filter.ts';
import { GRANULARITIES, type Granularity } from './granularity.ts';
import { createMeasure } from './measures/create-measure.ts';
import { MAX_PRECISION, MIN_PRECISION } from './measures/hyperloglog.ts';
import { MEASURE_TYPES, type MeasureOptions, type MeasureType } from './measures/measure.ts';
import { sameNamedQuantiles, sameNamedQuantilesMessage } from './measures/quantiles-measure.ts';
import { checkName, NameSpace } from './names.ts';
import { compileServerConfig, type ServerSettings } from './server-config.ts';
import { checkPartitionBy, compileClusterConfig, type ClusterSettings } from './cluster-config.ts';
import { normalizeValue } from './normalize-value.ts';
import { compileRetention } from './retention.ts';
import type { EventTypeSchema, MeasureSchema, ViewSchema } from './schema.ts';
import type { Value } from './value.ts';

/**
 * Every event type and view of a config, validated and ready to run.
 *
 * @example
 * ```ts
 * const catalog = compileConfig(config);
 * catalog.views.get('revenue_by_country')?.granularity; // 'hour'
 * ```
 */
export interface Catalog {
  readonly config: TandemConfig;
  readonly eventTypes: ReadonlyMap<string, EventTypeSchema>;
  readonly views: ReadonlyMap<string, ViewSchema>;
  /** The `server` section: API keys and request limits. */
  readonly server: ServerSettings;
  /** The `cluster` section, when the config has one: the log's layout on NATS JetStream. */
  readonly cluster: ClusterSettings | undefined;
}

function compileField(path: string, name: string, spec: unknown, keyed: boolean): Field {
  checkName(path, name);
  if (typeof spec === 'string') return normalizeField(name, oneOf(path, spec, FIELD_TYPES), keyed);
  const obj = record(path, spec);
  onlyKeys(path, obj, ['type', 'optional', 'scale', 'maxLength']);
  const type = oneOf(`${path}.type`, obj.type, FIELD_TYPES);
  if (obj.optional !== undefined && typeof obj.optional !== 'boolean') invalid(`${path}.optional`, `${path}.optional must be true or false.`);
  if (obj.scale !== undefined) {
    if (type !== 'number') invalid(`${path}.scale`, `${path}.scale applies only to number fields.`);
    if (!Number.isInteger(obj.scale) || (obj.scale as number) < 0 || (obj.scale as number) > MAX_SCALE) {
      invalid(`${path}.scale`, `${path}.scale must be an integer from 0 to ${MAX_SCALE}.`);
    }
  }
  if (obj.maxLength !== undefined) {
    if (type !== 'string') invalid(`${path}.maxLength`, `${path}.maxLength applies only to string fields.`);
    if (!Number.isInteger(obj.maxLength) || (obj.maxLength as number) < 1 || (obj.maxLength as number) > MAX_STRING_LENGTH) {
      invalid(`${path}.maxLength`, `${path}.maxLength must be an integer from 1 to ${MAX_STRING_LENGTH.toLocaleString('en-US')}.`);
    }
  }
  return normalizeField(name, obj as FieldSpecInput, keyed);
}

function fieldOf(schema: EventTypeSchema, path: string, name: unknown): Field {
  if (typeof name !== 'string') invalid(path, `${path} must be a field name.`);
  const field = schema.fieldsByName.get(name);
  if (field === undefined) throw new UnknownFieldError(path, name, schema.name);
  return field;
}

/**
 * Compiles an event type. `dimensions` names the fields some view groups by:
 * those, and the idempotency key, are held in memory once per series or key,
 * so their default length is shorter.
 */
function compileEventType(path: string, input: unknown, dimensions: ReadonlySet<string>): EventTypeSchema {
  const obj = record(path, input);
  onlyKeys(path, obj, ['name', 'time', 'idempotencyKey', 'idempotencyWindow', 'retention', 'undeclaredFields', 'fields']);
  const name = checkName(`${path}.name`, obj.name);
  const fieldsObj = record(`${path}.fields`, obj.fields);
  const fieldNames = new NameSpace('field');
  const fields = Object.entries(fieldsObj).map(([n, spec]) => {
    const field = compileField(`${path}.fields.${n}`, n, spec, dimensions.has(n) || obj.idempotencyKey === n);
    fieldNames.claim(`${path}.fields.${n}`, n);
    return field;
  });
  const fieldsByName = new Map(fields.map((f) => [f.name, f]));
  const partial = { name, fields, fieldsByName } as unknown as EventTypeSchema;
  const time = fieldOf(partial, `${path}.time`, obj.time);
  if (time.type !== 'timestamp' || time.optional) invalid(`${path}.time`, `${path}.time must name a required timestamp field.`);
  let idempotencyKey: Field | undefined;
  if (obj.idempotencyKey !== undefined) {
    idempotencyKey = fieldOf(partial, `${path}.idempotencyKey`, obj.idempotencyKey);
    if (idempotencyKey.type !== 'string' || idempotencyKey.optional) {
      invalid(`${path}.idempotencyKey`, `${path}.idempotencyKey must name a required string field.`);
    }
  }
  const idempotencyWindow = compileIdempotencyWindow(path, obj.idempotencyWindow, idempotencyKey);
  const undeclaredFields = obj.undeclaredFields ?? 'reject';
  if (undeclaredFields !== 'reject' && undeclaredFields !== 'ignore') {
    invalid(`${path}.undeclaredFields`, `${path}.undeclaredFields must be 'reject' or 'ignore'.`);
  }
  const retentionMs = compileRetention(`${path}.retention`, obj.retention);
  return Object.freeze({ name, definition: obj as unknown as EventTypeJson, fields, fieldsByName, time, idempotencyKey, idempotencyWindow, retentionMs, undeclaredFields });
}

function compileIdempotencyWindow(path: string, value: unknown, key: Field | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (key === undefined) invalid(`${path}.idempotencyWindow`, `${path}.idempotencyWindow needs an idempotencyKey to apply to.`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    invalid(`${path}.idempotencyWindow`, `${path}.idempotencyWindow must be a positive whole number of events.`);
  }
  return value;
}

const MEASURE_FIELD_TYPES: Record<MeasureType, readonly string[]> = {
  count: [],
  sum: ['number'],
  avg: ['number'],
  min: ['number', 'timestamp'],
  max: ['number', 'timestamp'],
  countDistinct: ['string', 'number', 'boolean', 'timestamp'],
  quantiles: ['number'],
};

/** The keys each measure type takes besides `type` and `field`. */
const MEASURE_OPTIONS: Record<MeasureType, readonly string[]> = {
  count: [], sum: [], avg: [], min: [], max: [],
  countDistinct: ['precision'],
  quantiles: ['quantiles', 'relativeAccuracy'],
};

const MAX_QUANTILES = 32;

function compileMeasureOptions(path: string, type: MeasureType, obj: Record<string, unknown>): MeasureOptions {
  if (type === 'countDistinct') {
    if (obj.precision === undefined) return {};
    const p = obj.precision;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < MIN_PRECISION || p > MAX_PRECISION) {
      invalid(`${path}.precision`, `${path}.precision must be a whole number from ${MIN_PRECISION} to ${MAX_PRECISION} (registers are 2^precision; 12 gives about 1.6% standard error, 14 about 0.8%).`);
    }
    return { precision: p };
  }
  if (type !== 'quantiles') return {};
  const options: { quantiles?: number[]; relativeAccuracy?: number } = {};
  if (obj.quantiles !== undefined) {
    const qs = list(`${path}.quantiles`, obj.quantiles);
    if (qs.length === 0 || qs.length > MAX_QUANTILES || !qs.every((q) => typeof q === 'number' && q >= 0 && q <= 1)) {
      invalid(`${path}.quantiles`, `${path}.quantiles must list 1 to ${MAX_QUANTILES} numbers from 0 to 1, such as [0.5, 0.9, 0.99].`);
    }
    const clash = sameNamedQuantiles(qs as number[]);
    if (clash !== undefined) invalid(`${path}.quantiles`, sameNamedQuantilesMessage(`${path}.quantiles`, clash));
    options.quantiles = qs as number[];
  }
  if (obj.relativeAccuracy !== undefined) {
    const a = obj.relativeAccuracy;
    if (typeof a !== 'number' || !(a >= 0.0001 && a <= 0.1)) invalid(`${path}.relativeAccuracy`, `${path}.relativeAccuracy must be a number from 0.0001 to 0.1 (0.01 means every quantile within 1% of the true value).`);
    options.relativeAccuracy = a;
  }
  return options;
}

function compileMeasure(path: string, name: string, input: unknown, schema: EventTypeSchema): MeasureSchema {
  checkName(path, name);
  const obj = record(path, input);
  if (typeof obj.type !== 'string' || !MEASURE_TYPES.includes(obj.type as MeasureType)) {
    throw new UnknownMeasureTypeError(`${path}.type`, String(obj.type), MEASURE_TYPES);
  }
  const type = obj.type as MeasureType;
  if (type === 'count') {
    onlyKeys(path, obj, ['type', 'filter']);
    const filter = compileFilterList(`${path}.filter`, obj.filter, schema);
    return Object.freeze({ name, type, field: undefined, options: {}, filter, monoid: createMeasure(type, undefined) });
  }
  onlyKeys(path, obj, ['type', 'field', 'filter', ...MEASURE_OPTIONS[type]]);
  const field = fieldOf(schema, `${path}.field`, obj.field);
  const allowed = MEASURE_FIELD_TYPES[type];
  if (!allowed.includes(field.type)) {
    invalid(`${path}.field`, `${path}.field: ${type} needs a ${allowed.join(' or ')} field, but '${field.name}' is a ${field.type}.`);
  }
  const options = compileMeasureOptions(path, type, obj);
  const filter = compileFilterList(`${path}.filter`, obj.filter, schema);
  return Object.freeze({ name, type, field, options, filter, monoid: createMeasure(type, field, options) });
}

function normalizeOperand(path: string, field: Field, raw: unknown): Value {
  if (raw === null || raw === undefined) invalid(path, `${path} must not be null.`);
  try {
    return normalizeValue({ ...field, optional: false }, raw);
  } catch (error) {
    if (error instanceof InvalidEventError) invalid(path, `${path}: ${error.message}`);
    throw error;
  }
}

function compileFilterEntry(path: string, input: unknown, schema: EventTypeSchema): CompiledFilter {
  const obj = record(path, input);
  onlyKeys(path, obj, ['field', 'op', 'value']);
  const field = fieldOf(schema, `${path}.field`, obj.field);
  const op = oneOf<FilterOp>(`${path}.op`, obj.op, [...COMPARISON_OPS, 'in']);
  const ordering = op !== '=' && op !== '!=' && op !== 'in';
  if (ordering && field.type !== 'number' && field.type !== 'timestamp') {
    invalid(`${path}.op`, `${path}.op '${op}' needs a number or timestamp field; '${field.name}' is a ${field.type}.`);
  }
  if (op === 'in') {
    const values = list(`${path}.value`, obj.value);
    if (values.length === 0) invalid(`${path}.value`, `${path}.value must list at least one value.`);
    return compileFilter(field, op, values.map((v, i) => normalizeOperand(`${path}.value[${i}]`, field, v)));
  }
  return compileFilter(field, op, [normalizeOperand(`${path}.value`, field, obj.value)]);
}

/** A view's or a measure's filter: a list of conditions, all of which an event must meet; none when absent. */
function compileFilterList(path: string, input: unknown, schema: EventTypeSchema): readonly CompiledFilter[] {
  if (input === undefined) return [];
  return Object.freeze(list(path, input).map((f, i) => compileFilterEntry(`${path}[${i}]`, f, schema)));
}

/**
 * The layout of the state columns the batch layer writes (2: sums, minima and
 * maxima of number fields as scaled integers; 3: sketches as lists of
 * entries, not text). Part of every view's hash, so a batch view written in
 * another layout is recomputed rather than misread.
 */
const STATE_FORMAT = 3;

function hashView(view: unknown, eventType: EventTypeJson): string {
  // The idempotency window and the retention decide what is stored, not how a view computes, so changing them recomputes
  // nothing; nor does keeping a view's aggregates past the retention.
  const { idempotencyWindow, retention, ...computed } = eventType;
  const { keepAggregates, ...definition } = view as Record<string, unknown>;
  return createHash('sha256').update(canonicalJson({ view: definition, eventType: computed, stateFormat: STATE_FORMAT })).digest('hex').slice(0, 16);
}

function compileView(path: string, input: unknown, eventTypes: ReadonlyMap<string, EventTypeSchema>): ViewSchema {
  const obj = record(path, input);
  onlyKeys(path, obj, ['name', 'eventType', 'dimensions', 'granularity', 'measures', 'filter', 'keepAggregates']);
  const name = checkName(`${path}.name`, obj.name);
  const eventType = eventTypes.get(String(obj.eventType));
  if (eventType === undefined) {
    invalid(`${path}.eventType`, `${path}.eventType ${JSON.stringify(obj.eventType)} is not one of the config's event types.`);
  }
  // Dimensions, measures and the bucket are the columns of one table and the keys of one answer row.
  const columns = new NameSpace('dimension or measure', { time: 'the bucket column' });
  const dimensions = list(`${path}.dimensions`, obj.dimensions).map((d, i) => {
    const field = fieldOf(eventType, `${path}.dimensions[${i}]`, d);
    if (field.type === 'timestamp') invalid(`${path}.dimensions[${i}]`, `${path}.dimensions[${i}]: '${field.name}' is a timestamp; use the granularity for time.`);
    columns.claim(`${path}.dimensions[${i}]`, field.name);
    return field;
  });
  const granularity: Granularity = oneOf(`${path}.granularity`, obj.granularity, GRANULARITIES);
  const measuresObj = record(`${path}.measures`, obj.measures);
  const measures = Object.entries(measuresObj).map(([n, m]) => {
    const measure = compileMeasure(`${path}.measures.${n}`, n, m, eventType);
    columns.claim(`${path}.measures.${n}`, n);
    return measure;
  });
  if (measures.length === 0) invalid(`${path}.measures`, `${path}.measures must define at least one measure.`);
  const filter = compileFilterList(`${path}.filter`, obj.filter, eventType);
  const keepAggregates = compileKeepAggregates(`${path}.keepAggregates`, obj.keepAggregates, eventType);
  return Object.freeze({
    name, definition: obj as unknown as ViewJson, eventType, dimensions, granularity, measures, filter, keepAggregates,
    hash: hashView(obj, eventType.definition),
  });
}

/** Whether a view keeps its aggregates of events its event type's retention removes: only where there is a retention. */
function compileKeepAggregates(path: string, value: unknown, eventType: EventTypeSchema): boolean {
  if (value === undefined || value === false) return false;
  if (value !== true) invalid(path, `${path} must be true or false.`);
  if (eventType.retentionMs === undefined) invalid(path, `${path} needs event type '${eventType.name}' to declare a retention.`);
  return true;
}

/** The names the views of `eventType` group by, read before either is validated (the views are checked in full later). */
function dimensionNames(views: readonly unknown[], eventType: unknown): Set<string> {
  const names = new Set<string>();
  for (const view of views) {
    if (!isRecord(view) || view.eventType !== eventType || !Array.isArray(view.dimensions)) continue;
    for (const d of view.dimensions) if (typeof d === 'string') names.add(d);
  }
  return names;
}

/** Event types name folders and views name files, so no two of either may differ only in case. */
function uniqueNames<T extends { readonly name: string }>(path: string, what: string, items: readonly T[]): Map<string, T> {
  const names = new NameSpace(what);
  items.forEach((item, i) => names.claim(`${path}[${i}].name`, item.name));
  return new Map(items.map((item) => [item.name, item]));
}

/**
 * Validates a config and compiles it.
 *
 * @example
 * ```ts
 * const catalog = compileConfig(JSON.parse(await readFile('tandem.config.json', 'utf8')));
 * catalog.views.get('revenue_by_country')?.granularity; // 'hour'
 * ```
 * @throws {InvalidDefinitionError | UnknownFieldError | UnknownMeasureTypeError} naming the offending path.
 */
export function compileConfig(input: unknown): Catalog {
  const obj = record('config', input);
  onlyKeys('config', obj, ['eventTypes', 'views', 'server', 'cluster', '$schema']);
  const viewList = list('views', obj.views);
  const eventTypes = uniqueNames('eventTypes', 'event type', list('eventTypes', obj.eventTypes).map((e, i) => {
    return compileEventType(`eventTypes[${i}]`, e, dimensionNames(viewList, isRecord(e) ? e.name : undefined));
  }));
  const views = uniqueNames('views', 'view', viewList.map((v, i) => compileView(`views[${i}]`, v, eventTypes)));
  const server = compileServerConfig(obj.server);
  const cluster = compileClusterConfig(obj.cluster);
  if (cluster !== undefined) checkPartitionBy(cluster, eventTypes);
  return Object.freeze({ config: obj as unknown as TandemConfig, eventTypes, views, server, cluster });
}
