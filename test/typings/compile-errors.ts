/**
 * Compiles lines of TypeScript that should not compile, with a given
 * compiler, against the repository's sources, and returns what the compiler
 * said about each line: for tests of the error messages users read, which
 * `@ts-expect-error` cannot see.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The TypeScript compilers the tests run: the project's own (6) and the native one (7), both devDependencies. */
export const COMPILERS = { 'TypeScript 6': 'typescript', 'TypeScript 7': 'typescript7' } as const;

/** The path of `tsc` in the installed package `name`, or undefined when it is not installed. */
export function tscOf(name: string): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${name}/package.json`)), 'bin', 'tsc');
  } catch {
    return undefined;
  }
}

/** The project's compiler options, reading sources from `ROOT` and Node's types from its node_modules. */
async function tsconfig(): Promise<string> {
  const { compilerOptions } = JSON.parse(await readFile(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: object };
  return JSON.stringify({ compilerOptions: { ...compilerOptions, typeRoots: [join(ROOT, 'node_modules', '@types')] }, files: ['cases.ts'] });
}

/** Where messages about another file than `cases.ts` go. */
const ELSEWHERE = 0;

/** `file(line,col): error TSn: message` and the indented lines under it, per line of `cases.ts`. */
function byLine(output: string): Map<number, string> {
  const messages = new Map<number, string>();
  let line = ELSEWHERE;
  for (const text of output.split('\n')) {
    if (text.trim() === '') continue;
    if (!text.startsWith(' ')) line = Number(/^cases\.ts\((\d+),\d+\): /.exec(text)?.[1] ?? ELSEWHERE);
    messages.set(line, `${messages.get(line) ?? ''}${text.trim()}\n`);
  }
  return messages;
}

/**
 * Compiles `preamble` followed by `lines` (one statement each) with the
 * `tsc` at `tsc`, and returns the compiler's messages about each of `lines`
 * ('' for a line it took). A message about the preamble or another file throws.
 */
export async function compileErrors(tsc: string, preamble: readonly string[], lines: readonly string[]): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-compile-'));
  try {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    await writeFile(join(dir, 'tsconfig.json'), await tsconfig());
    await writeFile(join(dir, 'cases.ts'), [...preamble, ...lines, 'export {};', ''].join('\n'));
    // tsc exits non-zero when anything fails to compile, which is the point here.
    const { stdout } = await run(process.execPath, [tsc, '-p', '.', '--pretty', 'false'], { cwd: dir, maxBuffer: 1 << 24 })
      .catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const messages = byLine(stdout);
    const aboutPreamble = [...messages].filter(([line]) => line <= preamble.length);
    if (aboutPreamble.length > 0) throw new Error(`The preamble or the sources do not compile: ${aboutPreamble.map(([, m]) => m).join('')}`);
    return lines.map((_, i) => messages.get(preamble.length + i + 1) ?? '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
