/**
 * A server's log lines never carry a URL's password: an error logged with
 * one in its message, its fields or its cause is redacted, as pino writes it.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { loggerOptions } from '../../src/cli/server-logger.ts';

test('server-logger - a logged error\'s message, fields and cause are redacted, and what a line says; other fields are as they were', () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => done(void lines.push(chunk.toString())) });
  const logger = pino(loggerOptions('info'), sink);
  const cause = new Error('connect to nats://t0ken@10.0.0.2:4222 refused');
  const error = Object.assign(new Error('Could not connect to any NATS server of nats://u:s3cret@10.0.0.1:4222', { cause }), { servers: ['nats://u:s3cret@10.0.0.1:4222'] });
  logger.error({ err: error }, 'could not join');
  logger.error(error);
  logger.info({ url: 'http://127.0.0.1:7070' }, 'serving');
  logger.warn('retrying %s', 'nats://u:s3cret@10.0.0.1:4222');
  assert.equal(lines.length, 4);
  for (const line of lines.slice(0, 2)) {
    assert.doesNotMatch(line, /s3cret|t0ken/);
    const { err } = JSON.parse(line) as { err: { message: string; servers: string[]; stack: string } };
    assert.match(err.message, /nats:\/\/u:\*\*\*@10\.0\.0\.1:4222/);
    assert.deepEqual(err.servers, ['nats://u:***@10.0.0.1:4222']);
    assert.match(err.stack, /nats:\/\/\*\*\*@10\.0\.0\.2:4222/);
  }
  assert.deepEqual(lines.slice(1, 4).map((line) => (JSON.parse(line) as { msg: string }).msg), [
    'Could not connect to any NATS server of nats://u:***@10.0.0.1:4222', 'serving', 'retrying nats://u:***@10.0.0.1:4222',
  ]);
  assert.equal((JSON.parse(lines[2]!) as { url: string }).url, 'http://127.0.0.1:7070');
});
