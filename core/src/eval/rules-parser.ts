/**
 * Promotion rules (spec §4.5): a YAML file of go/no-go rules for one stage transition.
 *
 * `parseRules` is strict: a YAML syntax error, an unknown key anywhere, a value of the wrong
 * type or out of range, or a rule that does not apply to the transition is rejected with a
 * SwitchyardError(SWY_ERR_INVALID_INPUT) whose `where` is `<file>:<line>:<column>` of the
 * offending key or value, and whose message says what to change. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { closest } from '../domain/text.js';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode, Pair, YAMLMap } from 'yaml';
import { ErrorCodes, SwitchyardError } from '../contract/errors.js';
import {
  DEFAULT_CONFIDENCE,
  DEFAULT_MIN_CASES,
  TRANSITIONS,
  type EfficiencyRules,
  type PromotionRules,
  type RateRules,
  type Transition,
} from '../domain/rules.js';

// The types are the domain's; re-exported so that a reader of rules files needs one import.
export type { EfficiencyRules, PromotionRules, RateRules, Transition };

const TOP_KEYS = ['transition', 'suite', 'baseline', 'confidence', 'min_cases', 'aggregate', 'slices', 'efficiency', 'determinism', 'shadow'] as const;
const RATE_KEYS = ['min_pass_rate', 'max_fail_rate', 'no_regression', 'min_improvement', 'pass_rate_range', 'non_inferior'] as const;
const EFFICIENCY_KEYS = ['p99_latency_ms', 'latency_vs_baseline'] as const;

/** Where each parsed slice was written, for errors raised after parsing. */
const sliceLocations = new WeakMap<PromotionRules, Map<string, string>>();

/** sha256 hex of the rules file's bytes (a string is hashed as UTF-8). */
export { closest };

