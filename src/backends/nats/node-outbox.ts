/**
 * A node's outbox: every event it takes, made durable on its own disk before
 * the ingest is answered, and kept until the event sits in an archived range
 * the object store has returned intact. NATS 2.9 acknowledges a publish once
 * a quorum holds it in memory, and a crash of every server has lost
 * acknowledged messages (issue #26); the outbox is what puts them back.
 *
 * One embedded event log per partition (`<data>/cluster/outbox/p000/`, the
 * engine's own segments and group commit, fsynced), whose offsets number the
 * events this node sent to that partition: an event's **origin** is this
 * outbox's id (random, made once per data directory) and that offset.
 * Messages carry the origin of their first event, and every consumer drops
 * an event whose origin it has seen (`first-occurrence.ts`), so an event
 * published again after a loss counts once, with or without an idempotency
 * key.
 *
 * Events of an append that was answered with an error (not acknowledged
 * within the retry budget) are marked abandoned, as before the outbox: the
 * client was told they may or may not be stored, and retries them itself.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { selectEvents, type Catalog, type EventColumns } from '../../definitions/index.ts';
import { LocalEventLog } from '../../log/index.ts';
import { syncDirectory } from '../../util/sync-directory.ts';
import { OriginSet, type OriginRun } from './origin-set.ts';

/** One append's events for one partition, as the outbox holds them. */
export interface OutboxEntry {
  readonly eventType: string;
  /** Origin of its first event; the others follow. */
  readonly from: number;
  readonly count: number;
  /** The highest stream sequence its messages were acknowledged at; undefined until they are (or after a restart). */
  ackSeq: number | undefined;
  /** When that acknowledgement came (epoch ms). */
  ackedAt?: number;
  /** Being published now: not to be published again meanwhile. */
  inFlight: boolean;
}

interface Partition {
  readonly log: LocalEventLog;
  /** Entries not yet released, in origin order. */
  entries: OutboxEntry[];
  readonly abandoned: OriginSet;
  /** Origins below this are released: archived, or abandoned. */
  released: number;
}

const NO_LISTENER = { committed() {}, sealed() {} };

/** The catalog the outbox logs write with: no idempotency keys, since the outbox keeps every event it is given. */
function keyless(catalog: Catalog): Catalog {
  const eventTypes = new Map([...catalog.eventTypes].map(([name, e]) => [name, { ...e, idempotencyKey: undefined, idempotencyWindow: undefined }]));
  return { ...catalog, eventTypes };
}

export class NodeOutbox {
  readonly #partitions: Partition[];

  private constructor(
    /** This outbox's id: the first part of every origin it gives. */
    readonly id: string,
    private readonly dir: string,
    partitions: Partition[],
  ) {
    this.#partitions = partitions;
  }

  /** Opens (creating) the outbox in `dir`, one log per partition, and rebuilds its entries from the logs. */
  static async open(dir: string, catalog: Catalog, partitions: number): Promise<NodeOutbox> {
    await mkdir(dir, { recursive: true });
    const id = await outboxId(dir);
    const logCatalog = keyless(catalog);
    const opened = await Promise.all(Array.from({ length: partitions }, async (_, p): Promise<Partition> => {
      const log = await LocalEventLog.open({ dir: join(dir, partitionDir(p)), catalog: logCatalog, listener: NO_LISTENER });
      const entries: OutboxEntry[] = [];
      await log.replay((eventType, events, firstOffset) => entries.push({ eventType, from: firstOffset, count: events.count, ackSeq: undefined, inFlight: false }));
      const abandoned = OriginSet.of(await readAbandoned(join(dir, partitionDir(p))));
      return { log, entries, abandoned, released: log.firstOffset };
    }));
    return new NodeOutbox(id, dir, opened);
  }

  /** Makes `events` durable as the next events of partition `p` and resolves with the origin of the first; the entry is in flight until {@link settle}. */
  async record(p: number, eventType: string, events: EventColumns): Promise<number> {
    const part = this.#partitions[p]!;
    const { firstOffset } = await part.log.append(eventType, events);
    part.entries.push({ eventType, from: firstOffset, count: events.count, ackSeq: undefined, inFlight: true });
    return firstOffset;
  }

