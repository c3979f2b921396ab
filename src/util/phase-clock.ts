/**
 * Milliseconds per named step, each from the end of the one before: how an
 * open says where its time went (issue #29 asks for a one-second open).
 *
 * @example
 * ```ts
 * const phases = new PhaseClock();
 * await readKeys();
 * phases.done('keys');
 * logger.info({ ms: phases.ms }, 'engine opened');   // { keys: 12 }
 * ```
 */
export class PhaseClock {
  readonly ms: Record<string, number> = {};
  #last = performance.now();

  done(phase: string): void {
    const now = performance.now();
    this.ms[phase] = Math.round(now - this.#last);
    this.#last = now;
  }
}
