// Assembles the WebAssembly text modules of core (`core/src/**/*.wat`) into binary modules beside
// their compiled TypeScript in dist/ (`npm run build:core` runs it after tsc, with the same
// assembler the TypeScript uses when it runs from source: record-wasm.ts's `assembleWat`).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { assembleWat } = await import(pathToFileURL(join(root, 'dist', 'core', 'src', 'replay', 'record-wasm.js')).href);

function* watFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* watFiles(p);
    else if (e.name.endsWith('.wat')) yield p;
  }
}

for (const src of watFiles(join(root, 'core', 'src'))) {
  const rel = relative(root, src);
  const out = join(root, 'dist', rel.replace(/\.wat$/, '.wasm'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, await assembleWat(readFileSync(src, 'utf8'), rel));
  console.log(`${rel} -> ${relative(root, out)}`);
}