  /** The publish of the entry at `from` in `p` is over: acknowledged up to `ackSeq`, or given up (abandoned). */
  async settle(p: number, from: number, outcome: { ackSeq: number } | 'abandoned'): Promise<void> {
    const part = this.#partitions[p]!;
    const entry = part.entries.find((e) => e.from === from);
    if (entry === undefined) return;
    entry.inFlight = false;
    if (outcome !== 'abandoned') {
      entry.ackSeq = Math.max(entry.ackSeq ?? 0, outcome.ackSeq);
      entry.ackedAt = Date.now();
      return;
    }
    part.abandoned.add(entry.from, entry.from + entry.count);
    await writeAbandoned(join(this.dir, partitionDir(p)), part.abandoned.runs);
  }

  /** The entries of `p` not yet released, in origin order. */
  entries(p: number): readonly OutboxEntry[] {
    return this.#partitions[p]!.entries;
  }

  /** The origins of `p` given up on: their appends were answered with an error. */
  abandoned(p: number): OriginSet {
    return this.#partitions[p]!.abandoned;
  }

  /**
   * The events of `runs` (origin runs of `p`), read back from the outbox's
   * segments, by run: what is published again after a loss.
   */
  async read(p: number, runs: readonly OriginRun[]): Promise<{ run: OriginRun; eventType: string; events: EventColumns }[]> {
    const found: { run: OriginRun; eventType: string; events: EventColumns }[] = [];
    await this.#partitions[p]!.log.replay((eventType, events, firstOffset) => {
      for (const [from, to] of runs) {
        const start = Math.max(from, firstOffset);
        const end = Math.min(to, firstOffset + events.count);
        if (start >= end) continue;
        const picked = start === firstOffset && end === firstOffset + events.count
          ? events
          : selectEvents(events, Array.from({ length: end - start }, (_, i) => start - firstOffset + i));
        found.push({ run: [start, end], eventType, events: picked });
      }
    });
    return found;
  }

  /**
   * Releases partition `p`'s events below origin `below`: every one of them
   * is in an archived range the object store returned intact, or was
   * abandoned. Seals the log there so whole segments can go.
   */
  async release(p: number, below: number): Promise<void> {
    const part = this.#partitions[p]!;
    if (below <= part.released) return;
    part.released = below;
    part.entries = part.entries.filter((e) => e.from + e.count > below);
    await part.log.seal();
    await part.log.releaseBefore(below);
  }

  /** Origins of `p` held, for status: from the first not released to the end. */
  held(p: number): number {
    const part = this.#partitions[p]!;
    return part.log.end - part.released;
  }

  async close(): Promise<void> {
    await Promise.all(this.#partitions.map((part) => part.log.close()));
  }
}

const partitionDir = (p: number) => `p${String(p).padStart(3, '0')}`;

/** The outbox's id, made once (random) and kept in `id` beside its logs. */
async function outboxId(dir: string): Promise<string> {
  const file = join(dir, 'id');
  const existing = await readFile(file, 'utf8').then((text) => text.trim(), () => '');
  if (/^[0-9a-f]{16}$/.test(existing)) return existing;
  const id = randomBytes(8).toString('hex');
  await writeFile(`${file}.tmp`, id, { flush: true });
  await rename(`${file}.tmp`, file);
  await syncDirectory(dir);
  return id;
}

async function readAbandoned(dir: string): Promise<OriginRun[]> {
  const text = await readFile(join(dir, 'abandoned.json'), 'utf8').catch(() => '[]');
  try {
    const runs = JSON.parse(text) as unknown;
    return Array.isArray(runs) ? runs.filter((r): r is OriginRun => Array.isArray(r) && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1])) : [];
  } catch {
    // Cut short by a crash while written: abandoned events are published again, which costs nothing but a retry's copy.
    return [];
  }
}

async function writeAbandoned(dir: string, runs: readonly OriginRun[]): Promise<void> {
  const file = join(dir, 'abandoned.json');
  await writeFile(`${file}.tmp`, JSON.stringify(runs), { flush: true });
  await rename(`${file}.tmp`, file);
}
