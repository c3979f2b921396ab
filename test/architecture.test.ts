/**
 * The seams are real (docs/architecture.md, "The layers and their folders"):
 * no two source files import each other, however far round, and every import
 * points down the dependency order. Type-only imports count: a circle of
 * types is still two concepts that cannot be understood one without the
 * other, and it becomes a runtime circle the day one of them needs a value.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The folders from the bottom up. A folder imports only folders of an
 * earlier entry; folders of one entry are siblings that never import each
 * other (except as {@link SIBLING_IMPORTS} says).
 */
const DEPENDENCY_ORDER: readonly (readonly string[])[] = [
  ['src/util'],
  ['src/definitions'],
  ['src/aggregates'],
  ['src/log', 'src/master', 'src/batch', 'src/speed', 'src/serving'],
  ['src/engine'],
  // SQL plans onto the engine's query; the server and the CLI use it.
  ['src/backends/local', 'src/backends/nats', 'src/sql'],
  ['src/dashboard'],
  ['src/server'],
  // The client imports only error classes and types from below (so that `import 'tandem/client'` loads no engine).
  // The PostgreSQL port answers through the SQL layer with the server's API keys; the CLI starts it beside the server.
  ['src/client', 'src/demo', 'src/pgwire'],
  ['src/cli', 'src/index.ts'],
];

/** Sibling imports the architecture names: the master dataset is exported from the log's sealed segments. */
const SIBLING_IMPORTS: readonly (readonly [string, string])[] = [['src/master', 'src/log']];

/** Cluster mode and its optional NATS packages load only for `tandem serve --nats`: `import 'tandem'` and the server never name it. */
const NATS = 'src/backends/nats';
const NATS_IMPORTERS: readonly string[] = [NATS, 'src/cli'];

/**
 * Imports known to close a cycle, left alone while the files are split
 * (`[from, to, why]`, paths from the repository root). Each entry must still
 * exist; empty it as the cycles go.
 */
const ALLOWED_CYCLE_IMPORTS: readonly (readonly [string, string, string])[] = [];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every module specifier in `text`: imports and re-exports (type-only too), `import('…')` calls and `import('…')` types. */
function specifiers(file: string, text: string): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    let specifier: ts.Node | undefined;
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) specifier = node.moduleSpecifier;
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) specifier = node.arguments[0];
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) specifier = node.argument.literal;
    if (specifier !== undefined && ts.isStringLiteralLike(specifier)) found.push(specifier.text);
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  return found;
}

/** Per source file (relative to the repository root), the source files it imports. */
function importGraph(): Map<string, string[]> {
  const files = sourceFiles(join(ROOT, 'src')).map((file) => relative(ROOT, file).split('\\').join('/'));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = specifiers(file, readFileSync(join(ROOT, file), 'utf8'))
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => relative(ROOT, resolve(ROOT, dirname(file), specifier)).split('\\').join('/'))
      .filter((target) => known.has(target));
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

const graph = importGraph();

/** The strongly connected components of more than one file (or a file importing itself), by Tarjan's algorithm. */
function knots(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const target of edges.get(file) ?? []) {
      if (!index.has(target)) {
        connect(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const knot: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      knot.push(member);
    } while (member !== file);
    if (knot.length > 1 || edges.get(file)!.includes(file)) found.push(knot.sort());
  };
  for (const file of edges.keys()) if (!index.has(file)) connect(file);
  return found;
}

/** A shortest chain of imports from `start` round to itself, staying inside its knot. */
function cycleThrough(start: string, knot: ReadonlySet<string>, edges: ReadonlyMap<string, readonly string[]>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length && !cameFrom.has(start); i++) {
    for (const target of edges.get(queue[i]!)!) {
      if (!knot.has(target) || cameFrom.has(target)) continue;
      cameFrom.set(target, queue[i]!);
      queue.push(target);
    }
  }
  const chain = [start];
  for (let file = cameFrom.get(start)!; file !== start; file = cameFrom.get(file)!) chain.unshift(file);
  return [start, ...chain];
}

