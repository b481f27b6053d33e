/**
 * Frozen evaluation suites (spec §4.4): the file format, its validation and its fingerprint.
 *
 * JSON form:
 *   { "name": "cartpole-frozen-v1", "environment": "cartpole", "description": "...",
 *     "params": { "max_steps": 500 },
 *     "cases": [ { "id": "cp-001", "slices": ["nominal"], "seed": 17,
 *                  "params": { "noise_std": 0.02 }, "initial_state": [0, 0, 0.03, 0] }, ... ] }
 * JSONL form: line 1 is the header object (`name`, `environment`, optional `description` and
 * `params`), then one case object per line. Blank lines are ignored.
 *
 * A case's effective parameters are the environment defaults, overridden by the suite's
 * `params`, overridden by the case's `params`.
 *
 * The fingerprint is SHA-256 over the canonical content (keys sorted, no whitespace, cases in
 * file order) and the environment's version: reformatting a file or switching between JSON and
 * JSONL keeps it, any edit to the content or to the environment's dynamics changes it.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import { checkParam, resolveParams, type EnvParams, type EnvironmentFactory } from './environment.js';
import { ENVIRONMENTS, findEnvironment } from './environments.js';
import { parseJsonWithPosition, describeJsonValue as describe, isObject, type JsonRecord } from '../domain/text.js';
import { closest, IssueListError, MAX_ISSUES, type Issue } from './issues.js';

export interface SuiteCase {
  id: string;
  slices: string[];
  /** uint32 seed of the case's PRNG (sensor noise, ...). */
  seed: number;
  /** Overrides of the suite's parameters for this case (may be empty). */
  params: Record<string, number>;
  initial_state: number[];
}

/** What a suite file says: the part the fingerprint covers. */
export interface SuiteContent {
  name: string;
  environment: string;
  description?: string;
  params: Record<string, number>;
  cases: SuiteCase[];
}

export interface Suite extends SuiteContent {
  /** The environment's version at load time (part of the fingerprint). */
  envVersion: string;
  /** 64 hex characters. */
  fingerprint: string;
  /** The file it was loaded from, or null for an in-memory suite. */
  path: string | null;
  format: 'json' | 'jsonl';
  /** Every slice name used, sorted. */
  sliceNames: string[];
  /** Number of cases in each slice. */
  sliceCounts: Record<string, number>;
}

export type SuiteIssue = Issue;

