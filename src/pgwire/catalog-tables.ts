/**
 * The rows of the small catalog: PostgreSQL's `pg_catalog` and
 * `information_schema` tables that clients read on connect and to list
 * tables and columns, with each view as a table of schema `public` (its
 * columns `time`, its dimensions, its measures). Only the columns clients
 * read are kept; every other column of PostgreSQL's tables is left out, so
 * a query naming one is refused by the catalog's binder, never answered
 * wrongly.
 *
 * @module
 */
import type { Catalog, MeasureSchema } from '../definitions/index.ts';
import { ViewTable, columnType, type SqlType } from '../sql/index.ts';
import { OID } from './pg-types.ts';

/**
 * A catalog table: its DuckDB columns (with the defaults PostgreSQL's empty
 * fields have) and its rows, each naming only the columns it sets.
 *
 * @example
 * ```ts
 * const table: CatalogTable = { schema: 'pg_catalog', name: 'pg_am', columns: 'oid INTEGER, amname VARCHAR', rows: [{ oid: 2, amname: 'heap' }] };
 * ```
 */
export interface CatalogTable {
  readonly schema: 'pg_catalog' | 'information_schema';
  readonly name: string;
  readonly columns: string;
  readonly rows: readonly Readonly<Record<string, string | number | boolean | null>>[];
}

export const NAMESPACE = { pg_catalog: 11, public: 2200, information_schema: 13_000 } as const;
/** The OID of the first view's relation; a view's OID is this plus its place in the config. */
const FIRST_VIEW_OID = 16_400;
const DATABASE_OID = 16_384;
const OWNER_OID = 10;

/** Each answer type as `pg_type`, `format_type` and `information_schema.columns` name it. */
const TYPES: readonly { readonly oid: number; readonly name: string; readonly sqlName: string; readonly len: number; readonly category: string }[] = [
  { oid: OID.bool, name: 'bool', sqlName: 'boolean', len: 1, category: 'B' },
  { oid: OID.char, name: 'char', sqlName: '"char"', len: 1, category: 'Z' },
  { oid: OID.name, name: 'name', sqlName: 'name', len: 64, category: 'S' },
  { oid: OID.int8, name: 'int8', sqlName: 'bigint', len: 8, category: 'N' },
  { oid: OID.int2, name: 'int2', sqlName: 'smallint', len: 2, category: 'N' },
  { oid: OID.int4, name: 'int4', sqlName: 'integer', len: 4, category: 'N' },
  { oid: OID.text, name: 'text', sqlName: 'text', len: -1, category: 'S' },
  { oid: OID.oid, name: 'oid', sqlName: 'oid', len: 4, category: 'N' },
  { oid: OID.json, name: 'json', sqlName: 'json', len: -1, category: 'U' },
  { oid: OID.float4, name: 'float4', sqlName: 'real', len: 4, category: 'N' },
  { oid: OID.float8, name: 'float8', sqlName: 'double precision', len: 8, category: 'N' },
  { oid: OID.varchar, name: 'varchar', sqlName: 'character varying', len: -1, category: 'S' },
  { oid: OID.date, name: 'date', sqlName: 'date', len: 4, category: 'D' },
  { oid: OID.timestamp, name: 'timestamp', sqlName: 'timestamp without time zone', len: 8, category: 'D' },
  { oid: OID.timestamptz, name: 'timestamptz', sqlName: 'timestamp with time zone', len: 8, category: 'D' },
  { oid: OID.interval, name: 'interval', sqlName: 'interval', len: 16, category: 'T' },
  { oid: OID.numeric, name: 'numeric', sqlName: 'numeric', len: -1, category: 'N' },
];

/**
 * A type's name as `format_type` writes it, by OID.
 *
 * @example
 * ```ts
 * typeSqlName(1184);   // 'timestamp with time zone'
 * ```
 */
export function typeSqlName(oid: number): string | undefined {
  return TYPES.find((t) => t.oid === oid)?.sqlName;
}

/** The types known by OID, for the catalog's `format_type`. */
export function knownTypes(): readonly { readonly oid: number; readonly sqlName: string }[] {
  return TYPES;
}

