/**
 * The logger of a server the CLI starts: JSON lines or readable ones, with
 * logged errors redacted.
 *
 * @module
 */
import { pino, stdSerializers, type Logger, type LoggerOptions } from 'pino';
import { createRequire } from 'node:module';
import type PinoPretty from 'pino-pretty';

/** pino-pretty's factory, the module's export. */
type PrettyFactory = typeof PinoPretty;
import { redactUrlsDeep, redactUrlsInText } from '../util/redact-url.ts';

/**
 * The logger's options. What a line says is redacted, and a logged error:
 * its message, stack (causes included), and fields such as a NATS error's
 * `servers` may quote a URL with its password. Other objects logged are
 * not walked, since request lines are many and carry no credentials.
 *
 * @example
 * ```ts
 * pino(loggerOptions('info')).error({ err }, 'could not join the cluster');   // nats://u:***@host in the line
 * ```
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    serializers: { err: (error: Error) => redactUrlsDeep(stdSerializers.err(error)) },
    hooks: {
      logMethod(args, method) {
        // An error logged alone lends pino its message as the line's, unserialized.
        const [first, second] = args as unknown[];
        const withMessage = first instanceof Error && typeof second !== 'string' ? [first, first.message, ...args.slice(1)] : args;
        method.apply(this, withMessage.map((arg) => (typeof arg === 'string' ? redactUrlsInText(arg) : arg)) as Parameters<typeof method>);
      },
    },
  };
}

/**
 * The server's logger. Pretty output is formatted in this thread, in order
 * with what the command prints itself (a transport would format it in a
 * worker, and interleave).
 *
 * @example
 * ```ts
 * const logger = createLogger('info', process.stdout.isTTY ? 'pretty' : 'json');
 * ```
 */
export function createLogger(level: string, format: 'json' | 'pretty'): Logger {
  const pretty = format === 'pretty' ? prettyStream() : undefined;
  if (pretty === undefined) return pino(loggerOptions(level));
  return pino(loggerOptions(level), pretty({ sync: true, colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}

/**
 * pino-pretty, an optional peer dependency (readable lines matter only on a
 * terminal), or undefined when it is not installed: the lines are JSON then.
 */
function prettyStream(): PrettyFactory | undefined {
  try {
    return createRequire(import.meta.url)('pino-pretty') as PrettyFactory;
  } catch {
    return undefined;
  }
}