/** A suite file that cannot be used; `issues` lists every problem found (up to 100). */
export class SuiteError extends IssueListError {
  constructor(file: string, issues: Issue[]) {
    super(`The suite ${file} is invalid`, issues, 'Fix the file and load it again.');
    this.name = 'SuiteError';
  }
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SLICE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const HEADER_KEYS = ['name', 'environment', 'description', 'params', 'cases'];
const CASE_KEYS = ['id', 'slices', 'seed', 'params', 'initial_state'];

type Obj = JsonRecord;

/** JSON with object keys sorted (code-unit order) at every level, no whitespace. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function contentOf(s: SuiteContent): SuiteContent {
  const c: SuiteContent = { name: s.name, environment: s.environment, params: s.params, cases: s.cases.map((k) => ({ id: k.id, slices: k.slices, seed: k.seed, params: k.params, initial_state: k.initial_state })) };
  if (s.description !== undefined) c.description = s.description;
  return c;
}

/** SHA-256 (hex) of the canonical content and the environment version. */
export function suiteFingerprint(content: SuiteContent, envVersion: string): string {
  return createHash('sha256').update(`switchyard-suite\n${envVersion}\n`, 'utf8').update(canonicalJson(contentOf(content)), 'utf8').digest('hex');
}

/** The effective parameters of one case (defaults < suite params < case params). */
export function caseParams(suite: SuiteContent, c: SuiteCase): EnvParams {
  const env = findEnvironment(suite.environment);
  if (!env) throw new SwitchyardError(ErrorCodes.SWY_ERR_CONFIG, `Unknown environment "${suite.environment}".`, 'environment');
  return resolveParams(env.paramSpec, suite.params, c.params);
}

// ---- parsing ----

interface Located {
  value: unknown;
  /** Where a field of this object is: `field` -> location string. */
  at(field?: string): string;
}

class Checker {
  readonly issues: SuiteIssue[] = [];
  add(where: string, message: string): void {
    if (this.issues.length < MAX_ISSUES) this.issues.push({ where, message });
  }
  get full(): boolean {
    return this.issues.length >= MAX_ISSUES;
  }
}

function checkUnknownKeys(ck: Checker, obj: Obj, allowed: string[], at: (f?: string) => string, what: string): void {
  for (const k of Object.keys(obj)) {
    if (allowed.includes(k)) continue;
    const guess = closest(k, allowed);
    ck.add(at(k), `unknown field "${k}" in ${what}${guess ? ` (did you mean "${guess}"?)` : ''}; allowed: ${allowed.join(', ')}`);
  }
}

function checkParamsObject(ck: Checker, v: unknown, at: (f?: string) => string, env: EnvironmentFactory | undefined): Record<string, number> {
  if (v === undefined) return {};
  if (!isObject(v)) {
    ck.add(at('params'), `params must be an object of numbers like {"noise_std": 0.02}, got ${describe(v)}`);
    return {};
  }
  const out: Record<string, number> = {};
  for (const [k, val] of Object.entries(v)) {
    if (env) {
      const problem = checkParam(env.paramSpec, k, val);
      if (problem) {
        ck.add(at(`params.${k}`), problem);
        continue;
      }
    } else if (typeof val !== 'number' || !Number.isFinite(val)) {
      ck.add(at(`params.${k}`), `parameter "${k}" must be a finite number, got ${describe(val)}`);
      continue;
    }
    out[k] = val as number;
  }
  return out;
}

interface Header {
  name: string;
  environment: string;
  description?: string;
  params: Record<string, number>;
  env: EnvironmentFactory | undefined;
}

function checkHeader(ck: Checker, h: Located, format: 'json' | 'jsonl'): Header | null {
  const v = h.value;
  if (!isObject(v)) {
    ck.add(h.at(), format === 'jsonl' ? `the first line must be the suite header object {"name", "environment", "params"}, got ${describe(v)}` : `a suite must be a JSON object with name, environment, params and cases, got ${describe(v)}`);
    return null;
  }
  checkUnknownKeys(ck, v, format === 'jsonl' ? HEADER_KEYS.filter((k) => k !== 'cases') : HEADER_KEYS, h.at, 'the suite header');
  if (format === 'jsonl' && 'cases' in v) ck.add(h.at('cases'), 'a JSONL suite lists its cases one per line after the header, not in a "cases" field');
  let name = '';
  if (v['name'] === undefined) ck.add(h.at('name'), 'name is missing; add the suite name, e.g. "cartpole-frozen-v1"');
  else if (typeof v['name'] !== 'string' || !NAME_RE.test(v['name'])) ck.add(h.at('name'), `name must be a string of letters, digits, ".", "_" or "-", got ${describe(v['name'])}`);
  else name = v['name'];
  let environment = '';
  let env: EnvironmentFactory | undefined;
  const known = Object.keys(ENVIRONMENTS).join(', ');
  if (v['environment'] === undefined) ck.add(h.at('environment'), `environment is missing; name one of: ${known}`);
  else if (typeof v['environment'] !== 'string') ck.add(h.at('environment'), `environment must be a string (one of: ${known}), got ${describe(v['environment'])}`);
  else {
    environment = v['environment'];
    env = findEnvironment(environment);
    if (!env) ck.add(h.at('environment'), `unknown environment "${environment}"; this Switchyard bundles: ${known}`);
  }
  let description: string | undefined;
  if (v['description'] !== undefined) {
    if (typeof v['description'] !== 'string') ck.add(h.at('description'), `description must be a string, got ${describe(v['description'])}`);
    else description = v['description'];
  }
  const params = checkParamsObject(ck, v['params'], h.at, env);
  const out: Header = { name, environment, params, env };
  if (description !== undefined) out.description = description;
  return out;
}

function checkCase(ck: Checker, c: Located, header: Header | null): SuiteCase | null {
  const v = c.value;
  if (!isObject(v)) {
    ck.add(c.at(), `a case must be an object {"id", "slices", "seed", "params", "initial_state"}, got ${describe(v)}`);
    return null;
  }
  const before = ck.issues.length;
  checkUnknownKeys(ck, v, CASE_KEYS, c.at, 'a case');
  const id = v['id'];
  if (id === undefined) ck.add(c.at('id'), 'id is missing; give every case a unique string id');
  else if (typeof id !== 'string' || id.trim() === '' || id !== id.trim() || id.length > 200) ck.add(c.at('id'), `id must be a non-empty string without surrounding spaces (at most 200 characters), got ${describe(id)}`);

  const slices: string[] = [];
  const sl = v['slices'];
  if (sl === undefined) ck.add(c.at('slices'), 'slices is missing; list the slices this case belongs to, e.g. ["nominal"] (or [] for none)');
  else if (!Array.isArray(sl)) ck.add(c.at('slices'), `slices must be an array of slice names, got ${describe(sl)}`);
  else {
    sl.forEach((s, i) => {
      if (typeof s !== 'string' || !SLICE_RE.test(s)) ck.add(c.at(`slices[${i}]`), `a slice name must be a string of letters, digits, ".", "_" or "-", got ${describe(s)}`);
      else if (slices.includes(s)) ck.add(c.at(`slices[${i}]`), `slice "${s}" is listed twice`);
      else slices.push(s);
    });
  }

  const seed = v['seed'];
  if (seed === undefined) ck.add(c.at('seed'), 'seed is missing; give an integer in [0, 4294967295]');
  else if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) ck.add(c.at('seed'), `seed must be an integer in [0, 4294967295], got ${describe(seed)}`);

