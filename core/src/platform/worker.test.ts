import { describe, expect, it } from 'vitest';
import { workerScriptUrl } from './worker.js';

describe('workerScriptUrl', () => {
  it('starts a packaged worker from app.asar.unpacked, where plain file reads reach it', () => {
    const caller = 'file:///opt/Switchyard/resources/app.asar/dist/core/src/runtime/policy-runner.js';
    const entry = new URL('./policy-worker', caller).href;
    expect(workerScriptUrl(entry, caller).href).toBe('file:///opt/Switchyard/resources/app.asar.unpacked/dist/core/src/runtime/policy-worker.js');
  });

  it('handles Windows paths and names that only look like an archive', () => {
    const caller = 'file:///C:/Program%20Files/Switchyard/resources/app.asar/dist/core/src/replay/summary-pool.js';
    expect(workerScriptUrl(new URL('./summary-worker', caller).href, caller).href).toBe(
      'file:///C:/Program%20Files/Switchyard/resources/app.asar.unpacked/dist/core/src/replay/summary-worker.js',
    );
    const notAnArchive = 'file:///home/me/my-app.asar.d/dist/core/src/runtime/policy-runner.js';
    expect(workerScriptUrl(new URL('./policy-worker', notAnArchive).href, notAnArchive).href).toBe('file:///home/me/my-app.asar.d/dist/core/src/runtime/policy-worker.js');
  });

  it('leaves checkout runs alone: .js from dist/, .ts from source', () => {
    const js = 'file:///work/switchyard/dist/core/src/runtime/policy-runner.js';
    expect(workerScriptUrl(new URL('./policy-worker', js).href, js).href).toBe('file:///work/switchyard/dist/core/src/runtime/policy-worker.js');
    const ts = 'file:///work/switchyard/core/src/runtime/policy-runner.ts';
    expect(workerScriptUrl(new URL('./policy-worker', ts).href, ts).href).toBe('file:///work/switchyard/core/src/runtime/policy-worker.ts');
  });
});
