/// <reference types="vitest/config" />
import { defineConfig, normalizePath, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// This file runs in Node; `import.meta.dirname` (Node >= 20.11) keeps it free of Node imports,
// which the renderer's lint rule forbids.
const here = (relative: string): string => normalizePath(`${import.meta.dirname}/${relative}`);

/**
 * Content-Security-Policy for the built workbench only (the dev server's React refresh preamble
 * is an inline script). `connect-src` allows the page's own server over HTTP and WebSocket;
 * inside Electron the workbench talks over IPC and needs no network at all.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function contentSecurityPolicy(): Plugin {
  return {
    name: 'switchyard-csp',
    apply: 'build',
    transformIndexHtml(html) {
      return html.replace(
        '<meta charset="UTF-8" />',
        `<meta charset="UTF-8" />\n    <meta http-equiv="Content-Security-Policy" content="${CSP}" />`,
      );
    },
  };
}

export default defineConfig({
  root: here('.'),
  // Relative asset URLs: the same build loads from file:// in Electron and from http:// in a browser.
  base: './',
  plugins: [react(), contentSecurityPolicy()],
  resolve: {
    alias: {
      // The renderer's only doors into core: the contract, and the pure modules it shares with core.
      '@contract': here('../core/src/contract/index.ts'),
      '@shared': here('../core/src/shared/index.ts'),
    },
  },
  build: {
    outDir: here('../dist/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    host: '127.0.0.1',
  },
  test: {
    name: 'renderer',
    root: here('.'),
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
  },
});
