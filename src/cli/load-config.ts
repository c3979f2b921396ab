/**
 * Reads a config file: JSON, or a TypeScript/JavaScript module whose default
 * export (or `config` export) is the result of `defineConfig`. A TypeScript
 * module loads through tsx, registered the first time one is asked for, so
 * the CLI pays for a TypeScript loader only when a config needs one.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileConfig, TandemError, type TandemConfig } from '../definitions/index.ts';
import { CliError } from './cli-error.ts';

export async function loadConfig(file: string): Promise<TandemConfig> {
  const path = resolve(file);
  const config = extname(path) === '.json' ? await readJson(path) : await importModule(path);
  try {
    compileConfig(config);
  } catch (error) {
    if (error instanceof TandemError) throw new CliError(`${file}: ${error.message}`);
    throw error;
  }
  return config as TandemConfig;
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CliError(`Cannot read the config file ${path}.`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`The config file ${path} is not valid JSON (${(error as Error).message}).`);
  }
}

let typeScript: Promise<void> | undefined;

/**
 * Registers tsx, an optional peer dependency: Node 20 cannot strip types
 * itself, and a library install should not carry a TypeScript loader (and
 * esbuild's install script) that only a `.ts` config needs.
 */
function loadTypeScript(path: string): Promise<void> {
  typeScript ??= import('tsx/esm/api').then(({ register }) => void register(), (error: unknown) => {
    typeScript = undefined;
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new CliError(`Loading the TypeScript config ${path} needs tsx, which is not installed: run 'npm i -D tsx', or write the config as JSON.`);
  });
  return typeScript;
}

async function importModule(path: string): Promise<unknown> {
  let module: { default?: unknown; config?: unknown };
  if (/\.[cm]?tsx?$/.test(path)) await loadTypeScript(path);
  try {
    module = await import(pathToFileURL(path).href) as typeof module;
  } catch (error) {
    throw new CliError(`Cannot load the config module ${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  const config = module.default ?? module.config;
  if (config === undefined) throw new CliError(`The config module ${path} must export the config as default or as 'config'.`);
  return config;
}
