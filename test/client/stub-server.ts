/**
 * A scripted HTTP server for client tests that need answers the real server
 * gives only under load or failure (503, 507, a proxy's page): each request
 * is recorded and answered by `answer`.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface StubAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON-encoded unless a string. */
  readonly body?: unknown;
}

export interface StubServer {
  readonly url: string;
  readonly requests: StubRequest[];
  close(): Promise<void>;
}

/** An error answer as the Tandem server writes it. */
export function errorAnswer(status: number, code: string, message: string, headers: Readonly<Record<string, string>> = {}, field?: string): StubAnswer {
  return { status, headers, body: { error: { code, message, ...(field === undefined ? {} : { field }) } } };
}

export async function startStub(answer: (request: StubRequest, index: number) => StubAnswer): Promise<StubServer> {
  const requests: StubRequest[] = [];
  const server = createServer((incoming, response) => {
    let body = '';
    incoming.setEncoding('utf8');
    incoming.on('data', (chunk: string) => (body += chunk));
    incoming.on('end', () => {
      const request = { method: incoming.method ?? '', url: incoming.url ?? '', headers: incoming.headers, body };
      requests.push(request);
      const { status, headers = {}, body: payload = {} } = answer(request, requests.length - 1);
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      response.writeHead(status, { 'content-type': typeof payload === 'string' ? 'text/html' : 'application/json', ...headers });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Runs `fn` against a stub server, closed afterwards whatever happens. */
export async function withStub<T>(answer: (request: StubRequest, index: number) => StubAnswer, fn: (stub: StubServer) => Promise<T>): Promise<T> {
  const stub = await startStub(answer);
  try {
    return await fn(stub);
  } finally {
    await stub.close();
  }
}
