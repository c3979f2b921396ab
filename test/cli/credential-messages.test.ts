/**
 * The CLI's client with a user and password in its URL, in process: they
 * are sent as Basic auth, and no message it writes (a refused address, an
 * unreachable server, a 401, a key given as well) shows any part of the
 * password, for seeded random secrets written encoded or raw.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ApiClient, serverUrl } from '../../src/cli/api-client.ts';
import { CliError } from '../../src/cli/cli-error.ts';
import { scheme, secretUrl, showsSecret } from '../util/secret-urls.ts';

const RUNS = { seed: 20261202, numRuns: 500 };

/** A server answering every request with `status`, remembering the headers it got. */
async function recordingServer(status: number): Promise<{ url: string; headers: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const headers: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    headers.push(request.headers);
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(status === 200 ? '{"ok":true}' : '{"error":{"code":"unauthorized","message":"no"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `127.0.0.1:${(server.address() as AddressInfo).port}`, headers, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function closedPort(): Promise<number> {
  const server = await recordingServer(200);
  await server.close();
  return Number(server.url.split(':')[1]);
}

/** The message of what `fn` throws, which must be a CliError; undefined when it does not throw. */
async function cliMessage(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof CliError, String(error));
    return error.message;
  }
}

describe('cli - credentials in --url and TANDEM_URL', () => {
  test('credentials - sent as Authorization: Basic to the server, with the password as written', async () => {
    const server = await recordingServer(200);
    try {
      await new ApiClient(`http://ada:p%40ss:w0rd@${server.url}`).get('/v1/status');
      await new ApiClient(`ada:s3cret@${server.url}`).get('/v1/status');
      await new ApiClient(`http://${server.url}`, 'tdk_key').get('/v1/status');
      assert.deepEqual(server.headers.map((h) => h.authorization), [
        `Basic ${Buffer.from('ada:p@ss:w0rd').toString('base64')}`, `Basic ${Buffer.from('ada:s3cret').toString('base64')}`, 'Bearer tdk_key',
      ]);
    } finally {
      await server.close();
    }
  });

  test('credentials - a 401 says the server refused the user and password, without the password', async () => {
    const server = await recordingServer(401);
    try {
      assert.equal(await cliMessage(() => new ApiClient(`http://ada:s3cret@${server.url}`).get('/v1/status')),
        `The server at http://ada:***@${server.url}/ refused the user and password in the URL (401).`);
    } finally {
      await server.close();
    }
  });

  test('credentials - refused beside an API key, in a sentence without the password', async () => {
    assert.equal(await cliMessage(() => new ApiClient('http://ada:s3cret@127.0.0.1:7070', 'tdk_key')),
      '--url (or TANDEM_URL) http://ada:***@127.0.0.1:7070/ holds a user and password, sent as Basic auth, and an API key is given, sent as a bearer token; '
      + 'a request has one Authorization header, so drop one of them.');
  });

  test('credentials - no part of a secret in what serverUrl and the ApiClient constructor refuse', () => {
    const anyAddress = secretUrl({ schemes: fc.oneof(scheme, fc.constantFrom('', 'ftp://', 'postgres://')) });
    fc.assert(fc.property(anyAddress, fc.option(fc.constant('tdk_key'), { nil: undefined }), ({ url }, apiKey) => {
      for (const attempt of [() => serverUrl(url), () => new ApiClient(url, apiKey)]) {
        try {
          attempt();
        } catch (error) {
          assert.ok(error instanceof CliError && !showsSecret(error.message), `${url}: ${String(error)}`);
        }
      }
    }), { ...RUNS, numRuns: 1_500 });
  });

  test('credentials - no part of a secret in what an unreachable server makes the client say', async () => {
    const port = await closedPort();
    // Raw / ? # \ would move the host into the path and send the request to a name DNS must answer for.
    const address = secretUrl({ forbiddenRaw: ['/', '?', '#', '\\'], schemes: fc.constantFrom('http://', 'https://', ''), hosts: fc.constant(`127.0.0.1:${port}`) });
    await fc.assert(fc.asyncProperty(address, async ({ url }) => {
      const message = await cliMessage(() => new ApiClient(url).get('/v1/status'));
      assert.ok(message !== undefined && !showsSecret(message), `${url}: ${message}`);
    }), RUNS);
  });
});
