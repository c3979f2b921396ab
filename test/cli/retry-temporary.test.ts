import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ApiClient } from '../../src/cli/api-client.ts';
import { CliError } from '../../src/cli/cli-error.ts';
import { batch } from '../../src/cli/commands/server-commands.ts';
import { httpTarget } from '../../src/cli/ingest-target.ts';

/** A server that refuses the first `refusals` requests as an overloaded Tandem would, then accepts. */
async function refusingServer(refusals: number, status: number, retryAfter: string | null) {
  let seen = 0;
  const server = createServer((_request, response) => {
    seen++;
    if (seen <= refusals) {
      response.writeHead(status, { 'content-type': 'application/json', ...(retryAfter === null ? {} : { 'retry-after': retryAfter }) });
      response.end(JSON.stringify({ error: { code: 'speed_layer_full', message: 'The speed layer is full.' } }));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ accepted: 2, duplicates: 0, rejected: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => seen, close: () => server.close() };
}

test('tandem ingest waits out a 503 or 507 with Retry-After and sends the same batch again', async () => {
  for (const status of [503, 507]) {
    const server = await refusingServer(2, status, '1');
    try {
      const started = performance.now();
      const outcome = await httpTarget(new ApiClient(server.url)).send('order', ['{}', '{}']);
      assert.equal(outcome.accepted, 2);
      assert.equal(server.requests(), 3);
      assert.ok(performance.now() - started >= 1900, 'it waited as told');
    } finally {
      server.close();
    }
  }
});

test('a refusal without Retry-After (say, a query too slow) is not retried but reported in one line', async () => {
  const server = await refusingServer(1, 503, null);
  try {
    await assert.rejects(httpTarget(new ApiClient(server.url)).send('order', ['{}']), (error: unknown) =>
      error instanceof CliError && error.message === 'The server answered 503: The speed layer is full.');
    assert.equal(server.requests(), 1);
  } finally {
    server.close();
  }
});

test('tandem batch waits out a cluster batch node that restarted (503 with Retry-After), saying so on stderr, and prints the version published', async () => {
  let seen = 0;
  const server = createServer((_request, response) => {
    seen++;
    if (seen === 1) {
      response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      response.end(JSON.stringify({ error: { code: 'batch_lease_expiring', message: 'Batch node n1 restarted and cannot run cycles until the lease its previous process held expires in 1 s; retry then.' } }));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ version: 2, cutoff: 0, events: 3, durationMs: 1_500, exportMs: 500, views: {} }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const printed: string[] = [];
  const errors: string[] = [];
  const { log, error } = console;
  console.log = (line: string) => printed.push(line);
  console.error = (line: string) => errors.push(line);
  try {
    const started = performance.now();
    await batch({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    assert.ok(performance.now() - started >= 950, 'it waited as told');
  } finally {
    console.log = log;
    console.error = error;
    server.close();
  }
  assert.equal(seen, 2);
  assert.deepEqual(errors, ['The server answered 503: Batch node n1 restarted and cannot run cycles until the lease its previous process held expires in 1 s; retry then. Asking again in 1 s.']);
  assert.equal(printed.length, 1);
  assert.match(printed[0]!, /^batch v2 published: 3 events below offset 0/);
});
