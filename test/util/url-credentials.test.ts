/**
 * A user and password in a server's URL become an `Authorization: Basic`
 * header carrying exactly what was written (percent-escapes decoded, UTF-8),
 * and leave the URL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { takeCredentials } from '../../src/util/url-credentials.ts';

/** What a server reading the header gets: the text before the first colon is the user. */
function decodeBasic(header: string): { user: string; password: string } {
  const text = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

test('url-credentials - the header carries the user and password as written; the URL keeps neither', () => {
  const userName = fc.string({ minLength: 1, maxLength: 12 }).filter((u) => !u.includes(':'));
  fc.assert(fc.property(userName, fc.string({ maxLength: 20 }), fc.constantFrom('http', 'https'), (user, password, scheme) => {
    const { url, authorization } = takeCredentials(new URL(`${scheme}://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:7070/tandem/`));
    assert.deepEqual(decodeBasic(authorization!), { user, password });
    assert.equal(url.href, `${scheme}://127.0.0.1:7070/tandem/`);
  }), { seed: 20261202, numRuns: 1_000 });
});

test('url-credentials - raw @ and : in a password, a user without a password', () => {
  assert.deepEqual(decodeBasic(takeCredentials(new URL('http://ada:p@ss:w@host/')).authorization!), { user: 'ada', password: 'p@ss:w' });
  assert.deepEqual(decodeBasic(takeCredentials(new URL('http://ada@host/')).authorization!), { user: 'ada', password: '' });
});

test('url-credentials - a URL without credentials makes no header and is the same URL', () => {
  const url = new URL('http://127.0.0.1:7070/');
  assert.deepEqual(takeCredentials(url), { url });
});
