/**
 * Redacting server addresses: worked examples of what is masked and what is
 * kept, and seeded properties that no part of a password, token or secret
 * parameter survives any of the functions, however the secret is written.
 */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { redactUrl, redactUrlList, redactUrlsDeep, redactUrlsInText } from '../../src/util/redact-url.ts';
import { scheme, secretUrl, showsSecret } from './secret-urls.ts';

const RUNS = { seed: 20261202, numRuns: 1_500 };

describe('redact-url - examples', () => {
  test('redact-url - a password is masked, the user name, host and path kept', () => {
    assert.equal(redactUrl('http://ada:s3cret@db.example:7070/v1/'), 'http://ada:***@db.example:7070/v1/');
    assert.equal(redactUrl('ada:s3cret@127.0.0.1:7070'), 'ada:***@127.0.0.1:7070');
    assert.equal(redactUrl('http://:s3cret@host/'), 'http://:***@host/');
  });

  test('redact-url - a bare token is masked whole', () => {
    assert.equal(redactUrl('nats://t0ken@10.0.0.1:4222'), 'nats://***@10.0.0.1:4222');
  });

  test('redact-url - raw @ and : in a password are read as the URL parser reads them', () => {
    assert.equal(redactUrl('http://ada:p@ss:w@host/'), 'http://ada:***@host/');
  });

  test('redact-url - raw / ? # in a password: masked up to the last @, though the URL parser reads a path, query or fragment', () => {
    assert.equal(redactUrl('http://ada:pa/ss@host'), 'http://ada:***@host');
    assert.equal(redactUrl('nats://t0k?en@host:4222'), 'nats://***@host:4222');
    assert.equal(redactUrl('http://ada:pa#ss@[bad'), 'http://ada:***@[bad');
    // The price: an @ of a path or query hides what comes before it.
    assert.equal(redactUrl('http://host/?email=a@b.example'), 'http://***@b.example');
  });

  test('redact-url - secret parameters are masked, others kept', () => {
    assert.equal(redactUrl('https://h/a?token=abc&x=1#access_token=zz'), 'https://h/a?token=***&x=1#access_token=***');
    assert.equal(redactUrl('https://h/?apiKey=1&Password=2&view=v'), 'https://h/?apiKey=***&Password=***&view=v');
  });

  test('redact-url - an address without secrets is left as it was written', () => {
    for (const text of ['http://127.0.0.1:7070', 'http://[::1]:7070/', '127.0.0.1:7070', 'localhost', 'nats://n1:4222']) assert.equal(redactUrl(text), text);
  });

  test('redact-url - a list keeps its items and separators', () => {
    assert.equal(redactUrlList('nats://u:pw@n1:4222, t0k@n2:4222,n3'), 'nats://u:***@n1:4222, ***@n2:4222,n3');
  });

  test('redact-url - every URL in a sentence; a raw comma in a password hides the next host rather than leak', () => {
    assert.equal(
      redactUrlsInText('Could not connect to any NATS server of nats://u:pw@n1:4222, nats://t0k@n2:4222: connection refused.'),
      'Could not connect to any NATS server of nats://u:***@n1:4222, nats://***@n2:4222: connection refused.',
    );
    assert.equal(redactUrlsInText("not 'http://ada:pa/ss@host'."), "not 'http://ada:***@host'.");
    assert.equal(redactUrlsInText('at http://u:a,b@h1/ now'), 'at http://u:***@h1/ now');
  });

  test('redact-url - deep: strings in arrays and plain objects; class instances and cycles left alone', () => {
    const cyclic: Record<string, unknown> = { url: 'nats://u:pw@n1' };
    cyclic.self = cyclic;
    const redacted = redactUrlsDeep({ message: 'no server at nats://u:pw@n1', servers: ['nats://t@n1'], n: 1, cyclic });
    assert.equal(redacted.message, 'no server at nats://u:***@n1');
    assert.deepEqual(redacted.servers, ['nats://***@n1']);
    assert.equal(redacted.n, 1);
    assert.equal((redacted.cyclic as Record<string, unknown>).url, 'nats://u:***@n1');
    const date = new Date(0);
    assert.equal(redactUrlsDeep({ date }).date, date);
  });
});

describe('redact-url - properties', () => {
  test('redact-url - no part of a secret survives redactUrl, and a password\'s user name does', () => {
    fc.assert(fc.property(secretUrl({ schemes: fc.oneof(scheme, fc.constant('')) }), ({ url, user }) => {
      const shown = redactUrl(url);
      assert.ok(!showsSecret(shown), `${url} -> ${shown}`);
      if (user !== undefined) assert.ok(shown.includes(`${user}:***@`), `${url} -> ${shown}`);
    }), RUNS);
  });

  test('redact-url - no part of a secret survives redactUrlList, and the list keeps its length', () => {
    const list = fc.tuple(fc.array(secretUrl({ forbiddenRaw: [','] }), { minLength: 1, maxLength: 4 }), fc.constantFrom(',', ', '));
    fc.assert(fc.property(list, ([urls, separator]) => {
      const shown = redactUrlList(urls.map((u) => u.url).join(separator));
      assert.ok(!showsSecret(shown), shown);
      assert.equal(shown.split(',').length, urls.length);
    }), RUNS);
  });

  test('redact-url - no part of a secret survives redactUrlsInText, in the sentences errors write', () => {
    // A sentence ends a URL at a space; a raw secret holding one was never one piece of it.
    const inText = secretUrl({ forbiddenRaw: [' '] }).filter(({ url }) => !/,\s*[a-z][a-z0-9+.-]*:\/\//i.test(url.slice(url.indexOf('://') + 3)));
    const sentence = fc.tuple(fc.array(inText, { minLength: 1, maxLength: 3 }), fc.constantFrom(
      (urls: string[]) => `Could not connect to any NATS server of ${urls.join(', ')}: connection refused.`,
      (urls: string[]) => `--url must be a server address, not '${urls[0]}'.`,
      (urls: string[]) => `Request cannot be constructed from a URL that includes credentials: ${urls[0]}/v1/status`,
      (urls: string[]) => inspect({ servers: urls, message: `at ${urls.join(',')}` }),
      (urls: string[]) => `(${urls.join(',')})`,
    ));
    fc.assert(fc.property(sentence, ([urls, write]) => {
      const shown = redactUrlsInText(write(urls.map((u) => u.url)));
      assert.ok(!showsSecret(shown), shown);
    }), RUNS);
  });

  test('redact-url - no part of a secret survives redactUrlsDeep, in an error as pino serializes it', () => {
    fc.assert(fc.property(fc.array(secretUrl({ forbiddenRaw: [' '] }), { minLength: 1, maxLength: 3 }), (urls) => {
      const servers = urls.map((u) => u.url);
      const serialized = { type: 'NatsConnectError', message: `Could not connect to ${servers.join(', ')}`, servers, cause: { message: servers[0] } };
      const shown = JSON.stringify(redactUrlsDeep(serialized));
      assert.ok(!showsSecret(shown), shown);
    }), RUNS);
  });
});
