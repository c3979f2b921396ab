// The build step tsc cannot do: the dashboard's static files go beside its compiled module, and uPlot's two
// files with them, so that uPlot is a devDependency and a library install does not carry it.
import { cpSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

cpSync(new URL('../src/dashboard/assets', import.meta.url), new URL('../dist/dashboard/assets', import.meta.url), { recursive: true });
const require = createRequire(import.meta.url);
const uplot = new URL('../dist/dashboard/assets/uplot/', import.meta.url);
mkdirSync(uplot, { recursive: true });
for (const file of ['uPlot.iife.min.js', 'uPlot.min.css']) cpSync(require.resolve(`uplot/dist/${file}`), new URL(file, uplot));
