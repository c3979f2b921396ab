/**
 * The HTTP server: Fastify routes, metrics and the batch schedule over one engine.
 *
 * @module
 */
export { createServer, type ServerOptions, type TandemServer } from './create-server.ts';
export { BatchSchedule } from './batch-schedule.ts';
export { MalformedBodyError, UnauthorizedError, ForbiddenError, TooManyEventsError } from './errors.ts';
export { AccessControl, type RouteScope } from './access-control.ts';
export { parseNdjson, parseNdjsonLines, requestRejections } from './events-body.ts';
