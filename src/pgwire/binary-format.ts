/**
 * PostgreSQL's binary format for the types Tandem answers with, for clients
 * that ask for it (pgjdbc, as Metabase uses it, asks for binary results of
 * a statement it has prepared on the server after a few runs; node-postgres
 * with `binary: true` asks for every column). A cell is encoded from its
 * text form, so both formats are one answer; a parameter sent in binary is
 * decoded to the text the SQL layer reads.
 *
 * @module
 */
import { PgUnsupportedError } from './pg-errors.ts';
import { OID } from './pg-types.ts';

/** PostgreSQL counts time from 2000-01-01 UTC, in microseconds (timestamps) and days (dates). */
const EPOCH_MS = Date.UTC(2000, 0, 1);
const DAY_MS = 86_400_000;
const NUMERIC_NEGATIVE = 0x4000;
const NUMERIC_NAN = 0xc000;

/** Types whose binary form is their UTF-8 text. */
const TEXT_LIKE = new Set<number>([OID.text, OID.varchar, OID.name, OID.json, OID.char, OID.unknown]);

function fixed(size: number, write: (b: Buffer) => void): Buffer {
  const bytes = Buffer.alloc(size);
  write(bytes);
  return bytes;
}

/** Microseconds since 2000 of a timestamp's text (`2024-05-01 10:00:00.123456+00`, ISO forms too). */
function timestampMicros(text: string): bigint {
  const match = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d{1,6})\d*)?(Z|[+-]\d\d(?::?\d\d)?)?$/.exec(text.trim());
  if (match === null) throw new PgUnsupportedError(`The value '${text.slice(0, 40)}' cannot be sent as a binary timestamp; ask for text.`);
  const zone = match[4] === undefined || match[4] === 'Z' ? 'Z' : match[4].length === 3 ? `${match[4]}:00` : match[4];
  const ms = Date.parse(`${match[1]}T${match[2]}${zone}`);
  const micros = BigInt((match[3] ?? '').padEnd(6, '0'));
  return BigInt(ms - EPOCH_MS) * 1000n + micros;
}

/** A decimal's text as PostgreSQL's binary numeric: base-10000 digits with a weight, a sign and a display scale. */
function numericBinary(text: string): Buffer {
  const header = (ndigits: number, weight: number, sign: number, dscale: number) => fixed(8 + 2 * ndigits, (b) => {
    b.writeInt16BE(ndigits);
    b.writeInt16BE(weight, 2);
    b.writeUInt16BE(sign, 4);
    b.writeInt16BE(dscale, 6);
  });
  if (text === 'NaN') return header(0, 0, NUMERIC_NAN, 0);
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (match === null) throw new PgUnsupportedError(`The value '${text.slice(0, 40)}' cannot be sent as a binary numeric; ask for text.`);
  const [, minus, whole = '', fraction = ''] = match;
  const intDigits = whole.replace(/^0+/, '');
  const paddedInt = intDigits.padStart(Math.ceil(intDigits.length / 4) * 4, '0');
  const paddedFrac = fraction.padEnd(Math.ceil(fraction.length / 4) * 4, '0');
  let groups = (paddedInt + paddedFrac).match(/\d{4}/g)?.map(Number) ?? [];
  let weight = paddedInt.length / 4 - 1;
  while (groups.length > 0 && groups[0] === 0) {
    groups = groups.slice(1);
    weight -= 1;
  }
  while (groups.length > 0 && groups.at(-1) === 0) groups = groups.slice(0, -1);
  if (groups.length === 0) weight = 0;
  const bytes = header(groups.length, weight, minus === '-' && groups.length > 0 ? NUMERIC_NEGATIVE : 0, fraction.length);
  groups.forEach((g, i) => bytes.writeInt16BE(g, 8 + 2 * i));
  return bytes;
}

/**
 * A cell, given in text, in the binary format of its type.
 *
 * @example
 * ```ts
 * binaryCell('42', 20);     // <Buffer 00 00 00 00 00 00 00 2a>
 * binaryCell('t', 16);      // <Buffer 01>
 * ```
 */
