/**
 * A user and password in the client's URL: sent as Basic auth (`fetch`
 * refuses a URL holding them), and shown nowhere: not in `client.url`, not
 * in an error's message, not in a bad URL's error.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient, ServerUnreachableError } from '../../src/client/index.ts';
import { startStub, withStub } from './stub-server.ts';

const withCredentials = (url: string) => url.replace('http://', 'http://ada:s3cret%40pw@');

describe('client - credentials in the URL', () => {
  test('credentials - sent as Authorization: Basic, and gone from client.url', async () => {
    await withStub(() => ({ status: 200, body: {} }), async (stub) => {
      const client = createClient({ url: withCredentials(`${stub.url}/tandem`) });
      assert.equal(client.url, `${stub.url}/tandem/`);
      await client.status();
      assert.equal(stub.requests[0]!.headers.authorization, `Basic ${Buffer.from('ada:s3cret@pw').toString('base64')}`);
      assert.equal(stub.requests[0]!.url, '/tandem/v1/status');
    });
  });

  test('credentials - an unreachable server\'s error names the server without them', async () => {
    const stub = await startStub(() => ({ status: 200 }));
    await stub.close();
    await assert.rejects(createClient({ url: withCredentials(stub.url) }).status(), (e: unknown) =>
      e instanceof ServerUnreachableError && e.url === `${stub.url}/` && !/s3cret/.test(e.message) && /ECONNREFUSED/.test(e.message));
    // Built by hand with a URL that holds them, it masks the password and keeps the user.
    const error = new ServerUnreachableError('http://ada:s3cret@host/', new TypeError('fetch failed', { cause: new Error('bad url nats://t0ken@host') }));
    assert.equal(error.message, 'Cannot reach a Tandem server at http://ada:***@host/: bad url nats://***@host.');
  });

  test('credentials - refused beside an API key or an authorization header: a request has one', () => {
    assert.throws(() => createClient({ url: 'http://ada:s3cret@host/', apiKey: 'k' }), (e: unknown) => e instanceof TypeError && !/s3cret/.test(e.message));
    assert.throws(() => createClient({ url: 'http://ada:s3cret@host/', headers: { Authorization: 'Bearer k' } }), TypeError);
  });

  test('credentials - a URL that does not parse is refused without echoing its password', () => {
    assert.throws(() => createClient({ url: 'http://ada:s3c/ret@[bad' }), (e: unknown) =>
      e instanceof TypeError && e.message === "url must be an absolute URL such as http://127.0.0.1:7070, not 'http://ada:***@[bad'." && !('input' in e));
  });
});