  const env = header?.env;
  const params = checkParamsObject(ck, v['params'], c.at, env);

  const st = v['initial_state'];
  let state: number[] = [];
  if (st === undefined) ck.add(c.at('initial_state'), `initial_state is missing; give ${env ? env.stateDim : 'the'} numbers of the starting state`);
  else if (!Array.isArray(st)) ck.add(c.at('initial_state'), `initial_state must be an array of numbers, got ${describe(st)}`);
  else {
    const bad = st.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
    if (bad >= 0) ck.add(c.at(`initial_state[${bad}]`), `initial_state values must be finite numbers, got ${describe(st[bad])}`);
    else if (env && st.length !== env.stateDim) ck.add(c.at('initial_state'), `initial_state must have ${env.stateDim} values for ${env.name}, got ${st.length}`);
    else {
      state = st as number[];
      if (env && header) {
        const problem = env.create().checkInitialState(state, resolveParams(env.paramSpec, header.params, params));
        if (problem) ck.add(c.at('initial_state'), problem);
      }
    }
  }
  if (ck.issues.length > before) return null;
  return { id: id as string, slices, seed: seed as number, params, initial_state: state };
}

function finish(ck: Checker, file: string, header: Header | null, cases: { c: SuiteCase | null; loc: Located; label: string }[], path: string | null, format: 'json' | 'jsonl', noCasesWhere: string): Suite {
  const seen = new Map<string, string>();
  for (const { c, loc, label } of cases) {
    if (!c) continue;
    const prev = seen.get(c.id);
    if (prev !== undefined) ck.add(loc.at('id'), `duplicate case id "${c.id}": ${label} repeats the id of ${prev}; case ids must be unique`);
    else seen.set(c.id, label);
  }
  if (cases.length === 0) ck.add(noCasesWhere, 'the suite has no cases; add at least one');
  if (ck.issues.length > 0 || !header || !header.env) throw new SuiteError(file, ck.issues.length ? ck.issues : [{ where: file, message: 'the suite header is invalid' }]);
  const content: SuiteContent = { name: header.name, environment: header.environment, params: header.params, cases: cases.map((x) => x.c!) };
  if (header.description !== undefined) content.description = header.description;
  return suiteFromValidContent(content, header.env, path, format);
}

function suiteFromValidContent(content: SuiteContent, env: EnvironmentFactory, path: string | null, format: 'json' | 'jsonl'): Suite {
  const sliceCounts: Record<string, number> = {};
  for (const c of content.cases) for (const s of c.slices) sliceCounts[s] = (sliceCounts[s] ?? 0) + 1;
  const sliceNames = Object.keys(sliceCounts).sort();
  const sorted: Record<string, number> = {};
  for (const s of sliceNames) sorted[s] = sliceCounts[s]!;
  return { ...content, envVersion: env.version, fingerprint: suiteFingerprint(content, env.version), path, format, sliceNames, sliceCounts: sorted };
}

function detectFormat(file: string, text: string): 'json' | 'jsonl' {
  if (/\.jsonl$/i.test(file)) return 'jsonl';
  if (/\.json$/i.test(file)) return 'json';
  const firstLine = text.split('\n').find((l) => l.trim() !== '') ?? '';
  const head = parseJsonWithPosition(firstLine);
  return head.ok && isObject(head.value) && !('cases' in head.value) ? 'jsonl' : 'json';
}

/**
 * Parse and validate a suite from text. `file` names it in messages (a path or a label); the
 * format follows the extension (`.jsonl` / `.json`) unless given. Throws `SuiteError` listing
 * every problem found.
 */
