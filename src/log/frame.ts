/**
 * The log's on-disk framing. Hand-written because no library frames records the
 * way group commit needs: one checksummed frame per append, whose payload is
 * NDJSON so that stripping the headers yields a file DuckDB reads directly.
 *
 *   u32 bodyLength | u32 crc32(body) | body
 *   body = u8 version | u8 typeLength | type (UTF-8) | u32 count | u64 firstOffset | payload
 *
 * @module
 */
import { crc32 } from 'node:zlib';

const VERSION = 1;
const PREFIX = 8;
/** Larger frames than this can only be garbage: a single append is capped well below it. */
export const MAX_FRAME_BODY = 1 << 30;

export interface Frame {
  readonly eventType: string;
  readonly count: number;
  readonly firstOffset: number;
  /** NDJSON lines, one per event, each ending in a newline. */
  readonly payload: Buffer;
  /** Bytes the frame takes in the file. */
  readonly size: number;
}

/**
 * One frame holding `payload`, NDJSON as bytes or text. The frame owns its
 * whole ArrayBuffer (never a slice of Node's pool), so a worker can transfer it.
 */
export function encodeFrame(eventType: string, firstOffset: number, count: number, payload: Buffer | string): Buffer {
  const type = Buffer.from(eventType, 'utf8');
  const headerLength = 2 + type.length + 12;
  const payloadLength = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
  const frame = Buffer.allocUnsafeSlow(PREFIX + headerLength + payloadLength);
  let at = PREFIX;
  frame.writeUInt8(VERSION, at++);
  frame.writeUInt8(type.length, at++);
  at += type.copy(frame, at);
  frame.writeUInt32LE(count, at);
  frame.writeBigUInt64LE(BigInt(firstOffset), at + 4);
  if (typeof payload === 'string') frame.write(payload, at + 12, 'utf8');
  else payload.copy(frame, at + 12);
  const body = frame.subarray(PREFIX);
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(crc32(body), 4);
  return frame;
}

/** Why a frame could not be read: `torn` if the file simply ends inside it. */
export type FrameProblem = 'torn' | 'checksum mismatch' | 'bad header';

/** Reads the frame at `position`, or says why there is none. */
export function decodeFrame(buffer: Buffer, position: number): Frame | FrameProblem {
  if (buffer.length - position < PREFIX) return 'torn';
  const length = buffer.readUInt32LE(position);
  if (length > MAX_FRAME_BODY || length < 14) return 'bad header';
  if (buffer.length - position - PREFIX < length) return 'torn';
  const body = buffer.subarray(position + PREFIX, position + PREFIX + length);
  if (crc32(body) !== buffer.readUInt32LE(position + 4)) return 'checksum mismatch';
  if (body.readUInt8(0) !== VERSION) return 'bad header';
  const typeLength = body.readUInt8(1);
  const eventType = body.toString('utf8', 2, 2 + typeLength);
  const at = 2 + typeLength;
  const count = body.readUInt32LE(at);
  const firstOffset = Number(body.readBigUInt64LE(at + 4));
  return { eventType, count, firstOffset, payload: body.subarray(at + 12), size: PREFIX + length };
}
