/**
 * `tandem ingest` of CSV: DuckDB reads every cell as text and Tandem's own
 * validator parses it, so a CSV row and the same row as NDJSON become the
 * same event, whatever the machine's time zone and however a column mixes
 * timestamp forms. Empty cells: an unquoted empty cell is a missing value
 * (the empty string for a required string field), a quoted one ("") the
 * empty string.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openSource } from '../../src/cli/record-source.ts';
import { compileConfig, defineConfig, defineEventType, defineView, MAX_TIME, MIN_TIME, Tandem, type QueryRow } from '../../src/index.ts';
import { createEventValidator, type Field } from '../../src/definitions/index.ts';
import { runCli } from '../support/spawn-cli.ts';
import { makeTempDir } from '../support/temp-dir.ts';

/** The first line of an ingest into the keyless type 'reading' (test/cli/ingest-keyless-warning.test.ts checks it). */
const KEYLESS = "Event type 'reading' declares no idempotencyKey, so importing the same file again would store its events twice\\.";

const reading = defineEventType({
  name: 'reading',
  time: 'at',
  fields: {
    id: 'string',
    at: 'timestamp',
    name: 'string',
    note: { type: 'string', optional: true },
    amount: { type: 'number', scale: 2 },
    extra: { type: 'number', scale: 2, optional: true },
    flag: { type: 'boolean', optional: true },
  },
});
const config = defineConfig({
  eventTypes: [reading],
  views: [defineView(reading, {
    name: 'each',
    dimensions: ['id', 'name', 'note', 'amount', 'extra', 'flag'],
    granularity: 'none',
    measures: { n: { type: 'count' }, first: { type: 'min', field: 'at' }, last: { type: 'max', field: 'at' } },
  })],
});
const schema = compileConfig(config).eventTypes.get('reading')!;
const fields = new Map<string, Field>(schema.fields.map((f) => [f.name, f]));
const COLUMNS = ['id', 'at', 'name', 'note', 'amount', 'extra', 'flag'] as const;

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0');
const DAY = 86_400_000;

/** One cell: its CSV text, the value the same row carries as NDJSON (undefined: the field is absent), and for a valid timestamp its instant. */
interface Cell { readonly csv: string; readonly json: unknown; readonly instant?: number }

const quote = (s: string): string => `"${s.replaceAll('"', '""')}"`;

/** Every form a timestamp column may mix: Z, offsets with and without a colon, none (UTC), a date alone, epoch ms; and some invalid ones. */
const timestampCell: fc.Arbitrary<Cell> = fc.record({
  t: fc.oneof(fc.integer({ min: MIN_TIME + DAY, max: MAX_TIME - DAY }), fc.integer({ min: 0, max: 400 }).map((d) => Date.UTC(2024, 0, 1) + d * 3_600_000 * 7)),
  form: fc.constantFrom('Z', 'offset', 'offset-plain', 'none', 'none-space', 'date', 'epoch', 'bad-offset', 'year-0099'),
  offset: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
  quoted: fc.boolean(),
}).map(({ t, form, offset, quoted }): Cell => {
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 23);
  const zone = `${offset < 0 ? '-' : '+'}${pad(Math.trunc(offset / 60))}${form === 'offset-plain' ? '' : ':'}${pad(offset % 60)}`;
  let text: string;
  let instant: number | undefined = t;
  switch (form) {
    case 'Z': text = `${iso(t)}Z`; break;
    case 'offset': case 'offset-plain': text = `${iso(t + offset * 60_000)}${zone}`; break;
    case 'none': text = iso(t); break;
    case 'none-space': text = iso(t).replace('T', ' '); break;
    case 'date': text = iso(t).slice(0, 10); instant = Math.floor(t / DAY) * DAY; break;
    case 'epoch': return { csv: String(t), json: t, instant };
    case 'bad-offset': text = `${iso(t)}+${pad(24 + (Math.abs(offset) % 76))}:${pad(Math.abs(offset) % 100)}`; instant = undefined; break;
    default: text = `0099${iso(t).slice(4)}`; instant = undefined;
  }
  return { csv: quoted ? quote(text) : text, json: text, instant };
});

