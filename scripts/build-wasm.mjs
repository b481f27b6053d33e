// Assembles the WebAssembly text modules of core (`core/src/**/*.wat`) into binary modules beside
// their compiled TypeScript in dist/ (`npm run build:core` runs it after tsc). Run from the
// TypeScript, the same modules assemble themselves on first use (see core/src/replay/record-wasm.ts).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wabt = await wabtInit();

function* watFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* watFiles(p);
    else if (e.name.endsWith('.wat')) yield p;
  }
}

for (const src of watFiles(join(root, 'core', 'src'))) {
  const rel = relative(root, src);
  const parsed = wabt.parseWat(rel, readFileSync(src, 'utf8'));
  try {
    parsed.validate();
    const out = join(root, 'dist', rel.replace(/\.wat$/, '.wasm'));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, parsed.toBinary({}).buffer);
    console.log(`${rel} -> ${relative(root, out)}`);
  } finally {
    parsed.destroy();
  }
}
