import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..');
const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as {
  extraMetadata: { main: string };
  files: string[];
  asarUnpack: string[];
  asar?: unknown;
  electronFuses?: Record<string, boolean>;
};
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };

describe('electron-builder.yml', () => {
  it('packages the entry point package.json names', () => {
    expect(config.extraMetadata.main).toBe(pkg.main);
    expect(config.files).toContain('dist/electron/**');
  });

  it('unpacks every worker entry and native addon from the asar archive', () => {
    for (const worker of config.asarUnpack.filter((p) => p.endsWith('-worker.js'))) {
      const source = join(root, worker.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
      expect(existsSync(source), `${worker} has no source ${source}`).toBe(true);
    }
    expect(config.asarUnpack).toContain('dist/core/src/runtime/policy-worker.js');
    expect(config.asarUnpack).toContain('node_modules/onnxruntime-node/**');
    expect(config.asarUnpack).toContain('node_modules/better-sqlite3/**');
  });

  it('flips the Electron fuses: no run-as-node, NODE_OPTIONS or inspect; encrypted cookies; asar only, integrity-checked', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
    // Integrity needs the archive (and its hash): asar must not be turned off.
    expect(config.asar).not.toBe(false);
  });
});
