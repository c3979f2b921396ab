/**
 * The latency floor for the HTTP benchmark: a Fastify route that answers a
 * point query's worth of JSON without doing any work. Tandem's point-query
 * latency is compared with it in the same run.
 */
import Fastify from 'fastify';

const app = Fastify();
const answer = { rows: [{ time: '2024-01-01T00:00:00.000Z', n: 12, units: 340 }], meta: { batchVersion: 1, batchCutoff: 0, logEnd: 0, batchAgeMs: 0, layer: 'merged' } };
app.post('/v1/query', async () => answer);
const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening at ${address}`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
