import { spawnSync } from 'node:child_process';
import { parse as losslessParse } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import {
  canonicalize,
  canonicalizeJs,
  canonicalNumberToken,
  compareCodePoints,
  JsonSyntaxError,
  NumberToken,
  parseLossless,
  pyFloatRepr,
  pyQuote,
  toPlain,
} from './canonical-json.js';
import { notePythonSkips, python3 } from '../../test-support/python.js';

const canon = (text: string) => canonicalize(parseLossless(text));
notePythonSkips('the python3 cross-check of canonical JSON');

/** Python's canonical form of each JSON text (only called when python3 is here). */
function pythonCanonical(texts: string[]): string[] {
  const script = [
    'import json, sys',
    'for line in sys.stdin.read().split("\\n"):',
    '    if line:',
    '        print(json.dumps(json.loads(line), sort_keys=True, separators=(",", ":")))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script], { input: texts.join('\n') + '\n', encoding: 'utf8', env: { ...process.env, PYTHONIOENCODING: 'utf-8' } });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`python3 rejected the input: ${r.stderr}`);
  return r.stdout.split('\n').slice(0, texts.length);
}

// Expected values are what CPython 3 prints for json.dumps(json.loads(token), sort_keys=True, separators=(",", ":")).
const NUMBER_VECTORS: [string, string][] = [
  ['1e-7', '1e-07'],
  ['1e-07', '1e-07'],
  ['1e16', '1e+16'],
  ['2.0', '2.0'],
  ['2e0', '2.0'],
  ['2.000', '2.0'],
  ['-0.0', '-0.0'],
  ['-0', '0'],
  ['0.1', '0.1'],
  ['1.7976931348623157e308', '1.7976931348623157e+308'],
  ['5e-324', '5e-324'],
  ['12345678901234567890', '12345678901234567890'],
  ['-12345678901234567890123', '-12345678901234567890123'],
  ['1234567890123456.0', '1234567890123456.0'],
  ['1e15', '1000000000000000.0'],
  ['9.999999999999999e15', '1e+16'],
  ['123456789012345678.0', '1.2345678901234568e+17'],
  ['0.0001', '0.0001'],
  ['1e-4', '0.0001'],
  ['0.00001', '1e-05'],
  ['0.0000123', '1.23e-05'],
  ['1.5e300', '1.5e+300'],
  ['1E2', '100.0'],
  ['1e21', '1e+21'],
  ['-1.5e-10', '-1.5e-10'],
  ['0.30000000000000004', '0.30000000000000004'],
  ['100', '100'],
  ['1e400', 'Infinity'],
  ['-1e400', '-Infinity'],
  ['1e-400', '0.0'],
  ['NaN', 'NaN'],
  ['Infinity', 'Infinity'],
  ['-Infinity', '-Infinity'],
];

const STRING_VECTORS: [string, string][] = [
  ['"é"', '"\\u00e9"'],
  ['"机器人"', '"\\u673a\\u5668\\u4eba"'],
  ['"🤖"', '"\\ud83e\\udd16"'],
  ['"\\ud83e\\udd16"', '"\\ud83e\\udd16"'],
  ['"a/b\\/c"', '"a/b/c"'],
  ['"tab\\there\\nnl\\r\\b\\f"', '"tab\\there\\nnl\\r\\b\\f"'],
  ['"\\u0001\\u001f\\u007f"', '"\\u0001\\u001f\\u007f"'],
  ['"q\\"b\\\\"', '"q\\"b\\\\"'],
  ['"\\u00E9"', '"\\u00e9"'],
  ['"\\ud800 lone"', '"\\ud800 lone"'],
];

const TRICKY_DOCS = [
  '{"b":1,"B":2,"a":3,"é":4,"🤖":5,"\uffff":6,"":7}',
  '{"z":[{"y":"机器人","x":"a/b\\t\\n\\u007f\\u0001\\"\\\\"}],"a":[[1,2.0,[3e5,{"k":-0.0}]],[],{}]}',
  '{ "kind" : "request" , "state" : [ 1.0 , 0.5, -2.5e-8 ] , "seq" : 12 }',
  '{"a":1,"a":2}',
  '{"x":[true,false,null,"",0,-0,0.0]}',
  '{"\\ud83e\\udd16":1,"\\uffff":2,"\\ud83e":3}',
];

describe('pyFloatRepr', () => {
  it('prints Python repr for doubles', () => {
    expect(pyFloatRepr(1e-7)).toBe('1e-07');
    expect(pyFloatRepr(1e16)).toBe('1e+16');
    expect(pyFloatRepr(1)).toBe('1.0');
    expect(pyFloatRepr(-0)).toBe('-0.0');
    expect(pyFloatRepr(0)).toBe('0.0');
    expect(pyFloatRepr(0.1)).toBe('0.1');
    expect(pyFloatRepr(Number.MAX_VALUE)).toBe('1.7976931348623157e+308');
    expect(pyFloatRepr(5e-324)).toBe('5e-324');
    expect(pyFloatRepr(1234567890123456)).toBe('1234567890123456.0');
    expect(pyFloatRepr(1e-5)).toBe('1e-05');
    expect(pyFloatRepr(-2.5e-8)).toBe('-2.5e-08');
    expect(pyFloatRepr(1.5e300)).toBe('1.5e+300');
    expect(pyFloatRepr(1.2345e19)).toBe('1.2345e+19');
    expect(pyFloatRepr(-1.2345e-6)).toBe('-1.2345e-06');
    expect(pyFloatRepr(NaN)).toBe('NaN');
    expect(pyFloatRepr(-Infinity)).toBe('-Infinity');
  });
});

describe('canonical JSON', () => {
  it.each(NUMBER_VECTORS)('number token %s -> %s', (token, expected) => {
    expect(canonicalNumberToken(token)).toBe(expected);
    expect(canon(`[${token}]`)).toBe(`[${expected}]`);
  });

  it.each(STRING_VECTORS)('string %s -> %s', (text, expected) => {
    expect(canon(text)).toBe(expected);
  });

  it('sorts keys by code point, not UTF-16 unit, and escapes non-ASCII', () => {
    expect(canon(TRICKY_DOCS[0]!)).toBe('{"":7,"B":2,"a":3,"b":1,"\\u00e9":4,"\\uffff":6,"\\ud83e\\udd16":5}');
    // JS's default sort would put the astral key first.
    expect(['🤖', '\uffff'].sort()).toEqual(['🤖', '\uffff']);
    expect(['🤖', '\uffff'].sort(compareCodePoints)).toEqual(['\uffff', '🤖']);
    // A lone high surrogate sorts below the astral character that starts with it.
    expect(compareCodePoints('\ud83e', '🤖')).toBeLessThan(0);
    expect(compareCodePoints('\ud83ex', '🤖')).toBeLessThan(0);
  });

  it('keeps nested structure and whitespace-free separators', () => {
    expect(canon(TRICKY_DOCS[1]!)).toBe(
      '{"a":[[1,2.0,[300000.0,{"k":-0.0}]],[],{}],"z":[{"x":"a/b\\t\\n\\u007f\\u0001\\"\\\\","y":"\\u673a\\u5668\\u4eba"}]}',
    );
    expect(canon(TRICKY_DOCS[2]!)).toBe('{"kind":"request","seq":12,"state":[1.0,0.5,-2.5e-08]}');
    expect(canon(TRICKY_DOCS[3]!)).toBe('{"a":2}');
  });

  it('accepts lossless-json LosslessNumbers', () => {
    expect(canonicalize(losslessParse('{"b":1.0,"a":1e-7}'))).toBe('{"a":1e-07,"b":1.0}');
  });

  it('serializes JS values with the float-field rule', () => {
    const rec = { seq: 3, state: [1, 0.5, 2], latency: { total_ms: 2, stages: { infer_ms: 1 } }, num_actions: 4, timestamp: 1767225600, split: 50, x: 0.25, big: 12n };
    expect(canonicalizeJs(rec)).toBe(
      '{"big":12,"latency":{"stages":{"infer_ms":1.0},"total_ms":2.0},"num_actions":4,"seq":3,"split":50,"state":[1.0,0.5,2.0],"timestamp":1767225600.0,"x":0.25}',
    );
    // Whatever the rule chose, reading the text back gives the same text.
    const text = canonicalizeJs(rec);
    expect(canon(text)).toBe(text);
    expect(canonicalizeJs({ a: undefined, b: [undefined], c: new Float32Array([0.5, 1]), d: new Date(0) })).toBe('{"b":[null],"c":[0.5,1],"d":"1970-01-01T00:00:00.000Z"}');
    expect(canonicalizeJs({ actions: new Float32Array([0.5, 1]) })).toBe('{"actions":[0.5,1.0]}');
  });

  it('parses strictly and names the column of an error', () => {
    for (const bad of ['{"a":01}', '{"a":1.}', '{"a":.5}', '{"a":+1}', "{'a':1}", '{"a":1,}', '[1 2]', '{"a":"\u0001"}', '{"a":nan}', '{"a":1}x', '{"a":"\\x"}', '{"a":"abc']) {
      expect(() => parseLossless(bad), bad).toThrow(JsonSyntaxError);
    }
    try {
      parseLossless('{"a": tru}');
    } catch (e) {
      expect((e as JsonSyntaxError).position).toBe(6);
      expect((e as Error).message).toMatch(/column 7/);
    }
  });

  it('does not let "__proto__" reach the prototype', () => {
    const v = parseLossless('{"__proto__":{"polluted":1},"b":2}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(canonicalize(v)).toBe('{"__proto__":{"polluted":1},"b":2}');
    expect((toPlain(v as never) as Record<string, unknown>).b).toBe(2);
  });

  it('keeps number tokens', () => {
    const v = parseLossless('{"a":1.0,"b":12345678901234567890}') as Record<string, NumberToken>;
    expect(v.a).toBeInstanceOf(NumberToken);
    expect(v.a!.value).toBe('1.0');
    expect(v.b!.value).toBe('12345678901234567890');
    expect(toPlain(v as never)).toEqual({ a: 1, b: 12345678901234567890 });
    expect(pyQuote('plain')).toBe('"plain"');
  });

  it.skipIf(!python3.available)('matches python3 on the vectors, tricky documents and 3000 random doubles', () => {
    // Deterministic random doubles from random bit patterns (all exponents), plus their JS text.
    let seed = 0x9e3779b9;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const buf = new DataView(new ArrayBuffer(8));
    const doubles: string[] = [];
    while (doubles.length < 3000) {
      buf.setUint32(0, next());
      buf.setUint32(4, next());
      const x = buf.getFloat64(0);
      if (!Number.isFinite(x)) continue;
      doubles.push(String(x));
    }
    // Also small "sensor-like" values and whole numbers written as floats.
    for (let i = 0; i < 500; i++) {
      const t = (((next() % 2_000_001) - 1_000_000) / 10 ** (next() % 12)).toString();
      doubles.push(i % 3 === 0 && !t.includes('e') ? t + 'e0' : t);
    }
    const texts = [
      ...NUMBER_VECTORS.map(([t]) => `[${t}]`),
      ...STRING_VECTORS.map(([t]) => t),
      ...TRICKY_DOCS,
      ...Array.from({ length: Math.ceil(doubles.length / 50) }, (_, i) => `[${doubles.slice(i * 50, i * 50 + 50).join(',')}]`),
    ];
    const py = pythonCanonical(texts);
    const ours = texts.map(canon);
    const mismatches = texts.map((t, i) => ({ t, py: py[i], ours: ours[i] })).filter((m) => m.py !== m.ours);
    expect(mismatches.slice(0, 5)).toEqual([]);
    // The JS-built serializer agrees with Python reading its text back.
    const jsDocs = [{ state: doubles.slice(0, 200).map(Number), seq: 7, name: 'é🤖' }];
    const jsText = jsDocs.map((d) => canonicalizeJs(d));
    expect(pythonCanonical(jsText)).toEqual(jsText);
  });
});
