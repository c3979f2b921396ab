/**
 * Credentials in NATS server URLs are sent, not dropped: nats.js keeps only
 * each URL's host and port, so a node given `nats://user:pw@host` used to
 * connect without them and be refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { InvalidClusterOptionError, NatsConnectError } from '../../../src/backends/nats/index.ts';
import { connectNats } from '../../../src/backends/nats/cluster-log.ts';
import { natsCredentials } from '../../../src/backends/nats/nats-credentials.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';

const SECRET = 's3cret:/?#@pw';

test('nats credentials - a user and password, or a bare token, leave the URLs and become connect options', () => {
  assert.deepEqual(natsCredentials(['nats://ada:pw@n1:4222', 'nats://n2:4222']), { servers: ['nats://n1:4222', 'nats://n2:4222'], user: 'ada', pass: 'pw' });
  assert.deepEqual(natsCredentials(['nats://t0ken@n1:4222']), { servers: ['nats://n1:4222'], token: 't0ken' });
  assert.deepEqual(natsCredentials(['127.0.0.1:4222']), { servers: ['127.0.0.1:4222'] });
  assert.throws(() => natsCredentials(['nats://a:1@n1', 'nats://b:2@n2']), (e: unknown) => e instanceof InvalidClusterOptionError && /server 2 carries other credentials/.test(e.message));
  fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ minLength: 1, maxLength: 12 }), (user, pass) => {
    const url = `nats://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:4222`;
    const taken = natsCredentials([url]);
    assert.equal(taken.user, user);
    assert.equal(taken.pass, pass);
    assert.deepEqual(taken.servers, ['nats://127.0.0.1:4222']);
  }), { seed: 20261202 });
});

describe('nats credentials against a server that requires them', { skip: natsSkipReason(), timeout: 120_000 }, () => {
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1, auth: { user: 'tandem', pass: SECRET } });
  });
  after(async () => {
    await nats?.stop();
  });
  const withCredentials = (pass: string) => nats!.urls.map((u) => u.replace('nats://', `nats://tandem:${encodeURIComponent(pass)}@`));

  test('the URL\'s credentials are sent, and a wrong password is refused without echoing it', async () => {
    const nc = await connectNats({ servers: withCredentials(SECRET) });
    await nc.close();
    const wrong = 'wr0ngpassword';
    await assert.rejects(connectNats({ servers: withCredentials(wrong) }), (error: unknown) => {
      assert.ok(error instanceof NatsConnectError, String(error));
      assert.doesNotMatch(error.message, new RegExp(wrong));
      assert.doesNotMatch(JSON.stringify(error.servers), new RegExp(wrong));
      return true;
    });
  });
});
