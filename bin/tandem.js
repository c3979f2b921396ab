#!/usr/bin/env -S node --max-semi-space-size=64
// A 64 MiB young generation: ingest allocates many short-lived objects, and the
// default (16 MiB) promotes them to the old generation, whose garbage then makes
// every minor GC slow; query p99 fell from 5 ms to 2 ms with it (docs/benchmarks.md).
// The CLI is TypeScript run through tsx's loader, so TypeScript configs load
// with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/run.ts');
