/**
 * The rules files the engine knows (`rules.list`): every `.yaml`/`.yml` file in the rules folders
 * (the demo workspace's, `<dataDir>/rules/`, and a configured one), each with its transition,
 * suite, baseline and hash, or the reason it cannot be used.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { ErrorCodes, SwitchyardError, toErrorShape, type SwitchyardErrorShape } from '../contract/errors.js';
import { parseRules, rulesHash, type Transition } from './rules-parser.js';

export interface RulesFileInfo {
  path: string;
  name: string;
  transition: Transition | null;
  suite: string | null;
  baseline: string | null;
  /** sha256 of the file's bytes (what verdicts record). */
  hash: string;
  /** Why the file cannot be used (with line and column), or null. */
  error: SwitchyardErrorShape | null;
}

export const RULES_EXTENSIONS = ['.yaml', '.yml'];

/** Describe one rules file. */
export async function describeRulesFile(path: string): Promise<RulesFileInfo> {
  const bytes = await readFile(path);
  const hash = rulesHash(bytes);
  const base = { path, name: basename(path), hash };
  try {
    const r = parseRules(bytes.toString('utf8'), path);
    return { ...base, transition: r.transition, suite: r.suite, baseline: r.baseline, error: null };
  } catch (e) {
    return { ...base, transition: null, suite: null, baseline: null, error: toErrorShape(e) };
  }
}

/** Every rules file in `dirs` (missing folders are skipped), sorted by folder then name; a file is listed once. */
export async function listRulesFiles(dirs: readonly string[]): Promise<RulesFileInfo[]> {
  const seen = new Set<string>();
  const out: RulesFileInfo[] = [];
  for (const d of dirs) {
    const dir = resolve(d);
    if (!existsSync(dir)) continue;
    const names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && RULES_EXTENSIONS.includes(extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort();
    for (const n of names) {
      const p = join(dir, n);
      if (seen.has(p)) continue;
      seen.add(p);
      out.push(await describeRulesFile(p));
    }
  }
  return out;
}

/** Read a rules file for the gate: its text, or a clear error. */
export async function readRulesFile(path: string): Promise<string> {
  if (!RULES_EXTENSIONS.includes(extname(path).toLowerCase())) {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `${path} is not a rules file: promotion rules are YAML files ending in .yaml or .yml.`, path);
  }
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No rules file at ${path}. \`rules.list\` shows the rules files Switchyard knows.`, path);
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `Cannot read the rules file ${path}: ${(e as Error).message}.`, path);
  }
}