/** Strings with the characters CSV quoting is about; a quoted cell keeps spaces, commas and quotes. */
const text = fc.string({ unit: fc.constantFrom('a', 'b', 'Z', '7', ' ', ',', '"', 'é', '€', '中', '-', ';'), maxLength: 8 });

function stringCell(optional: boolean): fc.Arbitrary<Cell> {
  return fc.oneof(
    text.filter((s) => s !== '').map((s): Cell => ({ csv: quote(s), json: s })),
    fc.stringMatching(/^[a-z0-9][a-z0-9 ]{0,6}$/).map((s): Cell => ({ csv: s, json: s })),
    fc.constant<Cell>({ csv: '""', json: '' }),
    // An unquoted empty cell: missing, which a required string reads as the empty string.
    fc.constant<Cell>({ csv: '', json: optional ? undefined : '' }),
  );
}

function numberCell(): fc.Arbitrary<Cell> {
  const cents = fc.integer({ min: -10_000_000, max: 10_000_000 });
  return fc.oneof(
    cents.map((c): Cell => ({ csv: (c / 100).toFixed(2), json: c / 100 })),
    cents.map((c): Cell => ({ csv: ` ${c / 100} `, json: c / 100 })),
    cents.map((c): Cell => ({ csv: `${c}e-2`, json: c / 100 })),
    cents.map((c): Cell => ({ csv: quote(String(c / 100)), json: c / 100 })),
    fc.constantFrom<Cell>({ csv: 'ten', json: 'ten' }, { csv: '+1.55', json: 1.55 }, { csv: '.5', json: 0.5 }, { csv: '1.234', json: 1.234 }, { csv: 'Infinity', json: 'Infinity' }, { csv: '1e999', json: '1e999' }),
    // Blank: a missing value, null when optional and "is required" when not.
    fc.constantFrom<Cell>({ csv: '', json: undefined }, { csv: '""', json: undefined }, { csv: '  ', json: undefined }),
  );
}

const booleanCell: fc.Arbitrary<Cell> = fc.oneof(
  fc.tuple(fc.constantFrom('true', 't', 'yes', 'y', '1'), fc.boolean()).map(([word, upper]): Cell => ({ csv: upper ? word.toUpperCase() : word, json: true })),
  fc.tuple(fc.constantFrom('false', 'f', 'no', 'n', '0'), fc.boolean()).map(([word, upper]): Cell => ({ csv: upper ? word.toUpperCase() : word, json: false })),
  fc.constantFrom<Cell>({ csv: 'maybe', json: 'maybe' }, { csv: '', json: undefined }, { csv: '""', json: undefined }),
);

const row = fc.record({
  at: timestampCell, name: stringCell(false), note: stringCell(true), amount: numberCell(), extra: numberCell(), flag: booleanCell,
});
type Row = typeof row extends fc.Arbitrary<infer T> ? T : never;

function csvFile(rows: readonly Row[]): string {
  const lines = rows.map((r, i) => [`r${i}`, r.at.csv, r.name.csv, r.note.csv, r.amount.csv, r.extra.csv, r.flag.csv].join(','));
  return `${COLUMNS.join(',')}\n${lines.join('\n')}\n`;
}

/** The NDJSON event of the same row. */
function jsonEvent(r: Row, i: number): Record<string, unknown> {
  const event: Record<string, unknown> = { id: `r${i}` };
  for (const key of ['at', 'name', 'note', 'amount', 'extra', 'flag'] as const) if (r[key].json !== undefined) event[key] = r[key].json;
  return event;
}

