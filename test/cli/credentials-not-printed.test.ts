/**
 * The real `tandem` binary never prints the password of a server URL: not
 * the client commands with it in TANDEM_URL or --url (the server
 * unreachable, or the URL refused), not `tandem serve --nats` when NATS
 * cannot be reached, and not its banner, logs, status or metrics when it
 * can. And the client commands still use it: as Basic auth.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePorts, NatsCluster, natsSkipReason } from '../support/nats-cluster.ts';
import { shopConfig } from '../support/shop-config.ts';
import { runCli, startCli, type CliResult } from '../support/spawn-cli.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const PASSWORD = 's3cretpw';
let temp: Awaited<ReturnType<typeof makeTempDir>>;
let config: string;
/** A port nothing listens on. */
let closed: number;

before(async () => {
  temp = await makeTempDir('tandem-cli-credentials-');
  config = join(temp.dir, 'cluster.config.json');
  await writeFile(config, JSON.stringify({ ...shopConfig, cluster: { name: 'credentials', partitions: 1, replicas: 1 } }));
  await writeFile(join(temp.dir, 'orders.ndjson'), '{"id":"o1"}\n');
  [closed] = await freePorts(1);
});
after(() => temp.remove());

function assertHidden(result: CliResult | string, what: string): void {
  const text = typeof result === 'string' ? result : `${result.stdout}\n${result.stderr}`;
  assert.ok(!text.includes(PASSWORD) && !text.includes('s3cret'), `${what} printed the password:\n${text}`);
}

describe('cli - the password in TANDEM_URL or --url is not printed', () => {
  test('credentials - TANDEM_URL: status against no server says which server, with the password masked', async () => {
    const result = await runCli(['status'], { env: { TANDEM_URL: `http://user:${PASSWORD}@127.0.0.1:${closed}/` } });
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim(), `tandem: Cannot reach a Tandem server at http://user:***@127.0.0.1:${closed}/; start one with 'tandem serve' or pass --url.`);
    assertHidden(result, 'status with TANDEM_URL');
  });

  test('credentials - --url: every client command, and TANDEM_DEBUG\'s details', async () => {
    const url = `http://user:${PASSWORD}@127.0.0.1:${closed}`;
    const runs: [string, string[], NodeJS.ProcessEnv?][] = [
      ['status', ['status', '--url', url]],
      ['status, schemeless', ['status', '--url', `user:${PASSWORD}@127.0.0.1:${closed}`]],
      ['query', ['query', '{"view":"v"}', '--url', url]],
      ['batch', ['batch', '--url', url]],
      ['ingest', ['ingest', join(temp.dir, 'orders.ndjson'), '--event', 'order', '--url', url, '--no-progress']],
      ['status with TANDEM_DEBUG', ['status', '--url', url], { TANDEM_DEBUG: '1' }],
      ['status with an API key as well', ['status', '--url', url, '--api-key', 'tdk_0123456789abcdef']],
    ];
    for (const [what, args, env] of runs) {
      const result = await runCli(args, { env });
      assert.equal(result.code, 1, `${what}: ${result.stderr}`);
      assert.match(result.stderr, /user:\*\*\*@127\.0\.0\.1/, what);
      assertHidden(result, what);
    }
  });

  test('credentials - an address refused as malformed is echoed with its password masked', async () => {
    for (const url of [`http://user:${PASSWORD}@[bad`, `ftp://user:${PASSWORD}@127.0.0.1:${closed}`, `http://user:s3c/ret#pw@127.0.0.1:${closed}`]) {
      const result = await runCli(['status', '--url', url]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^tandem: --url \(or TANDEM_URL\) must /);
      assertHidden(result, url);
    }
  });

  test('credentials - they are still used: sent as Authorization: Basic', async () => {
    const headers: IncomingHttpHeaders[] = [];
    const server = createServer((request, response) => {
      headers.push(request.headers);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"logEnd":0}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const result = await runCli(['status', '--json'], { env: { TANDEM_URL: `http://user:${PASSWORD}@127.0.0.1:${(server.address() as AddressInfo).port}` } });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(headers[0]?.authorization, `Basic ${Buffer.from(`user:${PASSWORD}`).toString('base64')}`);
      assertHidden(result, 'status');
    } finally {
      server.close();
    }
  });
});

describe('cli - the password in --nats is not printed', () => {
  test('credentials - NATS unreachable: the error names the servers with their secrets masked, in either log format', async () => {
    const lists = [
      `nats://u:${PASSWORD}@127.0.0.1:${closed}`,
      `nats://u:${PASSWORD}@127.0.0.1:${closed},${PASSWORD}@127.0.0.1:${closed}`,
      `u:s3cret@pw@127.0.0.1:${closed}`,
    ];
    for (const [i, nats] of lists.entries()) {
      for (const format of ['pretty', 'json']) {
        const result = await runCli(['serve', '--config', config, '--data', join(temp.dir, `unreachable-${i}-${format}`), '--port', '0', '--log-format', format, '--nats', nats]);
        assert.equal(result.code, 1, result.stderr);
        // A user and password on one server and a token on another: one connection cannot give both, so it is refused first.
        const refused = i === 1 ? /^tandem: NATS server 2 carries other credentials than an earlier one;/ : new RegExp(`^tandem: Could not connect to any NATS server of nats://(u:)?\\*\\*\\*@127\\.0\\.0\\.1:${closed}`);
        assert.match(result.stderr, refused, result.stderr);
        assertHidden(result, `serve --nats ${nats} --log-format ${format}`);
      }
    }
  });

  const skip = natsSkipReason();
  describe('with a NATS server', { skip, timeout: 120_000 }, () => {
    let nats: NatsCluster;
    before(async () => {
      nats = await NatsCluster.start({ size: 1 });
    });
    after(() => nats?.stop());

    test('credentials - the banner, the logs, /v1/status and /metrics mask them', async () => {
      // The server has no accounts, so it lets a client in whatever it presents.
      const hostPort = nats.urls[0]!.replace(/^nats:\/\//, '');
      const list = `nats://u:${PASSWORD}@${hostPort},u:${PASSWORD}@${hostPort}`;
      for (const [format, serving] of [['pretty', /Dashboard (http:\/\/\S+?)\/\n/], ['json', /serving at (http:\/\/\S+?)"/]] as const) {
        const server = await startCli(
          ['serve', '--config', config, '--data', join(temp.dir, `node-${format}`), '--port', '0', '--log-format', format, '--nats', list, '--node', `n-${format}`], serving,
        );
        try {
          if (format === 'pretty') assert.match(server.output(), new RegExp(`Cluster {3}node n-pretty on nats://u:\\*\\*\\*@${hostPort},(nats://)?u:\\*\\*\\*@${hostPort}\\n`));
          for (const path of ['/v1/status', '/metrics']) assertHidden(await (await fetch(`${server.url}${path}`)).text(), path);
        } finally {
          assert.equal(await server.stop('SIGTERM'), 0);
        }
        assertHidden(server.output(), `serve --log-format ${format}`);
      }
    });
  });
});