interface TableColumn {
  readonly view: string;
  readonly viewOid: number;
  readonly name: string;
  readonly number: number;
  readonly type: SqlType;
  readonly description: string;
}

function tableColumns(catalog: Catalog): TableColumn[] {
  return [...catalog.views.values()].flatMap((view, v) => new ViewTable(view, undefined).columns().map((column, i) => ({
    view: view.name,
    viewOid: FIRST_VIEW_OID + v,
    name: column.kind === 'time' ? 'time' : column.kind === 'dimension' ? column.field.name : column.measure.name,
    number: i + 1,
    type: columnType(column),
    description: column.kind === 'time' ? `the start of the ${view.granularity} bucket` : column.kind === 'dimension' ? 'dimension' : measureDescription(column.measure),
  })));
}

/** A measure column's description: its type, and whether it has a filter of its own (its values stay out: only the config's names and numbers reach the catalog's SQL). */
function measureDescription(measure: MeasureSchema): string {
  return measure.filter.length === 0 ? `measure: ${measure.type}` : `measure: ${measure.type}, of the events its own filter keeps`;
}

const PG_CLASS = `oid INTEGER, relname VARCHAR, relnamespace INTEGER, reltype INTEGER DEFAULT 0, reloftype INTEGER DEFAULT 0, relowner INTEGER DEFAULT ${OWNER_OID},
  relam INTEGER DEFAULT 2, relfilenode INTEGER DEFAULT 0, reltablespace INTEGER DEFAULT 0, relpages INTEGER DEFAULT 0, reltuples REAL DEFAULT -1, relallvisible INTEGER DEFAULT 0,
  reltoastrelid INTEGER DEFAULT 0, relhasindex BOOLEAN DEFAULT false, relisshared BOOLEAN DEFAULT false, relpersistence VARCHAR DEFAULT 'p', relkind VARCHAR DEFAULT 'r',
  relnatts SMALLINT DEFAULT 0, relchecks SMALLINT DEFAULT 0, relhasrules BOOLEAN DEFAULT false, relhastriggers BOOLEAN DEFAULT false, relhassubclass BOOLEAN DEFAULT false,
  relrowsecurity BOOLEAN DEFAULT false, relforcerowsecurity BOOLEAN DEFAULT false, relispopulated BOOLEAN DEFAULT true, relreplident VARCHAR DEFAULT 'd',
  relispartition BOOLEAN DEFAULT false, relrewrite INTEGER DEFAULT 0, relacl VARCHAR[], reloptions VARCHAR[], relpartbound VARCHAR`;

const PG_ATTRIBUTE = `attrelid INTEGER, attname VARCHAR, atttypid INTEGER, attstattarget INTEGER DEFAULT -1, attlen SMALLINT, attnum SMALLINT, attndims INTEGER DEFAULT 0,
  attcacheoff INTEGER DEFAULT -1, atttypmod INTEGER DEFAULT -1, attbyval BOOLEAN DEFAULT false, attstorage VARCHAR DEFAULT 'p', attalign VARCHAR DEFAULT 'd',
  attnotnull BOOLEAN DEFAULT false, atthasdef BOOLEAN DEFAULT false, atthasmissing BOOLEAN DEFAULT false, attidentity VARCHAR DEFAULT '', attgenerated VARCHAR DEFAULT '',
  attisdropped BOOLEAN DEFAULT false, attcompression VARCHAR DEFAULT '', attislocal BOOLEAN DEFAULT true, attinhcount INTEGER DEFAULT 0, attcollation INTEGER DEFAULT 0, attacl VARCHAR[], attoptions VARCHAR[], attfdwoptions VARCHAR[]`;

