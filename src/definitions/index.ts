/**
 * Definitions: event types, views and measures, written once and compiled for
 * every layer. This is the bottom layer; it imports no other.
 *
 * @module
 */
export * from './errors.ts';
export * from './definition-types.ts';
export { defineEventType, defineView, defineConfig } from './define.ts';
export { compileConfig, type Catalog } from './catalog.ts';
export { compileErasure, MAX_ERASURE_VALUES, type ErasurePredicate, type ErasureRequest } from './erasure-predicate.ts';
export { compileRetention, retentionHorizon, retentionHorizons } from './retention.ts';
export { withView, withoutView, viewsDigest, sameEventTypes, sameDefinition, reloadedCatalog, type EditedCatalog } from './view-edits.ts';
export type { EventTypeSchema, ViewSchema, MeasureSchema } from './schema.ts';
export type { Row, Value } from './value.ts';
export { FIELD_TYPES, DEFAULT_SCALE, type Field, type FieldType, type FieldSpecInput } from './field.ts';
export { GRANULARITIES, SHORTEST_BUCKET_MS, TYPICAL_BUCKET_MS, bucketStart, bucketStarts, bucketSql, nextBucket, rollsUpInto, type Granularity, type QueryGranularity } from './granularity.ts';
export { TimeZone, type OffsetChange } from './time-zone.ts';
export { fitsLocalPeriods, localPeriodStart, viewThatFits } from './local-periods.ts';
export { MEASURE_TYPES, type Measure, type MeasureType, type MeasureValue, type QuantileValues, type SqlScalar, type MeasureSql, type EncodedState, type StateColumn } from './measures/measure.ts';
export { createMeasure } from './measures/create-measure.ts';
export { quantileName, sameNamedQuantiles, sameNamedQuantilesMessage } from './measures/quantiles-measure.ts';
export { toColumns, emptyColumns, firstEvents, selectEvents, rowAt, valueAt, BOOLEAN_NULL, type Column, type EventColumns } from './event-columns.ts';
export { createColumnValidator, createEventValidator, type ColumnValidator, type EventValidator } from './event-validator.ts';
export { normalizeValue, parseIsoTime, MIN_TIME, MAX_TIME } from './normalize-value.ts';
export { filterSql, type CompiledFilter } from './filter.ts';
export { copyWithout } from './copy-without.ts';
export { sqlIdentifier, sqlStringLiteral } from './names.ts';
export { fromScaled, decimalString, addScaled, canonical, compareDecimals, scaledIntegerSql, type ScaledInt } from './scaled-number.ts';
export {
  API_SCOPES, DEFAULT_LIMITS, compileApiKeys, compileServerConfig, keyDigest,
  type ApiKey, type ApiKeyJson, type ApiScope, type ServerConfigJson, type ServerLimits, type ServerLimitsJson, type ServerSettings,
} from './server-config.ts';
export { compileClusterConfig, type ClusterConfigJson, type ClusterSettings } from './cluster-config.ts';
