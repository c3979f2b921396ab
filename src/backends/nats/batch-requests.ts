/**
 * Asking another node to run a batch cycle, and answering such asks: one
 * node at a time holds the batch lease and runs the batch layer, yet a user
 * may ask any node for a cycle (`POST /v1/batch`, `tandem batch`). A node
 * that does not hold the lease asks the holder over NATS request/reply and
 * answers with the holder's {@link BatchSummary}, as the embedded engine
 * does.
 *
 * Each node answers on its own subject, `<cluster>.batch.<node name in hex>`
 * (hex, as the node registry's keys: a subject token may hold neither `.`,
 * `*` nor `>`, which a node name may), in a queue group, so that a second
 * process under the same name cannot run the same request twice.
 *
 * A cycle takes minutes on a large archive, so one reply would leave the
 * asker unable to tell a long cycle from a dead holder. The holder therefore
 * answers `{"state":"running"}` at once and every {@link KEEPALIVE_MS}, then
 * once `{"state":"published","summary":…}` or `{"state":"failed","error":
 * {code, message, fields}}` (the messages: `batch-request-messages.ts`).
 * The asker gives up after {@link SILENCE_MS} without a word (the holder is
 * frozen, has crashed, or lost NATS: seconds, not the length of a cycle),
 * and after {@link TIMEOUT_MS} in all (a cycle that runs that long is stuck,
 * or the archive needs incremental cycles; the HTTP request should not hang
 * on it).
 *
 * @module
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { BatchOptions, BatchSummary, EngineLogger } from '../../engine/index.ts';
import {
  batchRequestSubject, encodeReply, encodeRequest, errorPayload, parseReply, parseRequest, remoteError, RUNNING, type BatchReply, type BatchRequest,
} from './batch-request-messages.ts';
import { BatchHolderSilentError, BatchHolderUnreachableError, BatchRequestTimeoutError, ClusterLogClosedError } from './errors.ts';
import { loadNats } from './nats-modules.ts';

/** How often a holder says it is still running the cycle it was asked for. */
export const KEEPALIVE_MS = 2_000;

/**
 * How long an asker waits without a word from the holder: several
 * keepalives, so a holder busy computing (DuckDB runs off the event loop)
 * or a NATS reconnect is never taken for a dead one.
 */
export const SILENCE_MS = 15_000;

/**
 * How long an asker waits in all. Generous, since a full recompute over a
 * large archive takes minutes and the user asked for its summary; bounded,
 * so a stuck cycle does not hold HTTP requests forever.
 */
export const TIMEOUT_MS = 30 * 60_000;

/** Every process of one node name answers in this group, so one of them runs each request. */
const QUEUE = 'tandem-batch';

/** The longest a Node timer waits: a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Room left in a message for its headers and subject. */
const HEADROOM_BYTES = 4_096;

/**
 * How long an ask may wait.
 *
 * @example
 * ```ts
 * await requests.ask('n1', { full: true }, { timeoutMs: 2 * 60 * 60_000 }); // a full recompute of a large archive
 * ```
 */
export interface AskLimits {
  /** The longest wait in all. Default {@link TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** The longest wait without a word from the holder. Default {@link SILENCE_MS}. */
  readonly silenceMs?: number;
}

/**
 * A node's side of batch requests: whom it is, how it runs a cycle, and how long its asks wait.
 *
 * @example
 * ```ts
 * const options: BatchRequestsOptions = { cluster: 'shop', node: 'n2', run: (o) => node.runBatchHere(o), logger };
 * ```
 */
export interface BatchRequestsOptions extends AskLimits {
  /** The cluster's name, which prefixes the subjects. */
  readonly cluster: string;
  /** This node's name: it answers requests addressed to it. */
  readonly node: string;
  /**
   * Runs a cycle on this node, or joins the one running, and resolves with
   * its summary once it is published. It must never ask another node in
   * turn: two nodes that each think the other holds the lease would ask
   * each other in a circle. Without the lease it throws {@link BatchLeaseHeldError}.
   */
  readonly run: (options: BatchOptions) => Promise<BatchSummary>;
  readonly logger?: EngineLogger;
  /** How often to say a requested cycle still runs. Default {@link KEEPALIVE_MS}; keep it well under the askers' silence. */
  readonly keepaliveMs?: number;
}