const PG_TYPE = `oid INTEGER, typname VARCHAR, typnamespace INTEGER DEFAULT ${NAMESPACE.pg_catalog}, typowner INTEGER DEFAULT ${OWNER_OID}, typlen SMALLINT, typbyval BOOLEAN DEFAULT false,
  typtype VARCHAR DEFAULT 'b', typcategory VARCHAR, typispreferred BOOLEAN DEFAULT false, typisdefined BOOLEAN DEFAULT true, typdelim VARCHAR DEFAULT ',', typrelid INTEGER DEFAULT 0,
  typelem INTEGER DEFAULT 0, typarray INTEGER DEFAULT 0, typinput VARCHAR DEFAULT '', typoutput VARCHAR DEFAULT '', typreceive VARCHAR DEFAULT '', typsend VARCHAR DEFAULT '',
  typalign VARCHAR DEFAULT 'i', typstorage VARCHAR DEFAULT 'p', typnotnull BOOLEAN DEFAULT false, typbasetype INTEGER DEFAULT 0, typtypmod INTEGER DEFAULT -1, typndims INTEGER DEFAULT 0,
  typcollation INTEGER DEFAULT 0, typdefault VARCHAR, typacl VARCHAR[]`;

const INFO_COLUMNS = `table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR, ordinal_position INTEGER, column_default VARCHAR, is_nullable VARCHAR DEFAULT 'YES',
  data_type VARCHAR, character_maximum_length INTEGER, character_octet_length INTEGER, numeric_precision INTEGER, numeric_precision_radix INTEGER, numeric_scale INTEGER,
  datetime_precision INTEGER, interval_type VARCHAR, udt_catalog VARCHAR, udt_schema VARCHAR DEFAULT 'pg_catalog', udt_name VARCHAR, is_identity VARCHAR DEFAULT 'NO',
  is_generated VARCHAR DEFAULT 'NEVER', is_updatable VARCHAR DEFAULT 'NO', dtd_identifier VARCHAR, collation_name VARCHAR, domain_name VARCHAR`;

const INFO_TABLES = `table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, table_type VARCHAR DEFAULT 'BASE TABLE', self_referencing_column_name VARCHAR,
  reference_generation VARCHAR, user_defined_type_catalog VARCHAR, user_defined_type_schema VARCHAR, user_defined_type_name VARCHAR, is_insertable_into VARCHAR DEFAULT 'NO',
  is_typed VARCHAR DEFAULT 'NO', commit_action VARCHAR`;

