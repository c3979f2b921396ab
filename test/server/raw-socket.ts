/**
 * A client that writes bytes on a raw TCP socket and then stalls, as a slow
 * or hostile client does, and reports what the server answered and when it
 * closed the connection.
 */
import { connect, type Socket } from 'node:net';

export interface Exchange {
  /** Milliseconds from connecting until the server closed the connection. */
  readonly closedAfterMs: number;
  /** Everything the server sent. */
  readonly received: string;
  /** The status of the first answer, if any. */
  readonly status: number | undefined;
  /** The error code in the first answer's body, if it is the server's error shape. */
  readonly code: string | undefined;
}

export interface StalledClient {
  readonly socket: Socket;
  /** Resolves once the server closes the connection (or `giveUpMs` passes, after which the client closes it). */
  readonly exchange: Promise<Exchange>;
}

/** Connects, writes `bytes`, and waits without sending more. */
export function stall(port: number, bytes: Buffer | string, giveUpMs = 30_000): StalledClient {
  const socket = connect(port, '127.0.0.1');
  const started = performance.now();
  const chunks: Buffer[] = [];
  socket.on('connect', () => void (bytes.length > 0 && socket.write(bytes)));
  socket.on('data', (chunk: Buffer) => void chunks.push(chunk));
  // The server resetting the connection is an answer too.
  socket.on('error', () => {});
  const exchange = new Promise<Exchange>((resolve) => {
    const giveUp = setTimeout(() => socket.destroy(), giveUpMs);
    socket.on('close', () => {
      clearTimeout(giveUp);
      const received = Buffer.concat(chunks).toString('utf8');
      resolve({ closedAfterMs: performance.now() - started, received, ...firstAnswer(received) });
    });
  });
  return { socket, exchange };
}

function firstAnswer(received: string): { status: number | undefined; code: string | undefined } {
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(received)?.[1];
  const body = /\r\n\r\n(\{.*?\})(?:HTTP\/|$)/s.exec(received)?.[1];
  let code: string | undefined;
  try {
    code = body === undefined ? undefined : (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: status === undefined ? undefined : Number(status), code };
}

/** A whole POST of `body` to `path`, as bytes, to cut anywhere. */
export function postBytes(path: string, body: string, headers: Record<string, string> = {}): Buffer {
  const head = Object.entries({ host: 'localhost', 'content-type': 'application/x-ndjson', 'content-length': String(Buffer.byteLength(body)), ...headers })
    .map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return Buffer.from(`POST ${path} HTTP/1.1\r\n${head}\r\n${body}`);
}
