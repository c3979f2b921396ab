/**
 * The retry policy of a publish. A message is published with its
 * `Nats-Msg-Id` and waits `ackTimeoutMs` for JetStream's acknowledgement
 * (the PubAck, sent once a quorum of the stream's replicas has it). A
 * timeout, "no responders" (the stream has no leader for a moment) or a
 * 503 from JetStream is retried with the same id, after a short backoff,
 * until `retryForMs` have passed since the first attempt; the same id lets
 * JetStream recognise a retry of a message it did store (within its
 * duplicate window), and the consumers' rules catch any that slip past it.
 * After a `kill -9` of a stream's leader the next acknowledgement comes
 * about 5 s later, so the default budget of 30 s rides out an election.
 * Any other error (the stream is gone or refuses the message) fails at once.
 *
 * @module
 */
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { loadNats, type NatsModules } from './nats-modules.ts';

export interface RetryPolicy {
  /** How long one attempt waits for its acknowledgement. */
  readonly ackTimeoutMs: number;
  /** How long after the first attempt a new attempt may still start. */
  readonly retryForMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { ackTimeoutMs: 2_000, retryForMs: 30_000 };

const FIRST_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1_000;

export type PublishResult =
  | { readonly ok: true; readonly ack: PubAck; readonly attempts: number }
  | { readonly ok: false; readonly kind: 'unacknowledged'; readonly waitedMs: number; readonly cause: unknown }
  | { readonly ok: false; readonly kind: 'rejected'; readonly reason: string; readonly cause: unknown }
  | { readonly ok: false; readonly kind: 'closed'; readonly cause: unknown };

/** Publishes until acknowledged, refused, or out of time; never throws. */
export async function publishWithRetry(
  nats: NatsModules, js: JetStreamClient, subject: string, payload: Uint8Array, headers: MsgHdrs, msgID: string, policy: RetryPolicy,
): Promise<PublishResult> {
  const started = Date.now();
  let backoff = FIRST_BACKOFF_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      const ack = await js.publish(subject, payload, { msgID, headers, timeout: policy.ackTimeoutMs, retries: 1 });
      return { ok: true, ack, attempts: attempt };
    } catch (error) {
      const verdict = classify(nats, error);
      if (verdict === 'closed') return { ok: false, kind: 'closed', cause: error };
      if (verdict === 'rejected') return { ok: false, kind: 'rejected', reason: (error as Error).message ?? String(error), cause: error };
      const waited = Date.now() - started;
      if (waited + backoff >= policy.retryForMs) return { ok: false, kind: 'unacknowledged', waitedMs: waited, cause: error };
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }
}

/** Whether an error of a publish may clear by itself (`retry`), never will (`rejected`), or means our connection is closed. */
export function classify(nats: NatsModules, error: unknown): 'retry' | 'rejected' | 'closed' {
  const t = nats.transport;
  if (error instanceof t.ClosedConnectionError || error instanceof t.DrainingConnectionError) return 'closed';
  if (error instanceof t.TimeoutError || error instanceof t.RequestError || error instanceof t.NoRespondersError || error instanceof t.ConnectionError) return 'retry';
  if (error instanceof nats.jetstream.JetStreamApiError) return error.status === 503 ? 'retry' : 'rejected';
  // "No responders" to a publish (no stream leader for a moment) comes back as "jetstream is not enabled", caused by the RequestError.
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (cause instanceof t.RequestError || cause instanceof t.NoRespondersError || cause instanceof t.TimeoutError) return 'retry';
  return 'rejected';
}

/**
 * Runs a JetStream API request (stream info, stream create), retrying what
 * may clear by itself until `retryForMs` have passed. A stream's info is
 * answered by its leader, so while a stream is being created by another node,
 * or electing a leader after a crash, a request can time out: NATS 2.9
 * answers nothing rather than an error then.
 */
export function retryTransient<T>(nats: NatsModules, retryForMs: number, request: () => Promise<T>, alsoRetry: (error: unknown) => boolean = () => false): Promise<T> {
  return retryWhile(request, (error) => classify(nats, error) === 'retry' || alsoRetry(error), retryForMs);
}

/** Runs `request`, retrying with a growing backoff while what it throws `mayClear`, until `forMs` have passed. */
async function retryWhile<T>(request: () => Promise<T>, mayClear: (error: unknown) => boolean, forMs: number): Promise<T> {
  const started = Date.now();
  let backoff = FIRST_BACKOFF_MS;
  for (;;) {
    try {
      return await request();
    } catch (error) {
      if (!mayClear(error) || Date.now() - started + backoff >= forMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }
}

/** JetStream's "stream not found" (`err_code`). */
export const STREAM_NOT_FOUND = 10059;

const isStreamNotFound = (error: unknown): boolean => (error as { code?: unknown } | undefined)?.code === STREAM_NOT_FOUND;

/**
 * How long a bucket known to exist may still answer "stream not found". On
 * NATS 2.9 a bucket three nodes open at once can answer so to a read after a
 * first read succeeded (a request answered by a server that has not applied
 * the stream's creation yet): seen in CI as a node's routing read failing
 * right after its control bucket was opened and read.
 */
export const STREAM_SETTLES_MS = 10_000;

/**
 * Runs a request on a bucket this process has opened, retrying only while
 * it answers "stream not found", for up to `forMs`. Safe for writes too: a
 * request refused for a missing stream was not applied. A bucket that stays
 * missing (deleted by an operator) fails after `forMs` with that error.
 */
export function whileStreamSettles<T>(request: () => Promise<T>, forMs = STREAM_SETTLES_MS): Promise<T> {
  return retryWhile(request, isStreamNotFound, forMs);
}

/** JetStream's "no suitable peers for placement" (`err_code`): fewer servers than the replicas have joined the cluster yet. */
export const NO_SUITABLE_PEERS = 10005;

/**
 * Whether creating a stream or bucket failed only because the servers it
 * needs have not all joined yet: seen in CI right after a 3-server cluster
 * started, on a busy machine; the create succeeds once they have.
 */
export const placementPending = (error: unknown): boolean => (error as { code?: unknown } | undefined)?.code === NO_SUITABLE_PEERS;

/**
 * Opens a KV or object-store bucket (creating it if missing), retrying what
 * may clear by itself for the default budget: seen on NATS 2.9 when three
 * nodes of a new cluster opened its buckets at once on a busy machine, and a
 * bucket's stream info timed out. Then `ready` reads from it, retried while
 * it answers "stream not found": a bucket another node has just created can
 * answer so for a moment (seen as a node's first read of the control bucket
 * failing, one open in a few hundred, when three nodes opened a new cluster
 * at once).
 */
export async function openBucket<T>(open: () => Promise<T>, ready?: (bucket: T) => Promise<unknown>): Promise<T> {
  const nats = await loadNats();
  const bucket = await retryTransient(nats, DEFAULT_RETRY_POLICY.retryForMs, open, placementPending);
  if (ready !== undefined) await retryTransient(nats, DEFAULT_RETRY_POLICY.retryForMs, () => ready(bucket), isStreamNotFound);
  return bucket;
}
