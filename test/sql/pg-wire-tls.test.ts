/**
 * TLS on the PostgreSQL port: with a certificate, node-postgres and psql
 * (`sslmode=require`) connect encrypted; without one, an SSL request is
 * declined, so `require` fails and `prefer` goes on in the clear. The
 * certificate is a self-signed one made by openssl for the test (skipped
 * without openssl, failed instead under TANDEM_REQUIRE_SERVICES=1); psql is
 * installed wherever the client suite runs (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import pg from 'pg';
import { PgWireServer } from '../../src/pgwire/index.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { openShopEngine } from './shop-engine.ts';

const run = promisify(execFile);

/** A self-signed certificate for 127.0.0.1, or undefined after skipping `t`. */
async function certificate(t: TestContext, dir: string): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  try {
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { timeout: 30_000 });
  } catch (error) {
    const reason = `SKIPPED: openssl cannot make a test certificate (${(error as Error).message.split('\n')[0]})`;
    if (process.env.TANDEM_REQUIRE_SERVICES === '1') throw new Error(`${reason}, and TANDEM_REQUIRE_SERVICES=1 requires it.`, { cause: error });
    t.skip(reason);
    return undefined;
  }
  return { cert: await readFile(cert), key: await readFile(key) };
}

async function psqlConnInfo(port: number, sslmode: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile('psql', ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', 'x', '-d', 'tandem', '-c', '\\conninfo', '-c', 'SELECT 1'], {
      timeout: 30_000, env: { ...process.env, PGSSLMODE: sslmode, PGCONNECT_TIMEOUT: '5', PSQLRC: '/dev/null' },
    }, (error, out, err) => resolve({ code: error === null ? 0 : 1, out, err }));
  });
}

test('pg tls - with a certificate, pg and psql connect with TLS and are answered', async (t) => {
  const temp = await makeTempDir('tandem-pg-tls-');
  const shop = await openShopEngine(20, 10);
  let server: PgWireServer | undefined;
  const db = { client: undefined as pg.Client | undefined };
  try {
    const tls = await certificate(t, temp.dir);
    if (tls === undefined) return;
    server = await PgWireServer.start({ tandem: shop.tandem, port: 0, tls });
    db.client = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'x', database: 'tandem', ssl: { rejectUnauthorized: false } });
    await db.client.connect();
    const stream = (db.client as unknown as { connection: { stream: unknown } }).connection.stream;
    assert.ok(stream instanceof TLSSocket, 'the connection is encrypted');
    assert.deepEqual((await db.client.query('SELECT sum(orders) AS n FROM all_time')).rows, [{ n: '30' }]);
    const psql = await psqlConnInfo(server.port, 'require');
    assert.equal(psql.code, 0, psql.err);
    assert.match(psql.out, /SSL connection \(protocol: TLS/);
  } finally {
    await db.client?.end().catch(() => undefined);
    await server?.close();
    await shop.close();
    await temp.remove();
  }
});

test('pg tls - without a certificate an SSL request is declined: require fails, prefer goes on in the clear', async () => {
  const shop = await openShopEngine(20, 10);
  const server = await PgWireServer.start({ tandem: shop.tandem, port: 0 });
  try {
    const required = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'x', database: 'tandem', ssl: { rejectUnauthorized: false } });
    await assert.rejects(required.connect(), /does not support SSL/);
    await required.end().catch(() => undefined);
    const plain = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'x', database: 'tandem' });
    await plain.connect();
    assert.deepEqual((await plain.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    await plain.end();
  } finally {
    await server.close();
    await shop.close();
  }
});