export function binaryCell(text: string, oid: number): Buffer {
  switch (oid) {
    case OID.bool: return Buffer.from([text === 't' || text === 'true' ? 1 : 0]);
    case OID.int2: return fixed(2, (b) => b.writeInt16BE(Number(text)));
    case OID.int4:
    case OID.oid: return fixed(4, (b) => (oid === OID.oid ? b.writeUInt32BE(Number(text)) : b.writeInt32BE(Number(text))));
    case OID.int8: return fixed(8, (b) => b.writeBigInt64BE(BigInt(text)));
    case OID.float4: return fixed(4, (b) => b.writeFloatBE(Number(text)));
    case OID.float8: return fixed(8, (b) => b.writeDoubleBE(Number(text)));
    case OID.timestamp:
    case OID.timestamptz: return fixed(8, (b) => b.writeBigInt64BE(timestampMicros(text)));
    case OID.date: return fixed(4, (b) => b.writeInt32BE(Math.round((Date.parse(`${text.trim().slice(0, 10)}T00:00:00Z`) - EPOCH_MS) / DAY_MS)));
    case OID.numeric: return numericBinary(text);
    default:
      if (TEXT_LIKE.has(oid)) return Buffer.from(text, 'utf8');
      throw new PgUnsupportedError(`Type ${oid} is not sent in binary format; ask for text results.`);
  }
}

/** A binary numeric as decimal text: group `i` of its base-10000 digits stands for 10000^(weight - i). */
function numericText(bytes: Buffer): string {
  const ndigits = bytes.readInt16BE(0);
  const weight = bytes.readInt16BE(2);
  const sign = bytes.readUInt16BE(4);
  const dscale = bytes.readInt16BE(6);
  if (sign === NUMERIC_NAN) return 'NaN';
  const group = (i: number) => (i >= 0 && i < ndigits ? String(bytes.readInt16BE(8 + 2 * i)).padStart(4, '0') : '0000');
  const whole = weight >= 0 ? Array.from({ length: weight + 1 }, (_, i) => group(i)).join('').replace(/^0+(?=\d)/, '') : '0';
  const fraction = Array.from({ length: Math.ceil(dscale / 4) }, (_, k) => group(weight + 1 + k)).join('').slice(0, dscale);
  return `${sign === NUMERIC_NEGATIVE ? '-' : ''}${whole}${dscale > 0 ? `.${fraction}` : ''}`;
}

/**
 * A parameter sent in binary, as the value the SQL layer reads: a number,
 * a boolean, or text (timestamps as ISO-8601, numerics as decimal text).
 *
 * @example
 * ```ts
 * binaryParam(Buffer.from([0, 0, 0, 7]), 23);   // 7
 * ```
 */
export function binaryParam(bytes: Buffer, oid: number): unknown {
  const need = (size: number) => {
    if (bytes.length !== size) throw new PgUnsupportedError(`A binary parameter of type ${oid} has ${bytes.length} bytes, not ${size}.`);
  };
  switch (oid) {
    case OID.bool: need(1); return bytes[0] !== 0;
    case OID.int2: need(2); return bytes.readInt16BE();
    case OID.int4: need(4); return bytes.readInt32BE();
    case OID.oid: need(4); return bytes.readUInt32BE();
    case OID.int8: {
      need(8);
      const n = bytes.readBigInt64BE();
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
    }
    case OID.float4: need(4); return bytes.readFloatBE();
    case OID.float8: need(8); return bytes.readDoubleBE();
    case OID.timestamp:
    case OID.timestamptz: {
      need(8);
      const micros = bytes.readBigInt64BE();
      const ms = Number(micros / 1000n) + EPOCH_MS;
      return new Date(ms).toISOString();
    }
    case OID.date: need(4); return new Date(EPOCH_MS + bytes.readInt32BE() * DAY_MS).toISOString().slice(0, 10);
    case OID.numeric: return numericText(bytes);
    default:
      if (TEXT_LIKE.has(oid) || oid === 0) return bytes.toString('utf8');
      throw new PgUnsupportedError(`A parameter of type ${oid} in binary format is not read; send it as text.`);
  }
}