/** Tables no view fills: clients read them on connect or when they describe a table, and find them empty. */
const EMPTY_TABLES: readonly [CatalogTable['schema'], string, string][] = [
  ['pg_catalog', 'pg_attrdef', 'oid INTEGER, adrelid INTEGER, adnum SMALLINT, adbin VARCHAR'],
  ['pg_catalog', 'pg_index', 'indexrelid INTEGER, indrelid INTEGER, indnatts SMALLINT, indnkeyatts SMALLINT, indisunique BOOLEAN, indisprimary BOOLEAN, indisexclusion BOOLEAN, indimmediate BOOLEAN, indisclustered BOOLEAN, indisvalid BOOLEAN, indisready BOOLEAN, indislive BOOLEAN, indisreplident BOOLEAN, indkey SMALLINT[], indcollation INTEGER[], indclass INTEGER[], indoption SMALLINT[], indexprs VARCHAR, indpred VARCHAR, indnullsnotdistinct BOOLEAN'],
  ['pg_catalog', 'pg_constraint', 'oid INTEGER, conname VARCHAR, connamespace INTEGER, contype VARCHAR, condeferrable BOOLEAN, condeferred BOOLEAN, convalidated BOOLEAN, conrelid INTEGER, contypid INTEGER, conindid INTEGER, conparentid INTEGER, confrelid INTEGER, confupdtype VARCHAR, confdeltype VARCHAR, confmatchtype VARCHAR, conislocal BOOLEAN, coninhcount INTEGER, connoinherit BOOLEAN, conkey SMALLINT[], confkey SMALLINT[], conbin VARCHAR'],
  ['pg_catalog', 'pg_inherits', 'inhrelid INTEGER, inhparent INTEGER, inhseqno INTEGER, inhdetachpending BOOLEAN'],
  ['pg_catalog', 'pg_policy', 'oid INTEGER, polname VARCHAR, polrelid INTEGER, polcmd VARCHAR, polpermissive BOOLEAN, polroles INTEGER[], polqual VARCHAR, polwithcheck VARCHAR'],
  ['pg_catalog', 'pg_statistic_ext', 'oid INTEGER, stxrelid INTEGER, stxname VARCHAR, stxnamespace INTEGER, stxowner INTEGER, stxstattarget INTEGER, stxkeys SMALLINT[], stxkind VARCHAR[], stxexprs VARCHAR'],
  ['pg_catalog', 'pg_publication', 'oid INTEGER, pubname VARCHAR, pubowner INTEGER, puballtables BOOLEAN, pubinsert BOOLEAN, pubupdate BOOLEAN, pubdelete BOOLEAN, pubtruncate BOOLEAN, pubviaroot BOOLEAN'],
  ['pg_catalog', 'pg_publication_rel', 'oid INTEGER, prpubid INTEGER, prrelid INTEGER, prqual VARCHAR, prattrs SMALLINT[]'],
  ['pg_catalog', 'pg_publication_namespace', 'oid INTEGER, pnpubid INTEGER, pnnspid INTEGER'],
  ['pg_catalog', 'pg_trigger', 'oid INTEGER, tgrelid INTEGER, tgparentid INTEGER, tgname VARCHAR, tgfoid INTEGER, tgtype SMALLINT, tgenabled VARCHAR, tgisinternal BOOLEAN, tgconstraint INTEGER'],
  ['pg_catalog', 'pg_rewrite', 'oid INTEGER, rulename VARCHAR, ev_class INTEGER, ev_type VARCHAR, ev_enabled VARCHAR, is_instead BOOLEAN'],
  ['pg_catalog', 'pg_views', 'schemaname VARCHAR, viewname VARCHAR, viewowner VARCHAR, definition VARCHAR'],
  ['pg_catalog', 'pg_matviews', 'schemaname VARCHAR, matviewname VARCHAR, matviewowner VARCHAR, tablespace VARCHAR, hasindexes BOOLEAN, ispopulated BOOLEAN, definition VARCHAR'],
  ['pg_catalog', 'pg_indexes', 'schemaname VARCHAR, tablename VARCHAR, indexname VARCHAR, tablespace VARCHAR, indexdef VARCHAR'],
  ['pg_catalog', 'pg_sequence', 'seqrelid INTEGER, seqtypid INTEGER, seqstart BIGINT, seqincrement BIGINT, seqmax BIGINT, seqmin BIGINT, seqcache BIGINT, seqcycle BOOLEAN'],
  ['pg_catalog', 'pg_enum', 'oid INTEGER, enumtypid INTEGER, enumsortorder REAL, enumlabel VARCHAR'],
  ['pg_catalog', 'pg_proc', 'oid INTEGER, proname VARCHAR, pronamespace INTEGER, proowner INTEGER, prolang INTEGER, prokind VARCHAR, proretset BOOLEAN, prorettype INTEGER, proargtypes VARCHAR, proallargtypes INTEGER[], proargmodes VARCHAR[], proargnames VARCHAR[], prosrc VARCHAR, proisagg BOOLEAN, proiswindow BOOLEAN'],
  ['pg_catalog', 'pg_collation', 'oid INTEGER, collname VARCHAR, collnamespace INTEGER, collprovider VARCHAR, collencoding INTEGER, collcollate VARCHAR, collctype VARCHAR'],
  ['pg_catalog', 'pg_extension', 'oid INTEGER, extname VARCHAR, extowner INTEGER, extnamespace INTEGER, extrelocatable BOOLEAN, extversion VARCHAR'],
  ['pg_catalog', 'pg_foreign_table', 'ftrelid INTEGER, ftserver INTEGER, ftoptions VARCHAR[]'],
  ['pg_catalog', 'pg_partitioned_table', 'partrelid INTEGER, partstrat VARCHAR, partnatts SMALLINT, partdefid INTEGER, partattrs SMALLINT[]'],
  ['pg_catalog', 'pg_tablespace', 'oid INTEGER, spcname VARCHAR, spcowner INTEGER, spcacl VARCHAR[], spcoptions VARCHAR[]'],
  ['pg_catalog', 'pg_depend', 'classid INTEGER, objid INTEGER, objsubid INTEGER, refclassid INTEGER, refobjid INTEGER, refobjsubid INTEGER, deptype VARCHAR'],
  ['pg_catalog', 'pg_stat_activity', 'datid INTEGER, datname VARCHAR, pid INTEGER, usename VARCHAR, application_name VARCHAR, state VARCHAR, query VARCHAR'],
  ['pg_catalog', 'pg_event_trigger', 'oid INTEGER, evtname VARCHAR, evtevent VARCHAR, evtowner INTEGER, evtfoid INTEGER, evtenabled VARCHAR'],
  ['information_schema', 'views', 'table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, view_definition VARCHAR, check_option VARCHAR, is_updatable VARCHAR, is_insertable_into VARCHAR'],
  ['information_schema', 'table_constraints', 'constraint_catalog VARCHAR, constraint_schema VARCHAR, constraint_name VARCHAR, table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, constraint_type VARCHAR, is_deferrable VARCHAR, initially_deferred VARCHAR, enforced VARCHAR'],
  ['information_schema', 'key_column_usage', 'constraint_catalog VARCHAR, constraint_schema VARCHAR, constraint_name VARCHAR, table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR, ordinal_position INTEGER, position_in_unique_constraint INTEGER'],
  ['information_schema', 'routines', 'specific_catalog VARCHAR, specific_schema VARCHAR, specific_name VARCHAR, routine_catalog VARCHAR, routine_schema VARCHAR, routine_name VARCHAR, routine_type VARCHAR, data_type VARCHAR'],
];

