import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function files(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p, exts));
    else if (exts.some((e) => p.endsWith(e))) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

describe('layer boundaries (spec §2)', () => {
  it('core imports no Electron, React or DOM module', () => {
    const bad: string[] = [];
    for (const f of files(join(root, 'core', 'src'), ['.ts'])) {
      for (const spec of imports(f)) {
        if (/^(electron|react|react-dom|zustand|recharts)(\/|$)/.test(spec) || /(^|\/)(electron|renderer)\//.test(spec)) {
          bad.push(`${relative(root, f)} imports ${spec}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('core is type-checked without the DOM library', () => {
    const tsconfig = readFileSync(join(root, 'tsconfig.json'), 'utf8');
    expect(tsconfig).toMatch(/"lib":\s*\[\s*"ES2023"\s*\]/);
    expect(tsconfig).not.toMatch(/"DOM"/i);
  });

  it('the renderer reaches core only through the contract and the shared pure modules', () => {
    const bad: string[] = [];
    // Test files are skipped: renderer/src/boundaries.test.ts holds forbidden imports as data.
    for (const f of files(join(root, 'renderer', 'src'), ['.ts', '.tsx']).filter((f) => !/\.test\.tsx?$/.test(f))) {
      for (const spec of imports(f)) {
        if (/core\//.test(spec) && !/core\/src\/(contract|shared)(\/|$)/.test(spec)) bad.push(`${relative(root, f)} imports ${spec}`);
        if (spec === 'electron' || spec.startsWith('node:')) bad.push(`${relative(root, f)} imports ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('core/src/shared imports nothing but itself and the contract (the renderer runs it too)', () => {
    const shared = files(join(root, 'core', 'src', 'shared'), ['.ts']).filter((f) => !f.endsWith('.test.ts'));
    expect(shared.length).toBeGreaterThan(0);
    for (const f of shared) {
      for (const spec of imports(f)) {
        expect(spec.startsWith('./') || /^\.\.\/contract\//.test(spec), `${relative(root, f)} imports ${spec}`).toBe(true);
      }
    }
  });

  it('the renderer aliases @shared to core/src/shared and nothing else of core', () => {
    const vite = readFileSync(join(root, 'renderer', 'vite.config.ts'), 'utf8');
    const aliases = [...vite.matchAll(/'(@[a-z]+)':\s*here\('([^']+)'\)/g)].map((m) => `${m[1]} -> ${m[2]}`);
    expect(aliases).toEqual(['@contract -> ../core/src/contract/index.ts', '@shared -> ../core/src/shared/index.ts']);
  });

  it('the contract imports nothing but zod and itself', () => {
    for (const f of files(join(root, 'core', 'src', 'contract'), ['.ts'])) {
      if (f.endsWith('.test.ts') || f.endsWith('.test-d.ts')) continue;
      for (const spec of imports(f)) expect(spec === 'zod' || spec.startsWith('./'), `${relative(root, f)} imports ${spec}`).toBe(true);
    }
  });
});
