#!/usr/bin/env -S node --max-semi-space-size=64
// A 64 MiB young generation: ingest allocates many short-lived objects, and the
// default (16 MiB) promotes them to the old generation, whose garbage then makes
// every minor GC slow; query p99 fell from 5 ms to 2 ms with it (docs/benchmarks.md).
// The CLI runs the compiled package (npm run build); TypeScript configs load
// through tsx, which is registered only for them.
await import('../dist/cli/run.js');
