import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { CORE_SRC, EXCEPTIONS, LAYERS, ROOT_FILES, layerOf, violation } from '../layers.js';

/**
 * The layer order of core/layers.js, checked on the source itself (ESLint checks the same imports
 * file by file; this adds what a per-file rule cannot see: cycles across files and folders).
 */

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const isTest = (f: string) => /\.test(-d)?\.ts$/.test(f);
const production = walk(CORE_SRC).filter((f) => !isTest(f));
const rel = (f: string) => relative(CORE_SRC, f).split(sep).join('/');

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** Relative imports of a file, resolved to the `.ts` files they name (`.js` in the source). */
function importsOf(file: string): Edge[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const out: Edge[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (!spec.startsWith('.')) return;
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    out.push({ from: file, to: existsSync(target) ? target : resolve(dirname(file), spec), typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.importClause?.isTypeOnly === true);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteral(arg)) add(arg.text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const edges = production.flatMap(importsOf);

/** Strongly connected components with more than one node (or a self loop): the cycles. */
function cycles(nodes: string[], next: (n: string) => string[]): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const strong = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of next(v)) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || next(v).includes(v)) found.push(scc.sort());
    }
  };
  for (const n of nodes) if (!idx.has(n)) strong(n);
  return found;
}

const excepted = (e: Edge) => EXCEPTIONS.some((x) => x.file === rel(e.from) && (x.imports === layerOf(e.to) || x.imports === rel(e.to)));

describe('layers of core/src (core/layers.js)', () => {
  it('gives every folder and top-level file of core/src a place in the order', () => {
    const unplaced = readdirSync(CORE_SRC)
      .filter((n) => (statSync(join(CORE_SRC, n)).isDirectory() ? !(n in LAYERS) : n.endsWith('.ts') && !isTest(n) && !(n in ROOT_FILES)))
      .map((n) => `core/src/${n}`);
    expect(unplaced, 'add each to core/layers.js at the layer it belongs to').toEqual([]);
  });

  it('is an order: the table of allowed imports has no cycle', () => {
    expect(cycles(Object.keys(LAYERS), (l) => LAYERS[l] ?? [])).toEqual([]);
  });

  it('every import in production code follows the order', () => {
    const bad = edges.flatMap((e) => {
      const why = violation(e.from, e.to);
      return why ? [`${rel(e.from)} imports ${rel(e.to)}: ${why}`] : [];
    });
    expect(bad).toEqual([]);
  });

  it('the folders, as they import each other, form no cycle (the exceptions aside)', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      const from = layerOf(e.from)!;
      const to = layerOf(e.to);
      if (to === undefined || to === from || excepted(e)) continue;
      graph.set(from, (graph.get(from) ?? new Set()).add(to));
    }
    expect(cycles([...graph.keys()], (l) => [...(graph.get(l) ?? [])])).toEqual([]);
  });

  it('no file imports itself back through other files', () => {
    const next = new Map<string, string[]>();
    for (const e of edges) if (!excepted(e)) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    expect(cycles(production, (f) => next.get(f) ?? []).map((c) => c.map(rel))).toEqual([]);
  });

  it('lists no exception whose import is gone (delete it when the branch that removes it lands)', () => {
    const stale = EXCEPTIONS.filter((x) => !edges.some((e) => rel(e.from) === x.file && (layerOf(e.to) === x.imports || rel(e.to) === x.imports)));
    expect(stale).toEqual([]);
  });

  it('the lint step (eslint.config.js) refuses an upward import and a test helper, and lets a test import anything', async () => {
    const eslint = new ESLint({ cwd: join(CORE_SRC, '..', '..') });
    const lint = async (file: string, code: string) =>
      (await eslint.lintText(code, { filePath: join(CORE_SRC, file) }))[0]!.messages.filter((m) => m.ruleId === 'layers/allowed-imports').map((m) => m.message);
    const upward = await lint('domain/new-rule.ts', "import { Registry } from '../store/registry.js';\nexport const r: unknown = Registry;\n");
    expect(upward).toEqual([expect.stringContaining('`domain` may not import `store`')]);
    const helper = await lint('store/new-table.ts', "export { writeGoodExport } from '../../test-support/fault-fixtures.js';\n");
    expect(helper).toEqual([expect.stringContaining('never imports core/test-support')]);
    expect(await lint('domain/new-rule.test.ts', "import { Registry } from '../store/registry.js';\nexport const r: unknown = Registry;\n")).toEqual([]);
  });

  it('keeps test-only code out of core/src (core/test-support holds it, outside dist)', () => {
    const all = walk(CORE_SRC).map(rel);
    expect(all.filter((f) => f.startsWith('testing/') || /-fixtures\.ts$/.test(f))).toEqual([]);
  });
});
