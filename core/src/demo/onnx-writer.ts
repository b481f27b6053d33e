/**
 * A tiny ONNX model builder: describe a graph in TypeScript, get the serialized bytes.
 *
 * Operators are plain `op_type` strings (MatMul, Add, Mul, Sub, Tanh, Reshape, Clip, Concat, ...);
 * nothing here knows their semantics. Output is deterministic: the same spec always gives the
 * same bytes (float initializers are stored as little-endian `raw_data`).
 */
import onnxProto from 'onnx-proto';

const onnx = onnxProto.onnx;

export type ElemType = 'float' | 'int64';

/** A graph input/output. Dimensions are numbers (fixed) or strings (symbolic, e.g. `'N'`). */
export interface ValueSpec {
  name: string;
  shape: (number | string)[];
  /** Default `'float'`. */
  type?: ElemType;
}

/** A constant tensor stored in the graph (an initializer). */
export interface TensorSpec {
  name: string;
  dims: number[];
  data: ArrayLike<number>;
  /** Default `'float'`. */
  type?: ElemType;
}

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

/** Attribute constructors, so int and float attributes cannot be confused. */
export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  ints: (value: number[]): AttrValue => ({ kind: 'ints', value }),
  floats: (value: number[]): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
};

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Default: `<op>_<index>`. */
  name?: string;
  attrs?: Record<string, AttrValue>;
  /** Default: the standard ONNX domain. */
  domain?: string;
}

export interface ModelSpec {
  graphName: string;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: TensorSpec[];
  /** Default 13. */
  opset?: number;
  /** Default 8. */
  irVersion?: number;
  /** Default `'switchyard'`. */
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** `metadata_props`; written in key order so bytes stay deterministic. */
  metadata?: Record<string, string>;
}

/** Shorthand for a node. */
export function node(op: string, inputs: string[], outputs: string[], attrs?: Record<string, AttrValue>): NodeSpec {
  return attrs === undefined ? { op, inputs, outputs } : { op, inputs, outputs, attrs };
}

/** Shorthand for a float initializer. */
export function floatTensor(name: string, dims: number[], data: ArrayLike<number>): TensorSpec {
  return { name, dims, data, type: 'float' };
}

/** Shorthand for an int64 initializer (shapes for Reshape, axes, ...). */
export function int64Tensor(name: string, dims: number[], data: ArrayLike<number>): TensorSpec {
  return { name, dims, data, type: 'int64' };
}

const DataType = onnx.TensorProto.DataType;
const AttributeType = onnx.AttributeProto.AttributeType;

function elemTypeCode(t: ElemType | undefined): number {
  return t === 'int64' ? DataType.INT64 : DataType.FLOAT;
}

function tensorProto(t: TensorSpec): onnxProto.onnx.ITensorProto {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) {
    throw new Error(`initializer '${t.name}': dims [${t.dims.join(', ')}] need ${count} values, got ${t.data.length}`);
  }
  let raw: Uint8Array;
  if (t.type === 'int64') {
    const buf = new ArrayBuffer(count * 8);
    const view = new DataView(buf);
    for (let i = 0; i < count; i++) {
      const v = t.data[i] as number;
      if (!Number.isSafeInteger(v)) throw new Error(`initializer '${t.name}': ${v} is not an integer`);
      view.setBigInt64(i * 8, BigInt(v), true);
    }
    raw = new Uint8Array(buf);
  } else {
    const buf = new ArrayBuffer(count * 4);
    const view = new DataView(buf);
    for (let i = 0; i < count; i++) view.setFloat32(i * 4, t.data[i] as number, true);
    raw = new Uint8Array(buf);
  }
  return { name: t.name, dims: t.dims.slice(), dataType: elemTypeCode(t.type), rawData: raw };
}

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: elemTypeCode(v.type),
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attributeProto(name: string, a: AttrValue): onnxProto.onnx.IAttributeProto {
  switch (a.kind) {
    case 'int':
      return { name, type: AttributeType.INT, i: a.value };
    case 'float':
      return { name, type: AttributeType.FLOAT, f: a.value };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: a.value.slice() };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: a.value.slice() };
    case 'string':
      return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.value) };
  }
}

/** Build the ModelProto message (for inspection); `serializeModel` gives the bytes. */
export function buildModel(spec: ModelSpec): onnxProto.onnx.ModelProto {
  const nodes = spec.nodes.map((n, i): onnxProto.onnx.INodeProto => {
    const attrs = n.attrs === undefined ? [] : Object.keys(n.attrs).sort().map((k) => attributeProto(k, n.attrs![k]!));
    return {
      name: n.name ?? `${n.op}_${i}`,
      opType: n.op,
      input: n.inputs.slice(),
      output: n.outputs.slice(),
      attribute: attrs,
      ...(n.domain !== undefined ? { domain: n.domain } : {}),
    };
  });
  const metadata = spec.metadata ?? {};
  const model: onnxProto.onnx.IModelProto = {
    irVersion: spec.irVersion ?? 8,
    producerName: spec.producerName ?? 'switchyard',
    producerVersion: spec.producerVersion ?? '0.1.0',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: spec.graphName,
      node: nodes,
      initializer: (spec.initializers ?? []).map(tensorProto),
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
    },
    metadataProps: Object.keys(metadata)
      .sort()
      .map((key) => ({ key, value: metadata[key]! })),
    ...(spec.docString !== undefined ? { docString: spec.docString } : {}),
  };
  const err = onnx.ModelProto.verify(model);
  if (err !== null) throw new Error(`invalid ONNX model '${spec.graphName}': ${err}`);
  return onnx.ModelProto.create(model);
}

/** Serialize a model spec to ONNX protobuf bytes. */
export function serializeModel(spec: ModelSpec): Uint8Array {
  return onnx.ModelProto.encode(buildModel(spec)).finish();
}

/** Decode ONNX bytes (tests and tooling use this to look inside a model). */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
