#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, so TypeScript configs load
// with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/run.ts');
