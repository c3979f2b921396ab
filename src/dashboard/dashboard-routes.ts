/**
 * Serves the dashboard: a static page, its script and styles, and uPlot from
 * the installed package. Everything ships with Tandem; the page requests
 * nothing from outside the server.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { rollsUpInto, TYPICAL_BUCKET_MS } from '../definitions/index.ts';

interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

const require = createRequire(import.meta.url);

/**
 * The granularities as the dashboard needs them, from the one module that
 * defines them: widths for laying out a chart, and what rolls up into what.
 */
function granularityModule(): Buffer {
  const coarser = Object.fromEntries(ROLLUPS.map((fine) => [fine, ROLLUPS.filter((coarse) => rollsUpInto(fine, coarse))]));
  return Buffer.from(`export const GRANULARITY_MS = ${JSON.stringify(TYPICAL_BUCKET_MS)};\nexport const ROLLS_UP_INTO = ${JSON.stringify(coarser)};\n`);
}

const ROLLUPS = ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] as const;

function vendored(file: string): Buffer {
  const copied = new URL(`assets/uplot/${file}`, import.meta.url);
  return existsSync(copied) ? readFileSync(copied) : readFileSync(require.resolve(`uplot/dist/${file}`));
}

function load(): Record<string, Asset> {
  const own = (name: string) => readFileSync(new URL(`assets/${name}`, import.meta.url));
  return {
    '/': { body: own('index.html'), type: 'text/html; charset=utf-8' },
    '/dashboard/app.js': { body: own('app.js'), type: 'text/javascript; charset=utf-8' },
    '/dashboard/api.js': { body: own('api.js'), type: 'text/javascript; charset=utf-8' },
    '/dashboard/format.js': { body: own('format.js'), type: 'text/javascript; charset=utf-8' },
    '/dashboard/decimal.js': { body: own('decimal.js'), type: 'text/javascript; charset=utf-8' },
    '/dashboard/series.js': { body: own('series.js'), type: 'text/javascript; charset=utf-8' },
    '/dashboard/url-state.js': { body: own('url-state.js'), type: 'text/javascript; charset=utf-8' },
    '/dashboard/time-axis.js': { body: own('time-axis.js'), type: 'text/javascript; charset=utf-8' },
    '/dashboard/zoned-time.js': { body: own('zoned-time.js'), type: 'text/javascript; charset=utf-8' },
    '/dashboard/granularities.js': { body: granularityModule(), type: 'text/javascript; charset=utf-8' },
    '/dashboard/style.css': { body: own('style.css'), type: 'text/css; charset=utf-8' },
    // uPlot is a devDependency: the build copies its files beside the assets (scripts/copy-assets.js); from source, node_modules has them.
    '/dashboard/uplot.js': { body: vendored('uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
    '/dashboard/uplot.css': { body: vendored('uPlot.min.css'), type: 'text/css; charset=utf-8' },
  };
}

/** Registers `GET /` and the dashboard's assets on a Fastify instance. */
export function registerDashboard(app: FastifyInstance): void {
  const assets = load();
  for (const [path, asset] of Object.entries(assets)) {
    app.get(path, (_request, reply) => {
      void reply
        .header('content-type', asset.type)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
        .send(asset.body);
    });
  }
}
