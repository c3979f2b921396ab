/**
 * `tandem keygen`: a new API key, and the config entry that accepts it.
 *
 * @module
 */
import { API_SCOPES, keyDigest } from '../../definitions/server-config.ts';
import { CliError } from '../cli-error.ts';
import { API_KEYS_VARIABLE, generateKey } from '../server-access.ts';

export function keygen(options: { name: string; scopes: string }): void {
  const scopes = options.scopes.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const unknown = scopes.find((scope) => !(API_SCOPES as readonly string[]).includes(scope));
  if (unknown !== undefined || scopes.length === 0) throw new CliError(`--scopes takes a comma-separated list of ${API_SCOPES.join(', ')}${unknown === undefined ? '' : `, not '${unknown}'`}.`);
  if (options.name.length === 0 || options.name.length > 64) throw new CliError('--name must have 1 to 64 characters.');
  const secret = generateKey();
  const entry = { name: options.name, scopes, sha256: keyDigest(secret).toString('hex') };
  console.log(`key    ${secret}`);
  console.log(`entry  ${JSON.stringify(entry)}`);
  console.log(`\nPut the entry in the config's server.apiKeys (or ${API_KEYS_VARIABLE}); give the key to the client, e.g. TANDEM_API_KEY=<key>. It is not stored anywhere else.`);
}
