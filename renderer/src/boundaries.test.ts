// @vitest-environment node
import { describe, expect, it } from 'vitest';

/**
 * The renderer talks to core only through the contract (`@contract`), and runs in a browser or a
 * sandboxed Electron renderer, so application code may not import Node built-ins. Sources are read
 * through Vite's import.meta.glob, so this test itself needs no Node API.
 */
const sources = import.meta.glob<string>(['./**/*.ts', './**/*.tsx'], { query: '?raw', import: 'default', eager: true });

const NODE_BUILTINS = new Set([
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'console', 'constants', 'crypto', 'dgram',
  'diagnostics_channel', 'dns', 'domain', 'events', 'fs', 'http', 'http2', 'https', 'inspector', 'module', 'net',
  'os', 'path', 'perf_hooks', 'process', 'punycode', 'querystring', 'readline', 'repl', 'sqlite', 'stream',
  'string_decoder', 'sys', 'test', 'timers', 'tls', 'trace_events', 'tty', 'url', 'util', 'v8', 'vm', 'wasi',
  'worker_threads', 'zlib',
]);

/** Packages that only exist on the Node/Electron side. */
const FORBIDDEN_PACKAGES = ['electron', 'better-sqlite3', 'onnxruntime-node', 'fastify', '@fastify/websocket', 'ws', 'pino', 'prom-client', 'commander'];

const IMPORT_PATTERNS = [
  /\bimport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*['"]([^'"]+)['"]/g,
  /\bexport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

export function importsOf(source: string): string[] {
  const found = new Set<string>();
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of source.matchAll(pattern)) if (match[1] !== undefined) found.add(match[1]);
  }
  return [...found];
}

/** Resolves `spec` imported from `file` (both relative to renderer/src); null if not relative. */
function resolveRelative(file: string, spec: string): string | null {
  if (!spec.startsWith('./') && !spec.startsWith('../')) return null;
  const parts = file.split('/').slice(0, -1);
  for (const segment of spec.split('/')) {
    if (segment === '.' || segment === '') continue;
    if (segment === '..') {
      if (parts.length === 0 || parts[parts.length - 1] === '..') parts.push('..');
      else if (parts[parts.length - 1] === '.') parts[parts.length - 1] = '..';
      else parts.pop();
    } else parts.push(segment);
  }
  return parts.join('/');
}

const isTestFile = (file: string): boolean => /\.test\.tsx?$/.test(file);

export function violations(file: string, source: string): string[] {
  const out: string[] = [];
  for (const spec of importsOf(source)) {
    const bare = spec.replace(/^node:/, '').split('/')[0] ?? spec;
    if (spec === '@contract') continue;
    if (spec.startsWith('@contract/')) out.push(`${file}: imports ${spec}; import the contract as '@contract' only`);
    else if (/(^|\/)core(\/|$)/.test(spec) && !spec.startsWith('.')) out.push(`${file}: imports ${spec}; the renderer reaches core only through '@contract'`);
    else if (spec.startsWith('node:') || NODE_BUILTINS.has(bare)) {
      if (!isTestFile(file)) out.push(`${file}: imports the Node built-in ${spec}; the renderer runs in a browser`);
    } else if (FORBIDDEN_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`))) {
      out.push(`${file}: imports ${spec}, which only exists on the Node side`);
    } else {
      const resolved = resolveRelative(file, spec);
      if (resolved !== null && resolved.startsWith('..')) {
        out.push(
          /(^|\/)core\//.test(resolved)
            ? `${file}: imports ${spec}; the renderer reaches core only through '@contract'`
            : `${file}: imports ${spec}, outside renderer/src`,
        );
      }
    }
  }
  return out;
}

describe('renderer boundaries', () => {
  const files = Object.keys(sources).map((key) => key.replace(/^\.\//, ''));

  it('sees the whole renderer source tree', () => {
    expect(files).toContain('main.tsx');
    expect(files).toContain('api/http-transport.ts');
    expect(files.length).toBeGreaterThan(15);
  });

  it('imports core only through @contract, and no Node built-ins or Node-only packages', () => {
    const problems = Object.entries(sources).flatMap(([key, source]) => violations(key.replace(/^\.\//, ''), source));
    expect(problems).toEqual([]);
  });

  it('the checker catches what it is meant to catch', () => {
    // Built from parts so that repository-wide greps for core imports do not match this data.
    const core = ['core', 'src'].join('/');
    const bad = [
      `import { methods } from '../../${core}/contract/map.js';`,
      `import { createEngine } from '../../../${core}/engine';`,
      `export * from '../../${core}/domain/routing';`,
      "import fs from 'node:fs';",
      "import { join } from 'path';",
      "const m = await import('child_process');",
      "import { ipcRenderer } from 'electron';",
      "import x from '@contract/schemas';",
      "import '../../e2e/pages/workbench-page';",
      `import type { Engine } from 'switchyard/${core}/engine';`,
    ];
    for (const line of bad) expect(violations('api/x.ts', line), line).toHaveLength(1);
    const good = [
      "import { methods, type Result } from '@contract';",
      "import { useStore } from 'zustand';",
      "import { HttpTransport } from './http-transport';",
      "import { App } from '../app';",
      "import './styles.css';",
    ];
    for (const line of good) expect(violations('api/x.ts', line), line).toEqual([]);
    expect(violations('api/x.test.ts', "import fs from 'node:fs';")).toEqual([]);
    expect(violations('api/x.test.ts', "import { m } from '../../core/src/contract/map';")).toHaveLength(1);
  });
});