/** `information_schema.columns`' type fields of an answer type. */
function infoType(type: SqlType): Record<string, string | number | null> {
  const oid = OID[type];
  const name = TYPES.find((t) => t.oid === oid)!;
  const fields: Record<string, string | number | null> = { data_type: name.sqlName, udt_name: name.name };
  if (type === 'int8') Object.assign(fields, { numeric_precision: 64, numeric_precision_radix: 2, numeric_scale: 0 });
  if (type === 'float8') Object.assign(fields, { numeric_precision: 53, numeric_precision_radix: 2 });
  if (type === 'numeric') fields.numeric_precision_radix = 10;
  if (type === 'timestamptz' || type === 'date') fields.datetime_precision = type === 'date' ? 0 : 6;
  return fields;
}

/**
 * Every catalog table with its rows, for a config's views and the database name clients connected to.
 *
 * @example
 * ```ts
 * const tables = catalogTables(tandem.catalog, 'tandem');
 * ```
 */
export function catalogTables(catalog: Catalog, database: string): CatalogTable[] {
  const views = [...catalog.views.values()];
  const columns = tableColumns(catalog);
  const size = (type: SqlType) => TYPES.find((t) => t.oid === OID[type])!.len;
  return [
    { schema: 'pg_catalog', name: 'pg_namespace', columns: 'oid INTEGER, nspname VARCHAR, nspowner INTEGER, nspacl VARCHAR[]', rows: Object.entries(NAMESPACE).map(([nspname, oid]) => ({ oid, nspname, nspowner: OWNER_OID })) },
    { schema: 'pg_catalog', name: 'pg_class', columns: PG_CLASS, rows: views.map((v, i) => ({ oid: FIRST_VIEW_OID + i, relname: v.name, relnamespace: NAMESPACE.public, relnatts: columns.filter((c) => c.view === v.name).length })) },
    { schema: 'pg_catalog', name: 'pg_attribute', columns: PG_ATTRIBUTE, rows: columns.map((c) => ({ attrelid: c.viewOid, attname: c.name, atttypid: OID[c.type], attlen: size(c.type), attnum: c.number, attnotnull: c.name === 'time' })) },
    { schema: 'pg_catalog', name: 'pg_type', columns: PG_TYPE, rows: TYPES.map((t) => ({ oid: t.oid, typname: t.name, typlen: t.len, typbyval: t.len > 0 && t.len <= 8, typcategory: t.category })) },
    { schema: 'pg_catalog', name: 'pg_database', columns: 'oid INTEGER, datname VARCHAR, datdba INTEGER, encoding INTEGER, datcollate VARCHAR, datctype VARCHAR, datistemplate BOOLEAN, datallowconn BOOLEAN, datconnlimit INTEGER, dattablespace INTEGER, datacl VARCHAR[], datlocprovider VARCHAR DEFAULT \'c\', daticulocale VARCHAR, daticurules VARCHAR, datcollversion VARCHAR, datfrozenxid INTEGER DEFAULT 0, datminmxid INTEGER DEFAULT 1', rows: [{ oid: DATABASE_OID, datname: database, datdba: OWNER_OID, encoding: 6, datcollate: 'C', datctype: 'C', datistemplate: false, datallowconn: true, datconnlimit: -1, dattablespace: 1663 }] },
    { schema: 'pg_catalog', name: 'pg_am', columns: 'oid INTEGER, amname VARCHAR, amhandler VARCHAR, amtype VARCHAR', rows: [{ oid: 2, amname: 'heap', amhandler: 'heap_tableam_handler', amtype: 't' }] },
    { schema: 'pg_catalog', name: 'pg_roles', columns: 'oid INTEGER, rolname VARCHAR, rolsuper BOOLEAN, rolinherit BOOLEAN, rolcreaterole BOOLEAN, rolcreatedb BOOLEAN, rolcanlogin BOOLEAN, rolreplication BOOLEAN, rolconnlimit INTEGER, rolvaliduntil TIMESTAMPTZ, rolbypassrls BOOLEAN, rolconfig VARCHAR[]', rows: [{ oid: OWNER_OID, rolname: 'tandem', rolsuper: false, rolinherit: true, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true, rolreplication: false, rolconnlimit: -1, rolbypassrls: false }] },
    { schema: 'pg_catalog', name: 'pg_user', columns: 'usename VARCHAR, usesysid INTEGER, usecreatedb BOOLEAN, usesuper BOOLEAN, userepl BOOLEAN, usebypassrls BOOLEAN', rows: [{ usename: 'tandem', usesysid: OWNER_OID, usecreatedb: false, usesuper: false, userepl: false, usebypassrls: false }] },
    { schema: 'pg_catalog', name: 'pg_description', columns: 'objoid INTEGER, classoid INTEGER, objsubid INTEGER, description VARCHAR', rows: columns.map((c) => ({ objoid: c.viewOid, classoid: 1259, objsubid: c.number, description: c.description })) },
    { schema: 'pg_catalog', name: 'pg_tables', columns: 'schemaname VARCHAR, tablename VARCHAR, tableowner VARCHAR, tablespace VARCHAR, hasindexes BOOLEAN, hasrules BOOLEAN, hastriggers BOOLEAN, rowsecurity BOOLEAN', rows: views.map((v) => ({ schemaname: 'public', tablename: v.name, tableowner: 'tandem', hasindexes: false, hasrules: false, hastriggers: false, rowsecurity: false })) },
    { schema: 'pg_catalog', name: 'pg_settings', columns: 'name VARCHAR, setting VARCHAR, unit VARCHAR, category VARCHAR, short_desc VARCHAR, context VARCHAR, vartype VARCHAR, source VARCHAR', rows: [] },
    { schema: 'information_schema', name: 'schemata', columns: 'catalog_name VARCHAR, schema_name VARCHAR, schema_owner VARCHAR, default_character_set_catalog VARCHAR, default_character_set_schema VARCHAR, default_character_set_name VARCHAR, sql_path VARCHAR', rows: Object.keys(NAMESPACE).map((schema_name) => ({ catalog_name: database, schema_name, schema_owner: 'tandem' })) },
    { schema: 'information_schema', name: 'tables', columns: INFO_TABLES, rows: views.map((v) => ({ table_catalog: database, table_schema: 'public', table_name: v.name })) },
    { schema: 'information_schema', name: 'columns', columns: INFO_COLUMNS, rows: columns.map((c) => ({ table_catalog: database, table_schema: 'public', table_name: c.view, column_name: c.name, ordinal_position: c.number, is_nullable: c.name === 'time' ? 'NO' : 'YES', udt_catalog: database, dtd_identifier: String(c.number), ...infoType(c.type) })) },
    ...EMPTY_TABLES.map(([schema, name, columns]) => ({ schema, name, columns, rows: [] })),
  ];
}
