/**
 * `tandem/cluster` is a public face, not the folder's contents: the node, its
 * options, and the errors a caller of it meets. Every cluster error whose
 * code the server maps to a status is one of them, since a client meets it
 * over HTTP and a caller in process as the class. The working parts stay in
 * internal.ts, for the tests.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as cluster from '../../../src/backends/nats/index.ts';
import * as internal from '../../../src/backends/nats/internal.ts';
import { TandemError } from '../../../src/definitions/index.ts';
import { STATUS_BY_CODE } from '../../../src/server/http-errors.ts';

const ERRORS = new URL('../../../src/backends/nats/errors.ts', import.meta.url);

test('cluster public face - holds the node and error classes, no working part', () => {
  const parts = Object.entries(cluster)
    .filter(([name, value]) => name !== 'ClusterNode' && !(typeof value === 'function' && value.prototype instanceof TandemError))
    .map(([name]) => name);
  assert.deepEqual(parts, []);
  assert.equal(typeof cluster.ClusterNode.open, 'function');
});

test('cluster public face - every cluster error the server maps to a status is public', () => {
  const declared = [...readFileSync(ERRORS, 'utf8').matchAll(/export class (\w+) extends TandemError \{\s*readonly code = '(\w+)'/g)];
  assert.ok(declared.length > 10, `only ${declared.length} error classes read from errors.ts`);
  const missing = declared.filter(([, name, code]) => STATUS_BY_CODE[code!] !== undefined && !(name! in cluster)).map(([, name, code]) => `${name} (${code})`);
  assert.deepEqual(missing, [], 'export these from src/backends/nats/index.ts');
});

test('cluster public face - the internal barrel holds every public name as well', () => {
  const everything: Readonly<Record<string, unknown>> = internal;
  for (const [name, value] of Object.entries(cluster)) assert.equal(everything[name], value, name);
});