export function rulesHash(text: string | Uint8Array): string {
  const h = createHash('sha256');
  if (typeof text === 'string') h.update(text, 'utf8');
  else h.update(text);
  return h.digest('hex');
}

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return `the text ${JSON.stringify(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return 'a mapping';
}

class RulesParser {
  readonly lc = new LineCounter();
  doc!: Document.Parsed;

  constructor(
    readonly text: string,
    readonly file: string,
  ) {}

  where(offset: number): string {
    const { line, col } = this.lc.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return line === 0 ? `${this.file}:1:${offset + 1}` : `${this.file}:${line}:${col}`;
  }

  at(node: YamlNode | null | undefined, fallback = 0): string {
    return this.where(node?.range?.[0] ?? fallback);
  }

  fail(message: string, where: string): never {
    throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, message, where);
  }

  resolve(node: unknown): YamlNode | null {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return (node.resolve(this.doc) as YamlNode | undefined) ?? null;
    return node as YamlNode;
  }

  parse(): PromotionRules {
    this.doc = parseDocument(this.text, { lineCounter: this.lc, prettyErrors: false, uniqueKeys: true });
    const err = this.doc.errors[0];
    if (err) {
      const msg = err.message.split('\n')[0]!.replace(/\.$/, '');
      const hint = err.code === 'DUPLICATE_KEY' ? 'Each key may appear once in a mapping; remove or merge the repeated key.' : 'Fix the YAML syntax here.';
      this.fail(`The rules file is not valid YAML: ${msg}. ${hint}`, this.where(err.pos[0]));
    }
    const root = this.resolve(this.doc.contents);
    if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
      this.fail('The rules file is empty. Start with `transition: candidate->staging`, `suite: <suite name>` and at least one rule.', this.where(0));
    }
    const top = this.map(root, 'the rules file');
    const pairs = this.pairs(top, TOP_KEYS, '');

    const transition = this.requireKey(top, pairs, 'transition', '', 'Add `transition: candidate->staging` or `transition: staging->production`.');
    const suite = this.requireKey(top, pairs, 'suite', '', 'Add `suite: <suite name>` naming the frozen suite these rules gate.');
    const result: PromotionRules = {
      transition: this.transition(transition),
      suite: this.nonEmptyText(suite, 'suite', 'the name of the suite these rules gate, e.g. `suite: cartpole-frozen-v1`'),
      baseline: 'production',
      confidence: DEFAULT_CONFIDENCE,
      min_cases: DEFAULT_MIN_CASES,
      slices: {},
    };
    const baseline = pairs.get('baseline');
    if (baseline) result.baseline = this.baseline(baseline);
    const confidence = pairs.get('confidence');
    if (confidence) result.confidence = this.number(confidence, 'confidence', 0.5, 0.9999, { hint: 'e.g. `confidence: 0.95`', fraction: true });
    const minCases = pairs.get('min_cases');
    if (minCases) result.min_cases = this.integer(minCases, 'min_cases', 1, Number.MAX_SAFE_INTEGER, 'e.g. `min_cases: 30`');

    const aggregate = pairs.get('aggregate');
    if (aggregate) result.aggregate = this.rateRules(aggregate, 'aggregate');

    const slicesPair = pairs.get('slices');
    const locations = new Map<string, string>();
    if (slicesPair) {
      const slicesMap = this.map(this.resolve(slicesPair.value), '`slices`', slicesPair);
      const entries: [string, RateRules][] = [];
      for (const item of slicesMap.items) {
        const keyNode = this.resolve(item.key);
        if (!isScalar(keyNode) || keyNode.value === null || keyNode.value === '' || typeof keyNode.value === 'object') {
          this.fail('A slice name must be plain text, e.g. `safety:`.', this.at(keyNode, slicesMap.range?.[0]));
        }
        const name = String(keyNode.value);
        const path = `slices.${name}`;
        const valueNode = this.resolve(item.value);
        if (!isMap(valueNode) && (RATE_KEYS as readonly string[]).includes(name)) {
          this.fail(
            `\`${name}\` is a rule, not a slice name: write rules under a slice, e.g. \`slices: { safety: { ${name}: ... } }\`, or put it under \`aggregate:\` for the whole suite.`,
            this.at(keyNode),
          );
        }
        entries.push([name, this.rateRules(item as Pair<unknown, unknown>, path)]);
        locations.set(name, this.at(keyNode));
      }
      result.slices = Object.fromEntries(entries);
    }

    const eff = pairs.get('efficiency');
    if (eff) result.efficiency = this.efficiency(eff);

    const det = pairs.get('determinism');
    if (det) {
      const m = this.map(this.resolve(det.value), '`determinism`', det);
      const p = this.pairs(m, ['reruns'], 'determinism');
      const reruns = this.requireKey(m, p, 'reruns', 'determinism', 'Add `reruns: 1` (how many times the suite is re-run to check the results are identical).');
      result.determinism = { reruns: this.integer(reruns, 'determinism.reruns', 1, 100, 'e.g. `reruns: 1`') };
    }

    const shadow = pairs.get('shadow');
    if (shadow) {
      if (result.transition !== 'staging->production') {
        this.fail(
          '`shadow` rules apply only to `transition: staging->production` (a candidate has no shadow traffic yet). Remove the `shadow` block or change the transition.',
          this.at(this.resolve(shadow.key)),
        );
      }
      const m = this.map(this.resolve(shadow.value), '`shadow`', shadow);
      const p = this.pairs(m, ['min_requests', 'max_divergence'], 'shadow');
      const mr = this.requireKey(m, p, 'min_requests', 'shadow', 'Add `min_requests: 5000` (shadow requests needed before the verdict).');
      const md = this.requireKey(m, p, 'max_divergence', 'shadow', 'Add `max_divergence: <number>` (the largest action divergence allowed).');
      result.shadow = {
        min_requests: this.integer(mr, 'shadow.min_requests', 1, Number.MAX_SAFE_INTEGER, 'e.g. `min_requests: 5000`'),
        max_divergence: this.number(md, 'shadow.max_divergence', 0, Infinity, { hint: 'e.g. `max_divergence: 0.05`' }),
      };
    }

    const hasRule =
      (result.aggregate !== undefined && Object.keys(result.aggregate).length > 0) ||
      Object.keys(result.slices).length > 0 ||
      (result.efficiency !== undefined && Object.keys(result.efficiency).length > 0) ||
      result.determinism !== undefined ||
      result.shadow !== undefined;
    if (!hasRule) {
      this.fail(
        'The rules file sets no rule, so nothing would gate the promotion. Add at least one of `aggregate`, `slices`, `efficiency`, `determinism` or `shadow`.',
        this.at(top),
      );
    }
    sliceLocations.set(result, locations);
    return result;
  }

  map(node: YamlNode | null, label: string, pair?: Pair<unknown, unknown>): YAMLMap<unknown, unknown> {
    if (isMap(node)) return node as YAMLMap<unknown, unknown>;
    const at = node ?? this.resolve(pair?.key);
    const got = isScalar(node) ? describeValue(node.value) : isSeq(node) ? 'a list' : 'nothing';
    this.fail(`${label} must be a mapping of keys (e.g. \`key: value\` lines or \`{ key: value }\`), got ${got}.`, this.at(at));
  }

  /** The map's pairs by key; an unknown key fails with the closest known key. */
  pairs(m: YAMLMap<unknown, unknown>, allowed: readonly string[], path: string): Map<string, Pair<unknown, unknown>> {
    const out = new Map<string, Pair<unknown, unknown>>();
    for (const item of m.items) {
      const keyNode = this.resolve(item.key);
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      if (!isScalar(keyNode) || !allowed.includes(key)) {
        const inside = path === '' ? 'at the top level' : `in \`${path}\``;
        let msg = `Unknown key \`${key}\` ${inside}.`;
        const near = closest(key, allowed);
        if (near !== undefined) msg += ` Did you mean \`${near}\`?`;
        else if (path === '' && (RATE_KEYS as readonly string[]).includes(key)) msg += ` \`${key}\` is a rate rule: put it under \`aggregate:\` or under a slice in \`slices:\`.`;
        else if (path === '' && (EFFICIENCY_KEYS as readonly string[]).includes(key)) msg += ` Put \`${key}\` under \`efficiency:\`.`;
        else if (path !== '' && (TOP_KEYS as readonly string[]).includes(key)) msg += ` \`${key}\` is a top-level key: move it to the start of a line with no indentation.`;
        msg += ` Allowed here: ${allowed.join(', ')}.`;
        this.fail(msg, this.at(keyNode, m.range?.[0]));
      }
      out.set(key, item as Pair<unknown, unknown>);
    }
    return out;
  }

  requireKey(m: YAMLMap<unknown, unknown>, pairs: Map<string, Pair<unknown, unknown>>, key: string, path: string, hint: string): Pair<unknown, unknown> {
    const p = pairs.get(key);
    if (p) return p;
    const inside = path === '' ? 'The rules file' : `\`${path}\``;
    this.fail(`${inside} is missing \`${key}\`. ${hint}`, this.at(m));
  }

  valueNode(pair: Pair<unknown, unknown>): YamlNode | null {
    return this.resolve(pair.value);
  }

  valueAt(pair: Pair<unknown, unknown>): string {
    const v = this.valueNode(pair);
    if (v && v.range) return this.at(v);
    return this.at(this.resolve(pair.key));
  }

  scalarValue(pair: Pair<unknown, unknown>): unknown {
    const v = this.valueNode(pair);
    if (v === null) return null;
    if (isScalar(v)) return v.value;
    if (isSeq(v)) return [];
    return {};
  }

  nonEmptyText(pair: Pair<unknown, unknown>, path: string, what: string): string {
    const v = this.scalarValue(pair);
    if (typeof v !== 'string' || v.trim() === '') this.fail(`\`${path}\` must be ${what}, got ${describeValue(v)}.`, this.valueAt(pair));
    return v.trim();
  }

  transition(pair: Pair<unknown, unknown>): Transition {
    const v = this.scalarValue(pair);
    if (typeof v === 'string' && (TRANSITIONS as readonly string[]).includes(v)) return v as Transition;
    let msg = `\`transition\` must be \`candidate->staging\` or \`staging->production\`, got ${describeValue(v)}.`;
    if (typeof v === 'string') {
      const near = closest(v.replace(/\s+/g, ''), TRANSITIONS);
      if (near !== undefined) msg += ` Did you mean \`${near}\`?`;
    }
    this.fail(msg, this.valueAt(pair));
  }

  baseline(pair: Pair<unknown, unknown>): string {
    const v = this.scalarValue(pair);
    if (typeof v === 'string') {
      const s = v.trim();
      if (s === 'production' || /^[^@\s]+@[^@\s]+$/.test(s)) return s;
    }
    this.fail(
      `\`baseline\` must be \`production\` (the current production version) or an explicit version \`policy@label\` such as \`cartpole-balance@1.2.0\`, got ${describeValue(v)}.`,
      this.valueAt(pair),
    );
  }

  number(pair: Pair<unknown, unknown>, path: string, min: number, max: number, opts: { hint: string; fraction?: boolean; minExclusive?: boolean; maxExclusive?: boolean }): number {
    const v = this.scalarValue(pair);
    const lowOk = (x: number) => (opts.minExclusive ? x > min : x >= min);
    const highOk = (x: number) => (opts.maxExclusive ? x < max : x <= max);
    if (typeof v === 'number' && Number.isFinite(v) && lowOk(v) && highOk(v)) return v;
    const range =
      max === Infinity
        ? opts.minExclusive
          ? `a number greater than ${min}`
          : `a number of at least ${min}`
        : `a number from ${min} to ${max}${opts.maxExclusive ? ' (exclusive)' : ''}`;
    let msg = `\`${path}\` must be ${range}, got ${describeValue(v)}; ${opts.hint}.`;
    if (opts.fraction && typeof v === 'number' && v >= 5 && v <= 100) msg += ` Write rates as fractions: ${v / 100}, not ${v}.`;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) msg += ' Remove the quotes so it reads as a number.';
    this.fail(msg, this.valueAt(pair));
  }

  integer(pair: Pair<unknown, unknown>, path: string, min: number, max: number, hint: string): number {
    const v = this.scalarValue(pair);
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    const range = max >= Number.MAX_SAFE_INTEGER ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`;
    this.fail(`\`${path}\` must be ${range}, got ${describeValue(v)}; ${hint}.`, this.valueAt(pair));
  }

  boolean(pair: Pair<unknown, unknown>, path: string): boolean {
    const v = this.scalarValue(pair);
    if (typeof v === 'boolean') return v;
    this.fail(`\`${path}\` must be \`true\` or \`false\`, got ${describeValue(v)}.`, this.valueAt(pair));
  }

  rateRules(pair: Pair<unknown, unknown>, path: string): RateRules {
    const m = this.map(this.valueNode(pair), `\`${path}\``, pair);
    const p = this.pairs(m, RATE_KEYS, path);
    if (p.size === 0) {
      this.fail(`\`${path}\` sets no rule. Add one of: ${RATE_KEYS.join(', ')}; or remove it.`, this.at(this.resolve(pair.key)));
    }
    const out: RateRules = {};
    for (const [key, kv] of p) {
      const kp = `${path}.${key}`;
      switch (key) {
        case 'min_pass_rate':
          out.min_pass_rate = this.number(kv, kp, 0, 1, { hint: 'e.g. `min_pass_rate: 0.95`', fraction: true });
          break;
        case 'max_fail_rate':
          out.max_fail_rate = this.number(kv, kp, 0, 1, { hint: 'e.g. `max_fail_rate: 0.0` (no failure allowed)', fraction: true });
          break;
        case 'no_regression':
          out.no_regression = this.boolean(kv, kp);
          break;
        case 'min_improvement':
          out.min_improvement = this.number(kv, kp, 0, 1, { hint: 'e.g. `min_improvement: 0.05` (for a tolerated drop use `non_inferior: { margin: ... }`)', fraction: true, maxExclusive: true });
          break;
        case 'pass_rate_range':
          out.pass_rate_range = this.range(kv, kp);
          break;
        case 'non_inferior': {
          const nm = this.map(this.valueNode(kv), `\`${kp}\``, kv);
          const np = this.pairs(nm, ['margin'], kp);
          const margin = this.requireKey(nm, np, 'margin', kp, 'Add `margin: 0.02` (the largest pass-rate drop tolerated).');
          out.non_inferior = { margin: this.number(margin, `${kp}.margin`, 0, 1, { hint: 'e.g. `margin: 0.02`', fraction: true, maxExclusive: true }) };
          break;
        }
      }
    }
    return out;
  }

  range(pair: Pair<unknown, unknown>, path: string): [number, number] {
    const node = this.valueNode(pair);
    const hint = 'write `[low, high]` with two rates from 0 to 1, e.g. `[0.90, 1.0]`';
    if (!isSeq(node) || node.items.length !== 2) {
      const got = isSeq(node) ? `a list of ${node.items.length}` : describeValue(this.scalarValue(pair));
      this.fail(`\`${path}\` must be a list of two numbers; ${hint}. Got ${got}.`, this.valueAt(pair));
    }
    const vals: number[] = [];
    for (const raw of node.items) {
      const item = this.resolve(raw);
      const v = isScalar(item) ? item.value : undefined;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
        let msg = `\`${path}\` values must be numbers from 0 to 1, got ${describeValue(isScalar(item) ? item.value : isSeq(item) ? [] : {})}; ${hint}.`;
        if (typeof v === 'number' && v >= 5 && v <= 100) msg += ` Write rates as fractions: ${v / 100}, not ${v}.`;
        this.fail(msg, this.at(item, node.range?.[0]));
      }
      vals.push(v);
    }
    const [lo, hi] = vals as [number, number];
    if (lo > hi) this.fail(`\`${path}\` lower bound ${lo} is above its upper bound ${hi}; ${hint}. Swap them: [${hi}, ${lo}].`, this.at(node));
    return [lo, hi];
  }

  efficiency(pair: Pair<unknown, unknown>): EfficiencyRules {
    const m = this.map(this.valueNode(pair), '`efficiency`', pair);
    const p = this.pairs(m, EFFICIENCY_KEYS, 'efficiency');
    const out: EfficiencyRules = {};
    const p99 = p.get('p99_latency_ms');
    if (p99) {
      const mm = this.map(this.valueNode(p99), '`efficiency.p99_latency_ms`', p99);
      const pp = this.pairs(mm, ['max'], 'efficiency.p99_latency_ms');
      const max = this.requireKey(mm, pp, 'max', 'efficiency.p99_latency_ms', 'Add `max: 5.0` (milliseconds).');
      out.p99_latency_ms = { max: this.number(max, 'efficiency.p99_latency_ms.max', 0, Infinity, { hint: 'milliseconds, e.g. `max: 5.0`', minExclusive: true }) };
    }
    const ratio = p.get('latency_vs_baseline');
    if (ratio) {
      const mm = this.map(this.valueNode(ratio), '`efficiency.latency_vs_baseline`', ratio);
      const pp = this.pairs(mm, ['max_ratio'], 'efficiency.latency_vs_baseline');
      const mr = this.requireKey(mm, pp, 'max_ratio', 'efficiency.latency_vs_baseline', 'Add `max_ratio: 1.10` (candidate p99 / baseline p99).');
      out.latency_vs_baseline = {
        max_ratio: this.number(mr, 'efficiency.latency_vs_baseline.max_ratio', 0, Infinity, { hint: 'e.g. `max_ratio: 1.10` (at most 10% slower)', minExclusive: true }),
      };
    }
    if (Object.keys(out).length === 0) {
      this.fail('`efficiency` sets no rule. Add `p99_latency_ms: { max: ... }` or `latency_vs_baseline: { max_ratio: ... }`, or remove it.', this.at(this.resolve(pair.key)));
    }
    return out;
  }
}

