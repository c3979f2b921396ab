import { createRequire } from 'node:module';

/** The package's version, read once from package.json. */
export const PACKAGE_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
