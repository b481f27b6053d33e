import { describe, expect, it } from 'vitest';
import { CACHE_HIT, CACHE_MISS, CACHE_NONE, CACHE_OTHER, RecordScanner, detach, skipValue } from './record-scan.js';

/** What the scanner should find, computed with JSON.parse. */
function expected(text: string) {
  const r = JSON.parse(text) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const n = (v: unknown) => (typeof v === 'number' ? v : NaN);
  const status = r.cache?.status;
  return {
    kind: typeof r.kind === 'string' ? r.kind : null,
    seq: n(r.seq),
    timestamp: n(r.timestamp),
    slot: typeof r.routing?.slot === 'string' ? r.routing.slot : null,
    episodeId: typeof r.request?.episode_id === 'string' ? r.request.episode_id : null,
    latencyMs: n(r.latency?.total_ms),
    cache: status === 'hit' ? CACHE_HIT : status === 'miss' ? CACHE_MISS : status === undefined || status === null ? CACHE_NONE : CACHE_OTHER,
    error: r.error !== undefined && r.error !== null,
    divMaxAbs: n(r.divergence?.max_abs),
    divCosine: n(r.divergence?.cosine),
  };
}

function scanned(s: RecordScanner) {
  return { kind: s.kind, seq: s.seq, timestamp: s.timestamp, slot: s.slot, episodeId: s.episodeId, latencyMs: s.latencyMs, cache: s.cache, error: s.error, divMaxAbs: s.divMaxAbs, divCosine: s.divCosine };
}

const LINES = [
  '{"cache":{"status":"miss"},"chunk_id":0,"kind":"request","latency":{"stages":{"infer_ms":0.12},"total_ms":0.18},"request":{"episode_id":"ep-0","state":[0.0,0.3]},"response":{"action_dim":2,"actions":[[0.0,-0.35],[1e-07,2.5]],"num_actions":2},"routing":{"cached":true,"degraded":false,"routing_key":"ep-0","slot":"b"},"schema_version":1,"seq":1,"timestamp":1767323045.679}',
  // spaces, another key order, unknown fields with the same names nested elsewhere
  '{ "seq" : 42 , "kind" : "request", "meta": {"seq": 7, "slot": "x", "status": "hit", "total_ms": 99}, "routing": { "slot": "a" }, "latency": {"total_ms": 12.5}, "request": {"state": [1, 2], "episode_id": "e\\"q\\\\"}, "timestamp": 1.5e9, "cache": {"status": "hit"}, "error": {"code": "E", "message": "x"} }',
  // strings holding brackets, braces, quotes, backslashes
  '{"kind":"request","request":{"episode_id":"a]}{[b","instruction":"say \\"}]\\" \\\\","state":["[","{"]},"response":{"actions":[["}"]]},"seq":3}',
  // a shadow result
  '{"divergence":{"cosine":0.999,"max_abs":0.0025},"error":null,"kind":"shadow_result","latency":{"total_ms":0.2},"response":null,"routing":{"slot":"shadow"},"seq":9,"timestamp":3}',
  // cache status other / null, NaN and negative numbers, escaped key
  '{"kind":"request","cache":{"status":"warm"},"latency":{"total_ms":-0.5},"seq":-3,"timestamp":NaN,"error":null,"\\u006bind2":1}',
  '{"kind":"request","cache":{"status":null},"latency":{"total_ms":123456789012345678},"seq":18014398509481985,"timestamp":0.30000000000000004}',
  '{"kind":"footer","totals":{"requests":3},"nested":{"deep":[[[{"a":[1,{"b":"]"}]}]]]}}',
  '{}',
];

describe('RecordScanner', () => {
  it.each(LINES.map((l, i) => [i, l]))('line %i: same fields as JSON.parse', (_i, line) => {
    const s = new RecordScanner();
    const text = line as string;
    expect(s.scan(text)).toBe(true);
    const want = expected(text.replace(/NaN/g, 'null'));
    if (text.includes('NaN')) want.timestamp = NaN;
    expect(scanned(s)).toEqual(want);
  });

  it.each([
    ['', 'a trace line must be a JSON object'],
    ['[1,2]', 'a trace line must be a JSON object'],
    ['{"kind":"request"', "expected ',' or '}'"],
    ['{"kind":"request",}', 'expected a property name in double quotes'],
    ['{"kind" "request"}', "expected ':'"],
    ['{"kind":"request"} x', 'unexpected text after the JSON object'],
    ['{"a":[1,2}', 'malformed value'],
    ['{"a":"unterminated}', 'malformed value'],
    ['{"kind":"request","seq":1,"timest', 'unterminated string'],
  ])('rejects %j', (text, problem) => {
    const s = new RecordScanner();
    expect(s.scan(text)).toBe(false);
    expect(s.problem).toBe(problem);
  });

  it('random records with awkward strings, nesting and spacing: same fields as JSON.parse', () => {
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const pick = <T,>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const strs = ['a', ']', '}', '{', '[', '"', '\\', 'x"y', 'é', '\u2028', '', 'seq', '"slot":"a"'];
    const value = (depth: number): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.3) return pick([1, -2.5, 1e-7, 0, true, false, null, pick(strs)]);
      if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [pick(strs), value(depth + 1)]));
    };
    const sc = new RecordScanner();
    for (let i = 0; i < 500; i++) {
      const rec: Record<string, unknown> = {};
      const fields: [string, () => unknown][] = [
        ['kind', () => pick(['request', 'shadow_result', 'header', 'x'])],
        ['seq', () => Math.floor(rand() * 1e6)],
        ['timestamp', () => rand() * 2e9],
        ['routing', () => ({ junk: value(1), slot: pick(['a', 'b', 'prod', 'shadow', ']']) })],
        ['request', () => ({ state: [rand(), value(2)], episode_id: pick(strs) + i, extra: value(1) })],
        ['latency', () => ({ stages: value(1), total_ms: rand() * 10 })],
        ['cache', () => ({ status: pick(['hit', 'miss', null, 'other']) })],
        ['error', () => pick([null, { code: 'E' }])],
        ['divergence', () => pick([null, { cosine: rand(), max_abs: rand() }])],
        ['response', () => value(0)],
        ['unknown', () => value(0)],
      ];
      for (const [k, f] of fields.sort(() => rand() - 0.5)) if (rand() < 0.85) rec[k] = f();
      let text = JSON.stringify(rec, null, rand() < 0.3 ? 1 : undefined).replace(/\n/g, ' ');
      if (rand() < 0.2) text = ' ' + text + ' ';
      expect(sc.scan(text), text).toBe(true);
      expect(scanned(sc), text).toEqual(expected(text));
    }
  });

  it('skipValue finds the end of nested values', () => {
    const t = '{"a":[[1,2],[3,{"b":"}]"}]],"c":{"d":{"e":[]}}} tail';
    expect(t.slice(0, skipValue(t, 0))).toBe('{"a":[[1,2],[3,{"b":"}]"}]],"c":{"d":{"e":[]}}}');
    expect(skipValue('[1, 2 ,3] x', 0)).toBe(9);
    expect(skipValue('"a\\\\" x', 0)).toBe(5);
  });

  it('detach copies long slices', () => {
    const big = 'x'.repeat(100);
    const s = big.slice(10, 40);
    expect(detach(s)).toBe(s);
  });
});
