/**
 * The NATS client packages, loaded when cluster mode starts and never
 * before: they are optional peer dependencies, so `import 'tandem'` (and an
 * install on a Node version their engines field leaves out) never needs
 * them. Only types are imported statically, and types leave no trace in the
 * emitted JavaScript.
 *
 * @module
 */
import type * as JetStreamModule from '@nats-io/jetstream';
import type * as KvModule from '@nats-io/kv';
import type * as ObjModule from '@nats-io/obj';
import type * as TransportModule from '@nats-io/transport-node';
import { NatsClientMissingError } from './errors.ts';

export interface NatsModules {
  readonly transport: typeof TransportModule;
  readonly jetstream: typeof JetStreamModule;
}

export const NATS_PACKAGES = ['@nats-io/transport-node', '@nats-io/jetstream'] as const;

let loaded: Promise<NatsModules> | undefined;
let loadedKv: Promise<typeof KvModule> | undefined;
let loadedObj: Promise<typeof ObjModule> | undefined;

/** A failed import becomes {@link NatsClientMissingError} naming what to install, when the packages are missing. */
function missing(packages: readonly string[]): (error: unknown) => never {
  return (error) => {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new NatsClientMissingError(packages, error);
    throw error;
  };
}

/**
 * The Object Store client, imported once; {@link NatsClientMissingError} if
 * it is not installed. Its SHA-256 of every object put and read is switched
 * to Node's own (the client defaults to a JavaScript one, for browsers): on
 * the main thread that took 0.34 s of a 0.9 s cycle archiving 300,000 events,
 * as the archive reads back each object it puts.
 */
export function loadObj(): Promise<typeof ObjModule> {
  loadedObj ??= import('@nats-io/obj').then((obj) => {
    obj.setSha256Backend('native');
    return obj;
  }, (error: unknown) => {
    loadedObj = undefined;
    return missing([...NATS_PACKAGES, '@nats-io/obj'])(error);
  });
  return loadedObj;
}

/** The KV client, imported once (it needs the others); {@link NatsClientMissingError} if it is not installed. */
export function loadKv(): Promise<typeof KvModule> {
  loadedKv ??= import('@nats-io/kv').catch((error: unknown) => {
    loadedKv = undefined;
    return missing([...NATS_PACKAGES, '@nats-io/kv'])(error);
  });
  return loadedKv;
}

/** The NATS client modules, imported once; {@link NatsClientMissingError} if they are not installed. */
export function loadNats(): Promise<NatsModules> {
  loaded ??= Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]).then(
    ([transport, jetstream]) => ({ transport, jetstream }),
    (error: unknown) => {
      loaded = undefined;
      return missing(NATS_PACKAGES)(error);
    },
  );
  return loaded;
}
