// The build step tsc cannot do: the dashboard's static files go beside its compiled module.
import { cpSync } from 'node:fs';

cpSync(new URL('../src/dashboard/assets', import.meta.url), new URL('../dist/dashboard/assets', import.meta.url), { recursive: true });
