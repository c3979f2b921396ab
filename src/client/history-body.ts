/**
 * A history file as an upload's body: a path (in Node), a `Blob`, bytes, a
 * web `ReadableStream` or any async iterable of bytes (a Node `Readable`),
 * streamed to `fetch` and counted as it is taken, so a file of gigabytes
 * is never held in memory and a progress bar can follow it.
 *
 * @module
 */

/**
 * A history file's format, as the server's `format` parameter names it.
 *
 * @example
 * ```ts
 * await client.uploadHistory('order', process.stdin, { format: 'ndjson' satisfies HistoryFileFormat });
 * ```
 */
export type HistoryFileFormat = 'parquet' | 'csv' | 'ndjson' | 'json';

/**
 * What {@link TandemClient.uploadHistory} sends: a path (Node only), or the
 * file's bytes in any of the forms `fetch` can stream.
 *
 * @example
 * ```ts
 * const file: HistoryFile = createReadStream('orders-2023.parquet');
 * ```
 */
export type HistoryFile = string | Blob | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** The media type each format is sent as. */
export const HISTORY_MEDIA_TYPES: Readonly<Record<HistoryFileFormat, string>> = {
  parquet: 'application/vnd.apache.parquet', csv: 'text/csv', ndjson: 'application/x-ndjson', json: 'application/json',
};

/** The format a file name's extension says, as the server's `formatOf` reads it. */
export function formatOfName(name: string): HistoryFileFormat | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.parquet')) return 'parquet';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  return lower.endsWith('.json') ? 'json' : undefined;
}

/** The last segment of a path. */
export function baseName(path: string): string {
  return path.replaceAll('\\', '/').split('/').pop() ?? path;
}

/**
 * The file as a stream of bytes and its size when known. A path is opened
 * with Node's `fs.openAsBlob`, looked up when called (never imported), so
 * the client still loads where there is no file system.
 */
export async function historyBody(file: HistoryFile): Promise<{ readonly stream: ReadableStream<Uint8Array>; readonly bytes: number | undefined }> {
  if (typeof file === 'string') {
    // Typed by hand: naming Node's module, even as a type, would tie the client to it.
    const fs = globalThis.process?.getBuiltinModule?.('node:fs') as { openAsBlob(path: string): Promise<Blob> } | undefined;
    if (fs === undefined) throw new TypeError('A history file given by its path needs Node 20.16 or later; pass its bytes (a Blob or a stream) instead.');
    return historyBody(await fs.openAsBlob(file));
  }
  if (file instanceof Blob) return { stream: file.stream(), bytes: file.size };
  if (file instanceof Uint8Array) return historyBody(new Blob([file]));
  if (file instanceof ReadableStream) return { stream: file, bytes: undefined };
  return { stream: ReadableStream.from(file), bytes: undefined };
}

/** `stream`, telling `onBytes` of each chunk as `fetch` takes it. */
export function counted(stream: ReadableStream<Uint8Array>, onBytes: (bytes: number) => void): ReadableStream<Uint8Array> {
  return stream.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      onBytes(chunk.byteLength);
      controller.enqueue(chunk);
    },
  }));
}
