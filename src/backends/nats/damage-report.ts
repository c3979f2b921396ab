/**
 * What a node has found wrong with the cluster's shared state, for status,
 * metrics and the dashboard: records read back from NATS that are not
 * valid, and objects of the served version's chain missing from the object
 * store. Each source of findings (the control record's poll, the registry's
 * look, the archive check) replaces its own findings whenever it looks
 * again, so a problem fixed by hand or by a repair clears by itself. Every
 * change is logged once, not at every look.
 *
 * @module
 */
import type { ArchiveDamage, EngineLogger } from '../../engine/index.ts';
import type { AwaitedPartition } from './awaited-events.ts';
import type { InvalidClusterRecordError } from './errors.ts';

/** Who found a problem: each replaces only its own findings. */
export type DamageSource = 'control' | 'registry' | 'archive' | 'log';

/** A partition this node cannot follow from the served cutoff, and why. */
export interface StalledPartition {
  readonly partition: number;
  readonly reason: string;
}

/** An object of the chain that is not in the object store as the manifest lists it. */
export interface MissingPiece {
  readonly blob: string;
  /** `missing`, or how its digest differs. */
  readonly problem: string;
}

export class DamageReport {
  readonly #invalid = new Map<DamageSource, readonly InvalidClusterRecordError[]>();
  readonly #missing = new Map<DamageSource, readonly MissingPiece[]>();
  #stalled: readonly StalledPartition[] = [];
  #awaiting: readonly AwaitedPartition[] = [];
  #since: string | null = null;
  #told = '';

  constructor(private readonly logger: EngineLogger) {}

  /** Replaces what `source` found not valid (an empty list: nothing). */
  invalid(source: DamageSource, errors: readonly InvalidClusterRecordError[]): void {
    this.#invalid.set(source, errors);
    this.#changed();
  }

  /** Replaces what `source` found missing from the object store. */
  missing(source: DamageSource, pieces: readonly MissingPiece[]): void {
    this.#missing.set(source, pieces);
    this.#changed();
  }

  /** Replaces the partitions this node cannot follow. */
  stalled(partitions: readonly StalledPartition[]): void {
    this.#stalled = [...partitions].sort((a, b) => a.partition - b.partition);
    this.#changed();
  }

  /** Replaces the partitions whose events a version recorded as lost this node awaits again. */
  awaiting(partitions: readonly AwaitedPartition[]): void {
    this.#awaiting = partitions;
    this.#changed();
  }

  get missingPieces(): readonly MissingPiece[] {
    return [...this.#missing.values()].flat();
  }

  /** The control record as last read, if it was not valid. */
  get invalidControlRecord(): InvalidClusterRecordError | undefined {
    return this.#invalid.get('control')?.[0];
  }

  /** The findings for status, or null while there are none. */
  status(): ArchiveDamage | null {
    const invalid = [...this.#invalid.values()].flat();
    const missing = this.missingPieces;
    const stalled = this.#stalled;
    const awaiting = this.#awaiting;
    if (invalid.length === 0 && missing.length === 0 && stalled.length === 0 && awaiting.length === 0) return null;
    const partitions = [...new Set([...stalled, ...awaiting].map((s) => s.partition))].sort((a, b) => a - b);
    return {
      missing: missing.map((m) => m.blob),
      invalid: invalid.map((e) => `${e.store} ${e.key}`),
      ...(partitions.length === 0 ? {} : { partitions }),
      message: [
        ...invalid.map((e) => e.message), ...(missing.length === 0 ? [] : [missingSentence(missing)]), ...stalled.map(stalledSentence), ...awaiting.map(awaitingSentence),
      ].join(' '),
      since: this.#since!,
    };
  }

  #changed(): void {
    const damaged = this.#stalled.length > 0 || this.#awaiting.length > 0 || [...this.#invalid.values(), ...this.#missing.values()].some((found) => found.length > 0);
    if (damaged) this.#since ??= new Date().toISOString();
    const now = this.status();
    const told = now === null ? '' : now.message;
    if (told === this.#told) return;
    if (now === null) {
      this.#since = null;
      this.logger.info({}, 'the cluster\'s shared state is whole again');
    } else {
      this.logger.warn({ missing: now.missing, invalid: now.invalid }, now.message);
    }
    this.#told = told;
  }
}

function missingSentence(missing: readonly MissingPiece[]): string {
  const first = missing[0]!;
  const n = missing.length;
  const consequence = 'no stream is purged below them, batch cycles stop, and a node that restarts cannot resume from the archive until they are restored.';
  // The whole bucket gone: one cause, said once.
  if (missing.every((m) => m.problem === first.problem && m.problem.startsWith('the bucket '))) {
    return `${first.problem.replace(/^the bucket/, 'The object store bucket')}, so the ${n} object${n === 1 ? '' : 's'} of the served batch version's chain went with it: ${consequence}`;
  }
  return `${n} object${n === 1 ? '' : 's'} of the served batch version ${n === 1 ? 'is' : 'are'} not in the object store as its manifest lists (${first.blob}: ${first.problem}${n > 1 ? '; …' : ''}): ${consequence}`;
}

function stalledSentence(stalled: StalledPartition): string {
  return `Partition ${stalled.partition} cannot be followed from the served cutoff (${stalled.reason}): this node's answers lack its events past the cutoff until the batch node publishes a version that records the loss; what NATS lost comes back from the outboxes of the nodes that took it.`;
}

function awaitingSentence(awaiting: AwaitedPartition): string {
  const stretches = awaiting.stretches.map((s) => (s.to - s.from === 1 ? `${s.from}` : `${s.from} to ${s.to - 1}`)).join(', ');
  const n = awaiting.events;
  return `Batch version ${awaiting.version} records sequence${stretches.includes(' ') ? 's' : ''} ${stretches} of partition ${awaiting.partition} as lost by NATS, where this node had read ${n} event${n === 1 ? '' : 's'} it has not seen again: its answers lack them until the node that took them publishes them again from its outbox.`;
}
