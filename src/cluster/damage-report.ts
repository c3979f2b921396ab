/**
 * What a node has found wrong with the cluster's shared state, for status,
 * metrics and the dashboard: records read back from NATS that are not
 * valid. Each source of findings (the control record's poll, the registry's
 * look) replaces its own findings whenever it looks again, so a problem fixed by hand or by a repair clears by itself. Every
 * change is logged once, not at every look.
 *
 * @module
 */
import type { ArchiveDamage, EngineLogger } from '../engine/index.ts';
import type { InvalidClusterRecordError } from './errors.ts';

/** Who found a problem: each replaces only its own findings. */
export type DamageSource = 'control' | 'registry';

export class DamageReport {
  readonly #invalid = new Map<DamageSource, readonly InvalidClusterRecordError[]>();
  #since: string | null = null;
  #told = '';

  constructor(private readonly logger: EngineLogger) {}

  /** Replaces what `source` found not valid (an empty list: nothing). */
  invalid(source: DamageSource, errors: readonly InvalidClusterRecordError[]): void {
    this.#invalid.set(source, errors);
    this.#changed();
  }

  /** The control record as last read, if it was not valid. */
  get invalidControlRecord(): InvalidClusterRecordError | undefined {
    return this.#invalid.get('control')?.[0];
  }

  /** The findings for status, or null while there are none. */
  status(): ArchiveDamage | null {
    const invalid = [...this.#invalid.values()].flat();
    if (invalid.length === 0) return null;
    return { missing: [], invalid: invalid.map((e) => `${e.store} ${e.key}`), message: invalid.map((e) => e.message).join(' '), since: this.#since! };
  }

  #changed(): void {
    const damaged = [...this.#invalid.values()].some((found) => found.length > 0);
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
