/**
 * Helpers for type-level tests: `assertType<Equal<A, B>>()` fails the
 * type-check unless A and B are the same type (not merely assignable).
 */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

/** Compiles only when `T` is `true`; does nothing at run time. */
export function assertType<T extends true>(): T | void {}

/** A value of type `T` for type tests that never run. */
export declare function valueOf<T>(): T;
