import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { saveTraceUpload, uploadName } from './replay-upload.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-upload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const now = new Date(Date.UTC(2026, 11, 2, 3, 4, 5));

describe('uploads', () => {
  it('keeps only safe characters of the name and refuses non-traces', () => {
    expect(uploadName('../../etc/night run.jsonl', now)).toBe('20261202T030405-night_run.jsonl');
    expect(uploadName('C:\\x\\a.jsonl.gz', now)).toBe('20261202T030405-a.jsonl.gz');
    expect(() => uploadName('passwd', now)).toThrow(/not a trace/);
  });

  it('streams the body to a file, and leaves nothing behind when over the limit', async () => {
    const body = '{"kind":"header"}\n'.repeat(1000);
    const saved = await saveTraceUpload(Readable.from([Buffer.from(body.slice(0, 5000)), Buffer.from(body.slice(5000))]), 'a.jsonl', dir, now);
    expect(readFileSync(saved.path, 'utf8')).toBe(body);
    await expect(saveTraceUpload(Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), 'big.jsonl', dir, now, 1000)).rejects.toThrow(/larger than 1000 bytes/);
    expect(readdirSync(dir).filter((f) => f.includes('big'))).toEqual([]);
    expect(existsSync(join(dir, '20261202T030405-big.jsonl.part'))).toBe(false);
  });
});