/** Cycles that together pass through every file of the knot: each a chain of files, the first file repeated at the end. */
function cyclesOf(knot: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const members = new Set(knot);
  const covered = new Set<string>();
  const cycles: string[][] = [];
  for (const file of knot) {
    if (covered.has(file)) continue;
    const cycle = cycleThrough(file, members, edges);
    for (const member of cycle) covered.add(member);
    cycles.push(cycle);
  }
  return cycles;
}

function folderOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 2) return file;
  return parts[1] === 'backends' ? parts.slice(0, 3).join('/') : parts.slice(0, 2).join('/');
}

const tierOf = new Map(DEPENDENCY_ORDER.flatMap((folders, tier) => folders.map((folder) => [folder, tier] as const)));

test('architecture - no import cycle between source files, type-only imports included', () => {
  const allowed = new Set(ALLOWED_CYCLE_IMPORTS.map(([from, to]) => `${from} ${to}`));
  const edges = new Map([...graph].map(([file, targets]) => [file, targets.filter((target) => !allowed.has(`${file} ${target}`))]));
  const cycles = knots(edges).flatMap((knot) => cyclesOf(knot, edges).map((cycle) => cycle.join(' → ')));
  assert.deepEqual(cycles, []);
});

test('architecture - every allowed cycle import still exists', () => {
  const stale = ALLOWED_CYCLE_IMPORTS.filter(([from, to]) => !(graph.get(from) ?? []).includes(to)).map(([from, to]) => `${from} → ${to}`);
  assert.deepEqual(stale, [], 'remove these from ALLOWED_CYCLE_IMPORTS: the import is gone');
});

test('architecture - every source folder has its place in the dependency order', () => {
  const unplaced = [...new Set([...graph.keys()].map(folderOf))].filter((folder) => !tierOf.has(folder));
  assert.deepEqual(unplaced, []);
});

test('architecture - imports point down the dependency order', () => {
  const sibling = new Set(SIBLING_IMPORTS.map(([from, to]) => `${from} ${to}`));
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const [from, to] = [folderOf(file), folderOf(target)];
      if (from === to || !tierOf.has(from) || !tierOf.has(to) || sibling.has(`${from} ${to}`)) continue;
      if (tierOf.get(to)! > tierOf.get(from)!) wrong.push(`${file} → ${target} (${from} is below ${to})`);
      else if (tierOf.get(to) === tierOf.get(from)) wrong.push(`${file} → ${target} (${from} and ${to} are siblings)`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('architecture - the engine names no backend', () => {
  const wrong = [...graph]
    .filter(([file]) => folderOf(file) === 'src/engine')
    .flatMap(([file, targets]) => targets.filter((target) => target.startsWith('src/backends/')).map((target) => `${file} → ${target}`));
  assert.deepEqual(wrong, []);
});

test('architecture - only the CLI loads cluster mode', () => {
  const wrong = [...graph]
    .filter(([file]) => !NATS_IMPORTERS.includes(folderOf(file)))
    .flatMap(([file, targets]) => targets.filter((target) => folderOf(target) === NATS).map((target) => `${file} → ${target}`));
  assert.deepEqual(wrong, []);
});

test('architecture - no source file imports the cluster internal barrel, which is for tests', () => {
  const wrong = [...graph].filter(([, targets]) => targets.includes(`${NATS}/internal.ts`)).map(([file]) => file);
  assert.deepEqual(wrong, []);
});

test('architecture - the cycle finder reports cycles as chains of files that pass through every file of a knot', () => {
  const edges = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts', 'd.ts']],
    ['c.ts', ['a.ts']],
    ['d.ts', ['b.ts']],
    ['e.ts', ['e.ts']],
    ['f.ts', ['a.ts']],
  ]);
  assert.deepEqual(knots(edges).map((knot) => cyclesOf(knot, edges)), [
    [['a.ts', 'b.ts', 'c.ts', 'a.ts'], ['d.ts', 'b.ts', 'd.ts']],
    [['e.ts', 'e.ts']],
  ]);
});
