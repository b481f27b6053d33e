import { describe, it, expect } from 'vitest';
import ort from 'onnxruntime-node';
import { attr, decodeModel, floatTensor, int64Tensor, node, serializeModel, type ModelSpec } from './onnx-writer.js';

const affine: ModelSpec = {
  graphName: 'affine',
  inputs: [{ name: 'obs', shape: ['N', 3] }],
  outputs: [{ name: 'y', shape: ['N', 2] }],
  nodes: [node('MatMul', ['obs', 'W'], ['xw']), node('Add', ['xw', 'b'], ['y'])],
  initializers: [floatTensor('W', [3, 2], [1, 0, 0, 1, 1, 1]), floatTensor('b', [2], [0.5, -0.5])],
};

describe('onnx-writer', () => {
  it('writes a model ONNX Runtime loads and runs with a dynamic batch', async () => {
    const s = await ort.InferenceSession.create(serializeModel(affine), { executionProviders: ['cpu'] });
    expect(s.inputNames).toEqual(['obs']);
    expect(s.outputNames).toEqual(['y']);
    const meta = s.inputMetadata[0]!;
    expect(meta.isTensor && meta.shape).toEqual(['N', 3]);
    const out = await s.run({ obs: new ort.Tensor('float32', new Float32Array([1, 2, 3, 0, 0, 0]), [2, 3]) });
    const y = out['y']!;
    expect(y.dims).toEqual([2, 2]);
    // row 0: [1 + 3, 2 + 3] + b ; row 1: b
    expect(Array.from(y.data as Float32Array)).toEqual([4.5, 4.5, 0.5, -0.5]);
    await s.release();
  });

  it('is deterministic and round-trips through the protobuf decoder', () => {
    const a = serializeModel(affine);
    const b = serializeModel(structuredClone(affine));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const m = decodeModel(a);
    expect(Number(m.irVersion)).toBe(8);
    expect(Number(m.opsetImport[0]!.version)).toBe(13);
    expect(m.graph!.node!.map((n) => n.opType)).toEqual(['MatMul', 'Add']);
    const w = m.graph!.initializer!.find((t) => t.name === 'W')!;
    expect(Array.from(new Float32Array(new Uint8Array(w.rawData!).slice().buffer))).toEqual([1, 0, 0, 1, 1, 1]);
    const dim0 = m.graph!.input![0]!.type!.tensorType!.shape!.dim![0]!;
    expect(dim0.dimParam).toBe('N');
  });

  it('encodes attributes and int64 initializers (Concat, Reshape, Tanh, Clip)', async () => {
    const spec: ModelSpec = {
      graphName: 'mix',
      inputs: [{ name: 'a', shape: ['N', 2] }],
      outputs: [{ name: 'out', shape: ['N', 2, 2] }],
      nodes: [
        node('Tanh', ['a'], ['ta']),
        node('Mul', ['a', 'ten'], ['a10']),
        node('Clip', ['a10', 'lo', 'hi'], ['ca']),
        node('Concat', ['ta', 'ca'], ['cat'], { axis: attr.int(1) }),
        node('Reshape', ['cat', 'shape'], ['out']),
      ],
      initializers: [
        floatTensor('ten', [], [10]),
        floatTensor('lo', [], [-1]),
        floatTensor('hi', [], [1]),
        int64Tensor('shape', [3], [-1, 2, 2]),
      ],
    };
    const s = await ort.InferenceSession.create(serializeModel(spec), { executionProviders: ['cpu'] });
    const out = await s.run({ a: new ort.Tensor('float32', new Float32Array([0, 0.05]), [1, 2]) });
    const y = out['out']!;
    expect(y.dims).toEqual([1, 2, 2]);
    const d = Array.from(y.data as Float32Array);
    expect(d[0]).toBeCloseTo(0, 6);
    expect(d[1]).toBeCloseTo(Math.tanh(0.05), 6);
    expect(d[2]).toBeCloseTo(0, 6);
    expect(d[3]).toBeCloseTo(0.5, 6);
    const decoded = decodeModel(serializeModel(spec));
    const concat = decoded.graph!.node!.find((n) => n.opType === 'Concat')!;
    expect(concat.attribute![0]!.name).toBe('axis');
    expect(Number(concat.attribute![0]!.i)).toBe(1);
    await s.release();
  });

  it('rejects an initializer whose data does not fit its dims', () => {
    expect(() => serializeModel({ ...affine, initializers: [floatTensor('W', [3, 2], [1, 2, 3])] })).toThrow(/need 6 values, got 3/);
    expect(() => serializeModel({ ...affine, initializers: [int64Tensor('s', [1], [0.5])] })).toThrow(/not an integer/);
  });
});
