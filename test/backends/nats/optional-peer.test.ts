/**
 * The NATS clients are optional peers: `import 'tandem'` must never load
 * them (an install without them, or on a Node version their engines field
 * leaves out, must work and warn about nothing). So: they are dev and
 * optional peer dependencies only; src/backends/nats names them statically in
 * types alone and loads them with a dynamic import in one place; and no
 * entry point of the package reaches src/backends/nats through static imports.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SRC = join(ROOT, 'src');
const PACKAGES = ['@nats-io/jetstream', '@nats-io/kv', '@nats-io/obj', '@nats-io/transport-node'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** The module specifiers a file imports statically for its values (type-only imports leave no trace in JavaScript). */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
    if (match[1] === undefined) specifiers.push(match[2]!);
  }
  return specifiers;
}

test('optional peer - the NATS clients are dev dependencies and optional peers, never dependencies', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, unknown> | undefined>;
  for (const name of PACKAGES) {
    assert.equal(pkg.dependencies?.[name], undefined, `${name} is not a dependency`);
    assert.match(String(pkg.devDependencies?.[name]), /^\^3\./, `${name} is a dev dependency at 3.x`);
    assert.equal(pkg.peerDependencies?.[name], pkg.devDependencies?.[name], `${name} is a peer at the same range`);
    assert.deepEqual(pkg.peerDependenciesMeta?.[name], { optional: true }, `${name} is an optional peer`);
  }
});

test('optional peer - only src/backends/nats names them, statically in types alone, and loads them in nats-modules.ts', () => {
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const inCluster = file.startsWith(join(SRC, 'backends', 'nats'));
    if (!inCluster) {
      assert.doesNotMatch(text, /@nats-io\//, `${relative(ROOT, file)} does not name the NATS clients`);
      continue;
    }
    assert.deepEqual(valueImports(file).filter((s) => s.startsWith('@nats-io/')), [], `${relative(ROOT, file)} imports the NATS clients for types only`);
    const dynamic = [...text.matchAll(/import\(\s*['"](@nats-io\/[^'"]+)['"]\s*\)/g)].map((m) => m[1]);
    if (file.endsWith('nats-modules.ts')) for (const name of PACKAGES) assert.ok(dynamic.includes(name), `nats-modules.ts loads ${name}`);
    else assert.deepEqual(dynamic, [], `${relative(ROOT, file)} loads them through nats-modules.ts`);
  }
});

test('optional peer - no entry point of the package reaches src/backends/nats through static imports', () => {
  for (const entry of ['index.ts', 'client/index.ts', 'server/index.ts']) {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      assert.ok(!file.startsWith(join(SRC, 'backends', 'nats')), `${entry} reaches ${relative(ROOT, file)}`);
      for (const specifier of valueImports(file)) {
        assert.ok(!specifier.startsWith('@nats-io/'), `${relative(ROOT, file)} imports ${specifier}`);
        if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      }
    };
    visit(join(SRC, entry));
    assert.ok(seen.size > 5, `${entry}: ${seen.size} modules walked`);
  }
});