/**
 * Parse and validate a promotion rules file. `file` names it in error positions.
 * Throws SwitchyardError(SWY_ERR_INVALID_INPUT, message, '<file>:<line>:<column>').
 */
export function parseRules(text: string, file = 'rules.yaml'): PromotionRules {
  return new RulesParser(text, file).parse();
}

/**
 * Every ruled slice must exist in the suite. Throws SwitchyardError(SWY_ERR_INVALID_INPUT)
 * naming the missing slice(s), positioned at the slice in the rules file when `rules` came
 * from `parseRules` (else `where` is `slices.<name>`).
 */
export function validateRulesAgainstSuite(rules: PromotionRules, sliceNames: Iterable<string>): void {
  const known = [...new Set(sliceNames)];
  const missing = Object.keys(rules.slices).filter((s) => !known.includes(s));
  if (missing.length === 0) return;
  const first = missing[0]!;
  const names = missing.map((s) => `\`${s}\``).join(', ');
  let msg =
    missing.length === 1
      ? `The rules name slice ${names}, which suite \`${rules.suite}\` does not have.`
      : `The rules name slices ${names}, which suite \`${rules.suite}\` does not have.`;
  const near = closest(first, known);
  if (near !== undefined) msg += ` Did you mean \`${near}\`?`;
  msg += known.length > 0 ? ` The suite's slices: ${known.join(', ')}.` : ' The suite defines no slices.';
  msg += ' Fix the slice name in the rules file, or evaluate on the suite that defines it.';
  const where = sliceLocations.get(rules)?.get(first) ?? `slices.${first}`;
  throw new SwitchyardError(ErrorCodes.SWY_ERR_INVALID_INPUT, msg, where);
}
