/**
 * The HTTP server: Fastify routes, metrics and the batch schedule over one engine.
 *
 * @module
 */
export { createServer, type ServerOptions, type TandemServer } from './create-server.ts';
export { BatchSchedule } from './batch-schedule.ts';
export {
  MalformedBodyError, UnauthorizedError, ForbiddenError, TooManyEventsError,
  UnsupportedMediaTypeError, UnsupportedCharsetError, UnsupportedEncodingError, InvalidCompressionError, InvalidUtf8Error, BodyTooLargeError,
  HostNotAllowedError, CrossOriginError, ShuttingDownError, RequestTimeoutError, HeadersTooLargeError, MalformedHttpError,
} from './errors.ts';
export { AccessControl, type RouteScope } from './access-control.ts';
export { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connection-limits.ts';
export { isLoopbackAddress } from './loopback-guard.ts';
export { parseNdjson, parseNdjsonBytes, parseNdjsonLines, requestRejections } from './events-body.ts';
