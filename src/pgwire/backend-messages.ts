/**
 * The messages the server sends, each as one framed buffer: a type byte, a
 * 32-bit length that counts itself, and the body (PostgreSQL protocol 3.0,
 * "Message Formats"). Written here rather than taken from a library: the
 * maintained one, `pg-protocol`, serializes only the client's side of the
 * protocol, and `pg-gateway` (see pg-listener.ts) does not fit.
 *
 * @module
 */

/** The status byte of ReadyForQuery: idle, in a transaction block, or in a failed one. */
export type TransactionStatus = 'I' | 'T' | 'E';

/**
 * A column of a RowDescription: its name, its type's OID and that type's length (-1 when variable).
 *
 * @example
 * ```ts
 * const column: WireColumn = { name: 'country', oid: 25, size: -1 };
 * ```
 */
export interface WireColumn {
  readonly name: string;
  readonly oid: number;
  readonly size: number;
}

/** Builds one message body from parts, then frames it. */
class Body {
  readonly #parts: Buffer[] = [];

  int16(n: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeInt16BE(n);
    this.#parts.push(b);
    return this;
  }

  int32(n: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(n);
    this.#parts.push(b);
    return this;
  }

  /** A NUL-terminated UTF-8 string; a NUL inside would end it early, so it is dropped. */
  cstring(text: string): this {
    this.#parts.push(Buffer.from(`${text.replaceAll('\0', '')}\0`, 'utf8'));
    return this;
  }

  bytes(bytes: Buffer): this {
    this.#parts.push(bytes);
    return this;
  }

  frame(type: string): Buffer {
    const body = Buffer.concat(this.#parts);
    const head = Buffer.allocUnsafe(5);
    head.write(type, 0, 'latin1');
    head.writeInt32BE(body.length + 4, 1);
    return Buffer.concat([head, body]);
  }
}

export const authenticationOk = (): Buffer => new Body().int32(0).frame('R');
export const authenticationCleartextPassword = (): Buffer => new Body().int32(3).frame('R');
export const parameterStatus = (name: string, value: string): Buffer => new Body().cstring(name).cstring(value).frame('S');
export const backendKeyData = (processId: number, secret: number): Buffer => new Body().int32(processId).int32(secret).frame('K');
export const readyForQuery = (status: TransactionStatus): Buffer => new Body().bytes(Buffer.from(status, 'latin1')).frame('Z');
export const commandComplete = (tag: string): Buffer => new Body().cstring(tag).frame('C');
export const parseComplete = (): Buffer => new Body().frame('1');
export const bindComplete = (): Buffer => new Body().frame('2');
export const closeComplete = (): Buffer => new Body().frame('3');
export const noData = (): Buffer => new Body().frame('n');
export const emptyQueryResponse = (): Buffer => new Body().frame('I');
export const portalSuspended = (): Buffer => new Body().frame('s');

/** ParameterDescription: the type OID of each `$n`. */
export function parameterDescription(oids: readonly number[]): Buffer {
  const body = new Body().int16(oids.length);
  for (const oid of oids) body.int32(oid);
  return body.frame('t');
}

/** RowDescription: each column with its format (0 text, 1 binary; text unless given), not tied to a table (table OID and column number 0). */
export function rowDescription(columns: readonly WireColumn[], formats: readonly number[] = []): Buffer {
  const body = new Body().int16(columns.length);
  columns.forEach((c, i) => body.cstring(c.name).int32(0).int16(0).int32(c.oid).int16(c.size).int32(-1).int16(formats[i] ?? 0));
  return body.frame('T');
}

/** DataRow: each cell as text, as bytes already encoded (binary format), or null. */
export function dataRow(cells: readonly (string | Buffer | null)[]): Buffer {
  const body = new Body().int16(cells.length);
  for (const cell of cells) {
    if (cell === null) {
      body.int32(-1);
    } else {
      const bytes = typeof cell === 'string' ? Buffer.from(cell, 'utf8') : cell;
      body.int32(bytes.length).bytes(bytes);
    }
  }
  return body.frame('D');
}

/**
 * The fields of an ErrorResponse or NoticeResponse that Tandem sends.
 *
 * @example
 * ```ts
 * const fields: ErrorFields = { severity: 'ERROR', code: '42P01', message: "Unknown view 'x'." };
 * ```
 */
export interface ErrorFields {
  readonly severity: 'ERROR' | 'FATAL' | 'NOTICE' | 'WARNING';
  /** The SQLSTATE, five characters. */
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

function fieldsBody(fields: ErrorFields): Body {
  // S is the localized severity, V the same untranslated (clients of protocol 3.0 since PostgreSQL 9.6 read V).
  const body = new Body().bytes(Buffer.from('S')).cstring(fields.severity).bytes(Buffer.from('V')).cstring(fields.severity)
    .bytes(Buffer.from('C')).cstring(fields.code).bytes(Buffer.from('M')).cstring(fields.message);
  if (fields.hint !== undefined) body.bytes(Buffer.from('H')).cstring(fields.hint);
  return body.bytes(Buffer.from([0]));
}

export const errorResponse = (fields: ErrorFields): Buffer => fieldsBody(fields).frame('E');
export const noticeResponse = (fields: ErrorFields): Buffer => fieldsBody(fields).frame('N');
