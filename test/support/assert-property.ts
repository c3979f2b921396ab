import fc from 'fast-check';
import assert from 'node:assert/strict';

/**
 * Like `fc.assert`, with the failure's own error (an assertion's message)
 * in the report, and `SEED`, `FCPATH` and `RUNS` from the environment to
 * replay a failure or run longer.
 */
export async function assertProperty<T>(property: fc.IAsyncProperty<T>, parameters: fc.Parameters<T>): Promise<void> {
  const replay = process.env.SEED === undefined ? {} : { seed: Number(process.env.SEED), path: process.env.FCPATH, endOnFailure: true };
  const details = await fc.check(property, { ...parameters, ...(process.env.RUNS === undefined ? {} : { numRuns: Number(process.env.RUNS) }), ...replay });
  if (!details.failed) return;
  const cause = details.errorInstance instanceof Error ? (process.env.STACK === undefined ? details.errorInstance.message : details.errorInstance.stack ?? '') : String(details.errorInstance);
  assert.fail(`${fc.defaultReportMessage(details) ?? 'the property failed'}\n${cause}`);
}
