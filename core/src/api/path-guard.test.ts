import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { methods, type MethodName } from '../contract/index.js';
import { checkPathFields, PATH_FIELDS, PathRoots, withoutFileContent } from './path-guard.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-roots-'));
const root = join(dir, 'root');
const out = join(dir, 'out');
mkdirSync(root);
mkdirSync(out);
writeFileSync(join(out, 'secret.jsonl'), 'secret\n');
writeFileSync(join(root, 'ok.jsonl'), '{}\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PathRoots', () => {
  it('accepts files under a root (existing or not) and refuses the rest, .. included', () => {
    const roots = new PathRoots([root]);
    expect(roots.check(join(root, 'ok.jsonl'), 'suite')).toMatch(/ok\.jsonl$/);
    expect(roots.check(join(root, 'sub', 'new.jsonl'), 'suite')).toMatch(/new\.jsonl$/);
    for (const p of [join(out, 'secret.jsonl'), join(root, '..', 'out', 'secret.jsonl'), '/etc/shadow', root + '-sibling/x']) {
      expect(() => roots.check(p, 'suite'), p).toThrow(expect.objectContaining({ code: 'SWY_ERR_PATH_NOT_ALLOWED', where: 'suite' }));
    }
  });

  it('follows symlinks before deciding: a link (file or folder) inside pointing outside is refused', () => {
    symlinkSync(join(out, 'secret.jsonl'), join(root, 'link.jsonl'));
    symlinkSync(out, join(root, 'dirlink'));
    const roots = new PathRoots([root]);
    expect(() => roots.check(join(root, 'link.jsonl'), 'suite')).toThrow(/outside/);
    expect(() => roots.check(join(root, 'dirlink', 'secret.jsonl'), 'suite')).toThrow(/outside/);
    expect(() => roots.check(join(root, 'dirlink', 'not-yet.jsonl'), 'suite')).toThrow(/outside/);
  });

  it('a root added later (the record directory) is accepted from then on', () => {
    const roots = new PathRoots([root]);
    expect(() => roots.check(join(out, 'secret.jsonl'), 'suite')).toThrow();
    roots.add(out);
    expect(roots.check(join(out, 'secret.jsonl'), 'suite')).toMatch(/secret\.jsonl$/);
  });

  it('a bare suite name is a stored record, never a file in the working folder', () => {
    const roots = new PathRoots([root]);
    expect(checkPathFields(roots, 'eval.start', { suite: 'cartpole-frozen-v1' }, () => true)).toEqual([]);
    expect(() => checkPathFields(roots, 'eval.start', { suite: 'shadow' }, () => false)).toThrow(expect.objectContaining({ code: 'SWY_ERR_NOT_FOUND' }));
  });
});

describe('PATH_FIELDS', () => {
  it('lists every contract input field that looks like a path', () => {
    const missing: string[] = [];
    for (const [name, spec] of Object.entries(methods) as [MethodName, { input: { shape?: Record<string, unknown> } }][]) {
      for (const field of Object.keys(spec.input.shape ?? {})) {
        if (!/path|dir|file|folder|suite|trace/i.test(field)) continue;
        if (['compare.get', 'eval.runs'].includes(name) && field === 'suite') continue; // a stored suite only: never opened as a file
        if (name.startsWith('replay.') && field === 'traceId') continue; // the id of a trace replay.open opened, never a path
        if (!(PATH_FIELDS[name] ?? []).some((f) => f.field === field)) missing.push(`${name}.${field}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('withoutFileContent', () => {
  it('keeps the file and positions, drops the words', () => {
    const shaped = withoutFileContent({ code: 'SWY_ERR_INVALID_INPUT', message: 'not valid JSON (Unexpected token \'r\', "root:x:0:0"...)', where: '/d/leak.jsonl:1:1' }, ['/d/leak.jsonl']);
    expect(shaped.message).toContain('/d/leak.jsonl:1:1');
    expect(shaped.message).not.toContain('root');
    const other = { code: 'SWY_ERR_NOT_FOUND' as const, message: 'No version x', where: 'version' };
    expect(withoutFileContent(other, ['/d/leak.jsonl'])).toBe(other);
  });
});
