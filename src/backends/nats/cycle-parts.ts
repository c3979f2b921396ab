/**
 * A batch cycle divided among the nodes (issue #28). The node holding the
 * batch lease seals every partition, then asks each other owner, over NATS
 * request/reply (`peer-channel.ts`), for its part: archive the partitions it
 * owns up to the seal (from the messages its consumer already read) and
 * compute every view over them, in its own DuckDB. The owner uploads what it
 * wrote under names of its own (its node tag) and answers with the ranges
 * and files; the batch node computes its own partitions, names every part in
 * one manifest and publishes it through the fenced compare-and-set, as
 * before. Nothing an owner uploads counts until a published manifest names
 * it, so an owner that fails, freezes or answers late is harmless: the
 * batch node computes its partitions itself, under its own names, and what
 * the owner wrote is swept as any unnamed object is.
 *
 * @module
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { ViewFileComputed } from '../../batch/index.ts';
import type { EngineLogger } from '../../engine/index.ts';
import { errorPayloadCheck, type ErrorPayload } from './batch-request-messages.ts';
import { CyclePartFailedError, InvalidOwnerRequestError } from './errors.ts';
import { nodeSubject } from './partition-names.ts';
import { PeerChannel, type ChannelKind, type PeerReply } from './peer-channel.ts';
import { archivedRange, fieldChecks, parseChecked, RecordShapeError, type RecordCheck } from './record-schemas.ts';
import type { ArchivedRange } from './shared-manifest.ts';
import type { PartWork } from './part-compute.ts';

/**
 * What the batch node asks an owner to compute (`part-compute.ts` says what
 * each field means), and the version the cycle builds on (0 before the
 * first): the owner must serve it. The owner names what it writes itself.
 */
export interface PartRequest extends Omit<PartWork, 'tag'> {
  readonly served: number;
}

/** What the owner computed: the ranges it archived, and per view its file in the version's folder. */
export interface PartAnswer {
  readonly ranges: readonly ArchivedRange[];
  /** Per view, a file per partition that holds events. */
  readonly views: Readonly<Record<string, readonly ViewFileComputed[]>>;
}

const { object, field, integer, array, nullable, string, at } = fieldChecks;
const integers = (value: unknown, path: string) => array(value, path).map((v, i) => integer(v, at(path, i), 0));
const ranges = (value: unknown, path: string) => array(value, path).map((r, i) => archivedRange(r, at(path, i)));
const SHA256 = /^[0-9a-f]{64}$/;

const requestCheck: RecordCheck<PartRequest> = (value) => {
  const r = object(value, '');
  const full = field(r, '', 'full');
  if (typeof full !== 'boolean') throw new RecordShapeError('full', 'a boolean');
  return {
    version: integer(field(r, '', 'version'), 'version', 1), term: integer(field(r, '', 'term'), 'term', 0), full,
    served: integer(field(r, '', 'served'), 'served', 0), cutoffs: integers(field(r, '', 'cutoffs'), 'cutoffs'),
    partitions: integers(field(r, '', 'partitions'), 'partitions'), chain: ranges(field(r, '', 'chain'), 'chain'), ahead: ranges(field(r, '', 'ahead'), 'ahead'),
  };
};

function viewFile(value: unknown, path: string): ViewFileComputed {
  const v = object(value, path);
  const file = nullable(field(v, path, 'file'), () => {
    const name = string(v.file, at(path, 'file'), true);
    if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new RecordShapeError(at(path, 'file'), 'a file name');
    return name;
  });
  const sha256 = v.sha256 === undefined ? undefined : string(v.sha256, at(path, 'sha256'), true);
  if (sha256 !== undefined && !SHA256.test(sha256)) throw new RecordShapeError(at(path, 'sha256'), 'a SHA-256 in hex');
  if (file !== null && sha256 === undefined) throw new RecordShapeError(at(path, 'sha256'), 'the SHA-256 of the file');
  const partition = integer(field(v, path, 'partition'), at(path, 'partition'), 0);
  return { file, partition, ...(sha256 === undefined ? {} : { sha256 }), rows: integer(field(v, path, 'rows'), at(path, 'rows'), 0), inputEvents: integer(field(v, path, 'inputEvents'), at(path, 'inputEvents'), 0) };
}

const replyCheck: RecordCheck<PeerReply<PartAnswer>> = (value) => {
  const r = object(value, '');
  const state = field(r, '', 'state');
  if (state === 'failed') return { state, error: errorPayloadCheck(field(r, '', 'error'), 'error') };
  if (state !== 'ok') throw new RecordShapeError('state', "'ok' or 'failed'");
  const views: Record<string, ViewFileComputed[]> = {};
  for (const [name, list] of Object.entries(object(field(r, '', 'views'), 'views'))) views[name] = array(list, at('views', name)).map((v, i) => viewFile(v, at(at('views', name), i)));
  return { state, ranges: ranges(field(r, '', 'ranges'), 'ranges'), views };
};

