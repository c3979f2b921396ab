/**
 * The request/reply channel between nodes: an answer larger than one NATS
 * message (a share of a wide query's batch states) arrives whole, in as many
 * messages as it takes; a node that does not answer, or answers too slowly,
 * is the channel's own typed error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { TandemError } from '../../../src/definitions/errors.ts';
import { nodeSubject } from '../../../src/backends/nats/partition-names.ts';
import { PeerChannel, type ChannelKind, type PeerReply } from '../../../src/backends/nats/peer-channel.ts';
import { NatsCluster, natsSkipReason } from '../../support/nats-cluster.ts';

class EchoError extends TandemError {
  readonly code = 'echo_failed';
  constructor(readonly reason: string) {
    super(`The echo failed (${reason}).`);
  }
}

interface Echo { readonly bytes: number; readonly delayMs?: number }

const ECHO: ChannelKind<Echo, { text: string }> = {
  what: 'The echo',
  queue: 'tandem-test-echo',
  subject: (cluster, node) => nodeSubject(cluster, 'echo', node),
  parseRequest: (text) => JSON.parse(text) as Echo,
  parseReply: (text) => JSON.parse(text) as PeerReply<{ text: string }>,
  rebuild: (_node, error) => new EchoError(error.message),
  unreachable: (_node, reason) => new EchoError(reason),
  tooLarge: (_node, bytes) => new EchoError(`${bytes} bytes`),
};

describe('peer channel', { skip: natsSkipReason(), timeout: 120_000 }, () => {
  let nats: NatsCluster | undefined;
  let nc: NatsConnection | undefined;
  before(async () => {
    nats = await NatsCluster.start({ size: 1 });
    nc = await nats.connect();
  });
  after(async () => {
    await nc?.close();
    await nats?.stop();
  });

  test('an answer of several messages arrives whole; no answer, or one too slow, is a typed error', async () => {
    const answer = async ({ bytes, delayMs }: Echo) => {
      if (delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, delayMs));
      // Multi-byte characters across the messages' boundaries: the reply is cut in bytes and joined before decoding.
      return { text: 'é'.repeat(bytes / 2) };
    };
    const b = await PeerChannel.serve(nc!, ECHO, { cluster: 'peers', node: 'b', answer });
    const a = await PeerChannel.serve(nc!, ECHO, { cluster: 'peers', node: 'a', answer: () => Promise.reject(new Error('not asked')) });
    try {
      const big = await a.ask('b', { bytes: 3 * 1024 * 1024 + 1 }, 20_000);
      assert.equal(big.text, 'é'.repeat((3 * 1024 * 1024 + 1) / 2));
      assert.equal((await a.ask('b', { bytes: 10 }, 5_000)).text, 'ééééé');
      await assert.rejects(a.ask('nobody', { bytes: 10 }, 2_000), (error: unknown) => error instanceof EchoError && error.reason === 'no process answers on its subject');
      await assert.rejects(a.ask('b', { bytes: 10, delayMs: 1_500 }, 300), (error: unknown) => error instanceof EchoError && error.reason === 'no answer within 300 ms');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