function outcome(validate: (raw: unknown) => unknown, raw: unknown): unknown {
  try {
    return { row: validate(raw) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

let temp: Awaited<ReturnType<typeof makeTempDir>>;
before(async () => {
  temp = await makeTempDir('tandem-csv-');
});
after(async () => {
  await temp.remove();
});

test('csv: every row becomes the event its NDJSON twin becomes, or fails with the same sentence', { timeout: 60_000 }, async () => {
  const validate = createEventValidator(schema);
  const files = fc.sample(fc.array(row, { minLength: 1, maxLength: 60 }), { seed: 20261201, numRuns: 25 });
  let valid = 0;
  for (const [n, rows] of files.entries()) {
    const file = join(temp.dir, `rows-${n}.csv`);
    await writeFile(file, csvFile(rows));
    const source = await openSource(file, 'csv', fields);
    const lines: string[] = [];
    for await (const batch of source.batches(17)) lines.push(...batch.lines);
    assert.equal(lines.length, rows.length);
    lines.forEach((line, i) => {
      const fromCsv = outcome(validate, JSON.parse(line));
      assert.deepEqual(fromCsv, outcome(validate, jsonEvent(rows[i]!, i)), `${file} line ${i + 2}: ${line}`);
      if ('row' in (fromCsv as object)) valid++;
    });
  }
  assert.ok(valid > 50, `only ${valid} valid rows were generated`);
});

test('csv: empty cells, quoted and unquoted, by field type', async () => {
  const file = join(temp.dir, 'empty.csv');
  await writeFile(file, [
    'id,at,name,note,amount,extra,flag',
    'a,2024-05-01T00:00:00Z,,,1,,',
    'b,2024-05-01T00:00:00Z,"","",1,"",""',
    'c,2024-05-01T00:00:00Z, x ," y ",1, 2 , TRUE ',
    'd,,n,,,,',
  ].join('\n'));
  const source = await openSource(file, 'csv', fields);
  const lines: unknown[] = [];
  for await (const batch of source.batches(10)) lines.push(...batch.lines.map((l) => JSON.parse(l) as unknown));
  assert.deepEqual(lines, [
    // Plain decimals go on as text, which the validator scales exactly.
    { id: 'a', at: '2024-05-01T00:00:00Z', name: '', amount: '1' },
    { id: 'b', at: '2024-05-01T00:00:00Z', name: '', note: '', amount: '1' },
    { id: 'c', at: '2024-05-01T00:00:00Z', name: ' x ', note: ' y ', amount: '1', extra: '2', flag: true },
    { id: 'd', name: 'n' },
  ]);
  const validate = createEventValidator(schema);
  assert.throws(() => validate(lines[3]), /^InvalidEventError: Field 'at' is required\.$/);
});

/** The engine's answer for every stored event, one row per id. */
async function storedEvents(dataDir: string): Promise<QueryRow[]> {
  const tandem = await Tandem.open({ dataDir, config });
  try {
    const { rows } = await tandem.query({ view: 'each', groupBy: ['id', 'name', 'note', 'amount', 'extra', 'flag'], granularity: 'all', limit: 100_000 });
    return [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));
  } finally {
    await tandem.close();
  }
}

test('csv: tandem ingest stores a CSV as its NDJSON twin, in any local time zone; a date-time without an offset is UTC', { timeout: 120_000 }, async () => {
  const rows = fc.sample(row, { seed: 20261202, numRuns: 300 });
  const csv = join(temp.dir, 'zones.csv');
  await writeFile(csv, csvFile(rows));
  const ndjson = join(temp.dir, 'zones.ndjson');
  await writeFile(ndjson, rows.map((r, i) => JSON.stringify(jsonEvent(r, i))).join('\n'));
  const configFile = join(temp.dir, 'config.json');
  await writeFile(configFile, JSON.stringify(config));

  // The reference: what the NDJSON rows become in this process (TZ=UTC).
  const validate = createEventValidator(schema);
  const accepted = rows.map((r, i) => outcome(validate, jsonEvent(r, i))).filter((o) => 'row' in (o as object)).length;
  assert.ok(accepted > 100 && accepted < rows.length, `${accepted} of ${rows.length} rows valid`);

  let reference: QueryRow[] | undefined;
  for (const zone of ['America/New_York', 'Asia/Kolkata', 'UTC']) {
    for (const [format, file] of [['csv', csv], ['ndjson', ndjson]] as const) {
      const dataDir = join(temp.dir, `data-${zone.replace('/', '-')}-${format}`);
      const result = await runCli(['ingest', file, '--event', 'reading', '--data', dataDir, '--config', configFile, '--no-progress', '--max-rejects', '300'], { env: { TZ: zone } });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^${KEYLESS}\n300 events read: ${accepted} accepted \\(${accepted} stored, 0 already stored\\), ${300 - accepted} rejected`), `${zone} ${format}: ${result.stdout}`);
      const stored = await storedEvents(dataDir);
      assert.equal(stored.length, accepted);
      reference ??= stored;
      assert.deepEqual(stored, reference, `${zone} ${format}`);
    }
  }
  // And the instants are the ones written: a mixed column without offsets is UTC.
  for (const stored of reference!) {
    const cell = rows[Number(String(stored.id).slice(1))]!.at;
    assert.equal(stored.first, new Date(cell.instant!).toISOString(), cell.csv);
  }
});

test('csv: a bad cell rejects its row alone, with the HTTP API\'s sentence and the file line', async () => {
  const csv = join(temp.dir, 'bad.csv');
  await writeFile(csv, [
    'id,at,name,amount',
    'ok,2024-05-01T12:00:00,a,1',
    'offset,2024-05-01T12:00:00+99:99,a,1',
    'year,0099-01-01,a,1',
    'amount,2024-05-01,a,ten',
  ].join('\n'));
  const configFile = join(temp.dir, 'config.json');
  await writeFile(configFile, JSON.stringify(config));
  const result = await runCli(['ingest', csv, '--event', 'reading', '--data', join(temp.dir, 'bad-data'), '--config', configFile, '--no-progress'], { env: { TZ: 'Asia/Kolkata' } });
  assert.equal(result.code, 1, 'rows were rejected');
  assert.equal(result.stderr.trim(), 'tandem: 3 rows were rejected and not stored (see above); pass --max-rejects to accept some rejects.');
  assert.equal(result.stdout.trim().split('\n').slice(2).map((line) => line.trim()).join('\n'), [
    'line 3: Field \'at\' must be an ISO-8601 date-time with a UTC offset from -23:59 to +23:59; got "2024-05-01T12:00:00+99:99".',
    'line 4: Field \'at\' must fall between the years 1900 and 9999.',
    'line 5: Field \'amount\' must be a number, or a decimal string such as "12.50"; got "ten".',
  ].join('\n'));
  assert.match(result.stdout, new RegExp(`^${KEYLESS}\n4 events read: 1 accepted \\(1 stored, 0 already stored\\), 3 rejected`));
});

test('parquet: timestamp columns arrive as exact instants; one outside the years 0000-9999 as epoch ms, refused with the range', async () => {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const file = join(temp.dir, 'times.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`COPY (SELECT * FROM (VALUES
        (1, TIMESTAMP '2024-05-01 12:00:00.123'),
        (2, TIMESTAMP '0099-01-01 00:00:00'),
        (3, TIMESTAMP '12000-01-01 00:00:00'),
        (4, TIMESTAMP '1900-01-01 00:00:00')) v(n, "at")) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  const source = await openSource(file, 'parquet');
  const lines: string[] = [];
  for await (const batch of source.batches(10)) lines.push(...batch.lines);
  assert.deepEqual(lines.map((l) => JSON.parse(l) as unknown), [
    { n: 1, at: '2024-05-01T12:00:00.123Z' },
    { n: 2, at: '0099-01-01T00:00:00.000Z' },
    { n: 3, at: Date.parse('+012000-01-01T00:00:00Z') },
    { n: 4, at: '1900-01-01T00:00:00.000Z' },
  ]);
  const validate = createEventValidator(compileConfig(defineConfig({ eventTypes: [defineEventType({ name: 't', time: 'at', fields: { n: 'number', at: 'timestamp' } })], views: [] })).eventTypes.get('t')!);
  const outcomes = lines.map((l) => outcome(validate, JSON.parse(l)));
  assert.deepEqual(outcomes.map((o) => (o as { error?: string }).error ?? 'ok'), [
    'ok', "Field 'at' must fall between the years 1900 and 9999.", "Field 'at' must fall between the years 1900 and 9999.", 'ok',
  ]);
});