export function parseSuite(text: string, opts: { file: string; path?: string | null; format?: 'json' | 'jsonl' }): Suite {
  const file = opts.file;
  const path = opts.path ?? null;
  const format = opts.format ?? detectFormat(file, text);
  const ck = new Checker();
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  if (format === 'json') {
    const parsed = parseJsonWithPosition(text);
    if (!parsed.ok) throw new SuiteError(file, [{ where: `${file}:${parsed.line}:${parsed.column}`, message: `not valid JSON (${parsed.message})` }]);
    const root: Located = { value: parsed.value, at: (f) => (f ? `${file}: ${f}` : file) };
    const header = checkHeader(ck, root, 'json');
    const rawCases = isObject(parsed.value) ? parsed.value['cases'] : undefined;
    const cases: { c: SuiteCase | null; loc: Located; label: string }[] = [];
    if (isObject(parsed.value)) {
      if (rawCases === undefined) ck.add(`${file}: cases`, 'cases is missing; add an array of cases');
      else if (!Array.isArray(rawCases)) ck.add(`${file}: cases`, `cases must be an array, got ${describe(rawCases)}`);
      else {
        rawCases.forEach((value, i) => {
          const loc: Located = { value, at: (f) => `${file}: cases[${i}]${f ? (f.startsWith('[') ? f : `.${f}`) : ''}` };
          cases.push({ c: ck.full ? null : checkCase(ck, loc, header), loc, label: `cases[${i}]` });
        });
        return finish(ck, file, header, cases, path, 'json', `${file}: cases`);
      }
    }
    if (ck.issues.length === 0) ck.add(file, 'the suite is empty');
    throw new SuiteError(file, ck.issues);
  }

  // JSONL
  const lines = text.split('\n');
  let header: Header | null = null;
  let headerSeen = false;
  const cases: { c: SuiteCase | null; loc: Located; label: string }[] = [];
  for (let i = 0; i < lines.length && !ck.full; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const lineNo = i + 1;
    const parsed = parseJsonWithPosition(raw);
    const at = (f?: string) => (f ? `${file}:${lineNo}: ${f}` : `${file}:${lineNo}`);
    if (!parsed.ok) {
      ck.add(`${file}:${lineNo}:${parsed.column}`, `line ${lineNo} is not valid JSON (${parsed.message})`);
      if (!headerSeen) headerSeen = true;
      else cases.push({ c: null, loc: { value: null, at }, label: `line ${lineNo}` });
      continue;
    }
    const loc: Located = { value: parsed.value, at };
    if (!headerSeen) {
      headerSeen = true;
      header = checkHeader(ck, loc, 'jsonl');
      continue;
    }
    cases.push({ c: checkCase(ck, loc, header), loc, label: `line ${lineNo}` });
  }
  if (!headerSeen) throw new SuiteError(file, [{ where: `${file}:1`, message: 'the file is empty; a JSONL suite starts with a header line {"name", "environment", "params"}' }]);
  return finish(ck, file, header, cases, path, 'jsonl', `${file}:${lines.length}`);
}

/** Validate an in-memory suite (as written by code) and compute its fingerprint. */
export function suiteFromContent(content: SuiteContent, opts: { path?: string | null; format?: 'json' | 'jsonl' } = {}): Suite {
  const path = opts.path ?? null;
  const suite = parseSuite(suiteToJson(content), { file: path ?? `<suite ${content.name}>`, path, format: 'json' });
  return { ...suite, format: opts.format ?? 'json' };
}

/** Read and validate a suite file. */
export async function loadSuite(path: string): Promise<Suite> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SwitchyardError(ErrorCodes.SWY_ERR_NOT_FOUND, `No suite file at ${path}. Check the --suite path.`, path);
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, `Cannot read the suite ${path}: ${(e as Error).message}.`, path);
  }
  return parseSuite(text, { file: path, path });
}

function headerObject(s: SuiteContent): Obj {
  const h: Obj = { name: s.name, environment: s.environment };
  if (s.description !== undefined) h['description'] = s.description;
  h['params'] = s.params;
  return h;
}

function caseObject(c: SuiteCase): Obj {
  return { id: c.id, slices: c.slices, seed: c.seed, params: c.params, initial_state: c.initial_state };
}

/** The JSONL form: the header line, then one case per line; ends with a newline. */
export function suiteToJsonl(s: SuiteContent): string {
  return [headerObject(s), ...s.cases.map(caseObject)].map((o) => JSON.stringify(o)).join('\n') + '\n';
}

/** The JSON form, one case per line for readable diffs; ends with a newline. */
export function suiteToJson(s: SuiteContent): string {
  const h = headerObject(s);
  const head = Object.entries(h).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const cases = s.cases.map((c) => `    ${JSON.stringify(caseObject(c))}`);
  return `{\n${head.join(',\n')},\n  "cases": [\n${cases.join(',\n')}\n  ]\n}\n`;
}

/** Write a suite in the format its extension names (`.jsonl`, else JSON). */
export async function writeSuiteFile(path: string, s: SuiteContent): Promise<void> {
  await writeFile(path, /\.jsonl$/i.test(path) ? suiteToJsonl(s) : suiteToJson(s));
}