/**
 * Answers this node's batch requests, and asks other nodes to run cycles.
 *
 * @example
 * ```ts
 * const requests = await BatchRequests.serve(nc, { cluster: 'shop', node: 'n2', run: (o) => runHere(o), logger });
 * const summary = await requests.ask('n1', { full: true }); // n1 holds the lease: its cycle's BatchSummary
 * await requests.close();
 * ```
 */
export class BatchRequests {
  #closed = false;
  readonly #subscription: Subscription;
  /** Requests this node is answering: closing waits for their last reply. */
  readonly #answering = new Set<Promise<void>>();
  /** Asks of this node still waiting: closing ends them. */
  readonly #asking = new Set<PendingAsk>();

  private constructor(private readonly nc: NatsConnection, private readonly options: BatchRequestsOptions, private readonly inbox: () => string) {
    this.#subscription = nc.subscribe(this.subject, {
      queue: QUEUE,
      callback: (error, msg) => (error === null ? this.#take(msg) : options.logger?.warn({ err: error }, 'the batch request subscription failed')),
    });
  }

  /**
   * Starts answering the requests addressed to `options.node`, and resolves
   * once the NATS server has the subscription.
   *
   * @example
   * ```ts
   * const requests = await BatchRequests.serve(nc, { cluster: 'shop', node: 'n1', run: (o) => runHere(o) });
   * ```
   */
  static async serve(nc: NatsConnection, options: BatchRequestsOptions): Promise<BatchRequests> {
    const { transport } = await loadNats();
    const requests = new BatchRequests(nc, options, () => transport.createInbox());
    await nc.flush();
    return requests;
  }

  /** The subject this node answers on. */
  get subject(): string {
    return batchRequestSubject(this.options.cluster, this.options.node);
  }

  /**
   * Asks node `holder` to run a batch cycle (or join its running one), and
   * resolves with the summary once it is published. Rejects with the
   * holder's own error when there is a class for it ({@link BatchLeaseHeldError},
   * {@link BatchFencedError}, {@link ArchiveDamagedError}, …), else
   * {@link RemoteBatchFailedError}; with {@link BatchHolderUnreachableError}
   * when no process answers for `holder`, {@link BatchHolderSilentError}
   * when it stops answering, {@link BatchRequestTimeoutError} past
   * `limits.timeoutMs`, {@link InvalidBatchMessageError} on a reply that is
   * not one, and {@link ClusterLogClosedError} once this node closes.
   *
   * @example
   * ```ts
   * const { version } = await requests.ask(lease.holder, { full: true });
   * ```
   */
  async ask(holder: string, options: BatchOptions = {}, limits: AskLimits = {}): Promise<BatchSummary> {
    if (this.#closed) throw new ClusterLogClosedError();
    const pending = new PendingAsk(holder, batchRequestSubject(this.options.cluster, holder), {
      timeoutMs: limits.timeoutMs ?? this.options.timeoutMs ?? TIMEOUT_MS,
      silenceMs: limits.silenceMs ?? this.options.silenceMs ?? SILENCE_MS,
    });
    this.#asking.add(pending);
    try {
      pending.send(this.nc, this.inbox(), encodeRequest(this.options.node, options));
      return await pending.answer;
    } finally {
      this.#asking.delete(pending);
    }
  }

  /**
   * Stops answering (a request already received is still answered once its
   * cycle ends, so this waits for the node's running cycle) and ends this
   * node's waiting asks with {@link ClusterLogClosedError}.
   *
   * @example
   * ```ts
   * await requests.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#asking) pending.fail(new ClusterLogClosedError());
    await this.#subscription.drain().catch(() => undefined);
    await Promise.all(this.#answering);
  }

  #take(msg: Msg): void {
    if (!msg.reply) return void this.options.logger?.warn({ subject: msg.subject }, 'a batch request came with no subject to reply to; ignored');
    let request: BatchRequest;
    try {
      request = parseRequest(msg.string());
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'a batch request is not valid; refused');
      return this.#reply(msg, { state: 'failed', error: errorPayload(this.options.node, error) });
    }
    const answering = this.#answer(msg, request).finally(() => this.#answering.delete(answering));
    this.#answering.add(answering);
  }

  /** Runs the cycle, saying it still runs until it ends, then answers with its summary or its error. */
  async #answer(msg: Msg, request: BatchRequest): Promise<void> {
    const { logger, node, run } = this.options;
    logger?.info({ from: request.from, full: request.full ?? false }, 'running a batch cycle another node asked for');
    this.#reply(msg, RUNNING);
    const keepalive = setInterval(() => this.#reply(msg, RUNNING), this.options.keepaliveMs ?? KEEPALIVE_MS);
    try {
      const summary = await run(request.full === undefined ? {} : { full: request.full });
      this.#reply(msg, { state: 'published', summary });
    } catch (error) {
      logger?.warn({ err: error, from: request.from }, 'a batch cycle another node asked for failed');
      this.#reply(msg, { state: 'failed', error: errorPayload(node, error) });
    } finally {
      clearInterval(keepalive);
    }
  }

  #reply(msg: Msg, reply: BatchReply): void {
    try {
      msg.respond(encodeReply(reply, (this.nc.info?.max_payload ?? 1_048_576) - HEADROOM_BYTES));
    } catch (error) {
      // The connection is closing or gone: the asker hears nothing and gives up after its silence.
      this.options.logger?.warn({ err: error }, 'could not answer a batch request');
    }
  }
}