/** The channel's kind: requests carry the version they are for, so that failures name it. */
function partsKind(version: () => number): ChannelKind<PartRequest, PartAnswer> {
  const failed = (node: string, reason: string, cause?: unknown) => new CyclePartFailedError(node, version(), reason, cause);
  return {
    what: 'The part of a batch cycle',
    queue: 'tandem-cycle-part',
    subject: (cluster, node) => nodeSubject(cluster, 'part', node),
    parseRequest: (text) => parseChecked(text, requestCheck, (reason, cause) => new InvalidOwnerRequestError(reason, cause)),
    parseReply: (text, node) => parseChecked(text, replyCheck, (reason, cause) => failed(node, `a reply that is not valid: ${reason}`, cause)),
    rebuild: (node: string, error: ErrorPayload) => failed(node, `${error.code}: ${error.message}`),
    unreachable: (node, reason, cause) => failed(node, reason, cause),
    tooLarge: (node, bytes, maxBytes) => failed(node, `its answer takes ${bytes} bytes, more than the ${maxBytes} a reply may take`),
  };
}

export interface CyclePartsOptions {
  readonly cluster: string;
  readonly node: string;
  /** This node's part: archive and compute the partitions asked. */
  readonly compute: (request: PartRequest) => Promise<PartAnswer>;
  readonly logger?: EngineLogger;
}

/**
 * A node's side of divided cycles: asks owners for their parts (on the batch
 * node), and computes its own when asked (on every node), one at a time.
 *
 * @example
 * ```ts
 * const parts = await CycleParts.serve(nc, { cluster: 'shop', node: 'n1', compute: (request) => backend.part(request) });
 * const answer = await parts.ask('n2', request, 600_000);
 * ```
 */
export class CycleParts {
  /** The version of the request being asked: what a failure names. */
  #asking = 0;
  /** The part computed now: parts run one at a time, so a second ask for one waits for the first to finish writing. */
  #computing: Promise<unknown> = Promise.resolve();

  private constructor(private channel: PeerChannel<PartRequest, PartAnswer> | undefined) {}

  static async serve(nc: NatsConnection, options: CyclePartsOptions): Promise<CycleParts> {
    const parts = new CycleParts(undefined);
    const compute = (request: PartRequest): Promise<PartAnswer> => {
      const run = parts.#computing.then(() => options.compute(request));
      parts.#computing = run.catch(() => undefined);
      return run;
    };
    parts.channel = await PeerChannel.serve(nc, partsKind(() => parts.#asking), { ...options, answer: compute });
    return parts;
  }

  /** Asks `node` for its part; any failure is {@link CyclePartFailedError}. */
  async ask(node: string, request: PartRequest, timeoutMs: number): Promise<PartAnswer> {
    this.#asking = request.version;
    const answer = await this.channel!.ask(node, request, timeoutMs);
    checkAnswer(node, request, answer);
    return answer;
  }

  async close(): Promise<void> {
    await this.channel?.close();
  }
}

/**
 * The answer must extend exactly the partitions asked: per partition below
 * its seal one range, from where its chain (and what was archived ahead)
 * ends up to the seal; none where nothing was due.
 */
function checkAnswer(node: string, request: PartRequest, answer: PartAnswer): void {
  const ends = new Map<number, number>(request.partitions.map((p) => [p, 1]));
  for (const r of [...request.chain, ...request.ahead]) ends.set(r.partition, Math.max(ends.get(r.partition) ?? 1, r.to));
  const seen = new Set<number>();
  for (const r of answer.ranges) {
    const end = ends.get(r.partition);
    const due = end === undefined ? undefined : request.cutoffs[r.partition];
    if (end === undefined || seen.has(r.partition) || r.from !== end || r.to !== due) {
      throw new CyclePartFailedError(node, request.version, `its range ${r.from} to ${r.to} of partition ${r.partition} does not extend the chain up to the seal`);
    }
    seen.add(r.partition);
  }
  for (const p of request.partitions) {
    if (!seen.has(p) && (request.cutoffs[p] ?? 0) > ends.get(p)!) throw new CyclePartFailedError(node, request.version, `it archived nothing of partition ${p}, which is due up to ${request.cutoffs[p]}`);
  }
  for (const [view, files] of Object.entries(answer.views)) {
    const stray = files.find((f) => f.partition === undefined || !ends.has(f.partition));
    if (stray !== undefined) throw new CyclePartFailedError(node, request.version, `its file ${stray.file} of view ${view} is of partition ${stray.partition}, which was not asked`);
  }
}
