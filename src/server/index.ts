/**
 * The HTTP server: Fastify routes, metrics and the batch schedule over one
 * engine; as a whole server ({@link createServer}), a Fastify plugin for an
 * application's own server ({@link tandemPlugin}), or a plain Node handler
 * ({@link createHandler}).
 *
 * @module
 */
export { createServer, tandemPlugin, type ServerOptions, type TandemServer, type TandemPluginOptions } from './create-server.ts';
export { createHandler, type TandemHandler } from './create-handler.ts';
export { BatchSchedule } from '../engine/index.ts';
export {
  MalformedBodyError, UnauthorizedError, ForbiddenError, TooManyEventsError,
  UnsupportedMediaTypeError, UnsupportedCharsetError, UnsupportedEncodingError, InvalidCompressionError, InvalidUtf8Error, BodyTooLargeError,
  HostNotAllowedError, CrossOriginError, ShuttingDownError, RequestTimeoutError, HeadersTooLargeError, MalformedHttpError,
} from './errors.ts';
export { AccessControl, type RouteScope } from './access-control.ts';
export { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connection-limits.ts';
export { isLoopbackAddress } from './loopback-guard.ts';
export { parseNdjson, parseNdjsonBytes, parseNdjsonLines, requestRejections } from './events-body.ts';
