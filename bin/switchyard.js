#!/usr/bin/env node
// Entry point: runs the compiled CLI. `npm run build` (or the README's commands) compiles it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/core/src/cli/run.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('switchyard: not built yet. Run `npm ci && npm run build` in the Switchyard folder first.\n');
  process.exit(1);
}
await import(entry.href);