/** One ask waiting for its answer: the holder's replies, its silence, and the overall limit. */
class PendingAsk {
  readonly answer: Promise<BatchSummary>;
  #settle: (error: Error | undefined, summary?: BatchSummary) => void = () => undefined;
  #settled = false;
  #subscription: Subscription | undefined;
  #silence: NodeJS.Timeout | undefined;
  readonly #overall: NodeJS.Timeout;

  constructor(readonly holder: string, readonly subject: string, private readonly limits: Required<AskLimits>) {
    this.answer = new Promise((resolve, reject) => {
      this.#settle = (error, summary) => (error === undefined ? resolve(summary!) : reject(error));
    });
    this.#overall = setTimeout(() => this.fail(new BatchRequestTimeoutError(holder, limits.timeoutMs)), Math.min(limits.timeoutMs, MAX_TIMER_MS));
    this.#heard();
  }

  /** Listens on `inbox` for the replies, then sends the request. */
  send(nc: NatsConnection, inbox: string, request: string): void {
    this.#subscription = nc.subscribe(inbox, { callback: (error, msg) => (error === null ? this.#take(msg) : this.fail(error)) });
    // The connection closed under the ask: this node is shutting down.
    void this.#subscription.closed.then(() => this.fail(new ClusterLogClosedError()));
    try {
      nc.publish(this.subject, request, { reply: inbox });
    } catch (error) {
      this.fail(nc.isClosed() || nc.isDraining() ? new ClusterLogClosedError() : error as Error);
    }
  }

  fail(error: Error): void {
    this.#end(error);
  }

  #take(msg: Msg): void {
    // What NATS answers on the holder's behalf when nobody listens on its subject.
    if (msg.data.length === 0 && msg.headers?.code === 503) return this.fail(new BatchHolderUnreachableError(this.holder, this.subject));
    let reply: BatchReply;
    try {
      reply = parseReply(msg.string(), this.holder);
    } catch (error) {
      return this.fail(error as Error);
    }
    if (reply.state === 'running') return this.#heard();
    if (reply.state === 'published') return this.#end(undefined, reply.summary);
    this.fail(remoteError(this.holder, reply.error));
  }

  #heard(): void {
    clearTimeout(this.#silence);
    this.#silence = setTimeout(() => this.fail(new BatchHolderSilentError(this.holder, this.limits.silenceMs)), Math.min(this.limits.silenceMs, MAX_TIMER_MS));
  }

  #end(error: Error | undefined, summary?: BatchSummary): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#overall);
    clearTimeout(this.#silence);
    this.#subscription?.unsubscribe();
    this.#settle(error, summary);
  }
}

