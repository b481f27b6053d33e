/**
 * Small text helpers for error messages that say where: line and column of an offset, JSON
 * parse errors with their position, and "did you mean" suggestions for misspelt keys.
 */

/** Line and column (1-based) of a character offset in a text. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastNl = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastNl = i;
    }
  }
  return { line, column: offset - lastNl };
}

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; line: number; column: number; message: string };

/** JSON.parse with the error's line and column (1-based), whichever way V8 words the position. */
export function parseJsonWithPosition(text: string): JsonParseResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const raw = e instanceof Error ? e.message : String(e);
    const message = raw.replace(/\s*\(line \d+ column \d+\)/, '');
    const lc = /line (\d+) column (\d+)/.exec(raw);
    if (lc) return { ok: false, line: Number(lc[1]), column: Number(lc[2]), message };
    const pos = /position (\d+)/.exec(raw);
    const { line, column } = lineColumn(text, pos ? Number(pos[1]) : text.length);
    return { ok: false, line, column, message };
  }
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to a misspelt word, when it is close enough to be a likely typo. A prefix
 * ("latency" for "latency_ms") counts as a one-letter typo.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const k = c.toLowerCase();
    const d = w.length >= 3 && (k.startsWith(w) || w.startsWith(k)) ? 1 : editDistance(w, k);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  return bestD <= Math.max(2, Math.floor(Math.max(word.length, best.length) / 3)) ? best : undefined;
}

/** A JSON object (not null, not an array): what a parsed manifest, suite or results line must be. */
export type JsonRecord = Record<string, unknown>;

export function isObject(v: unknown): v is JsonRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a parsed JSON value is, for "must be …, got …" messages (a long string is cut at 40). */
export function describeJsonValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return `a ${typeof v}`;
}
