/**
 * A small builder for ONNX graph fragments, shared by the LM graphs (lm/onnx: per-token reductions appended to a
 * stock graph), coverage (blocked dot products) and the converters in scripts/. It hides the places where ONNX
 * operators changed signature between opsets (axes as attribute vs input).
 */
import {
  DataType,
  onnx,
  type IAttributeProto,
  type IGraphProto,
  type INodeProto,
  type ITensorProto,
  type IValueInfoProto,
} from './proto.js';

export type Dim = number | string;

type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  ints: (value: number[]): AttrValue => ({ kind: 'ints', value }),
  floats: (value: number[]): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
};

const AttrType = onnx.AttributeProto.AttributeType;

function toAttribute(name: string, a: AttrValue): IAttributeProto {
  switch (a.kind) {
    case 'int':
      return { name, type: AttrType.INT, i: a.value };
    case 'float':
      return { name, type: AttrType.FLOAT, f: a.value };
    case 'ints':
      return { name, type: AttrType.INTS, ints: a.value };
    case 'floats':
      return { name, type: AttrType.FLOATS, floats: a.value };
    case 'string':
      return { name, type: AttrType.STRING, s: new TextEncoder().encode(a.value) };
  }
}

export function valueInfo(name: string, elemType: number, dims: Dim[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export function floatTensor(name: string, data: Float32Array, dims: number[]): ITensorProto {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { name, dataType: DataType.FLOAT, dims, rawData: new Uint8Array(bytes) };
}

export function int64Tensor(name: string, data: number[], dims: number[]): ITensorProto {
  const arr = BigInt64Array.from(data.map((v) => BigInt(v)));
  return { name, dataType: DataType.INT64, dims, rawData: new Uint8Array(arr.buffer) };
}

export class GraphBuilder {
  readonly nodes: INodeProto[] = [];
  readonly initializers: ITensorProto[] = [];
  readonly inputs: IValueInfoProto[] = [];
  readonly outputs: IValueInfoProto[] = [];
  private counter = 0;

  /** @param opset version of the default operator set the graph imports. @param prefix for generated names. */
  constructor(
    readonly opset: number,
    readonly prefix = '',
  ) {}

  fresh(base: string): string {
    return `${this.prefix}${base}_${this.counter++}`;
  }

  input(name: string, elemType: number, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares an existing value as a graph output. */
  output(name: string, elemType: number, dims: Dim[]): string {
    this.outputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  initFloat(name: string, data: Float32Array, dims: number[]): string {
    this.initializers.push(floatTensor(name, data, dims));
    return name;
  }

  initInt64(name: string, data: number[], dims: number[]): string {
    this.initializers.push(int64Tensor(name, data, dims));
    return name;
  }

  constInt64(values: number[]): string {
    return this.initInt64(this.fresh('const_i64'), values, [values.length]);
  }

  /** A float32 scalar constant (rank 0, broadcasts). */
  constFloat(value: number): string {
    return this.initFloat(this.fresh('const_f32'), Float32Array.of(value), []);
  }

  /** Adds a node; returns its output names (`outputs` new names are generated when a count is given). */
  node(
    opType: string,
    inputs: string[],
    opts: { attrs?: Record<string, AttrValue>; outputs?: number | string[]; domain?: string } = {},
  ): string[] {
    const outputs = Array.isArray(opts.outputs)
      ? opts.outputs
      : Array.from({ length: opts.outputs ?? 1 }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({
      opType,
      name: this.fresh(`${opType}_node`),
      input: inputs,
      output: outputs,
      domain: opts.domain ?? '',
      attribute: Object.entries(opts.attrs ?? {}).map(([k, v]) => toAttribute(k, v)),
    });
    return outputs;
  }

  /** Single-output node. `out` names the output explicitly. */
  op(opType: string, inputs: string[], attrs?: Record<string, AttrValue>, out?: string): string {
    const [o] = this.node(opType, inputs, { attrs, outputs: out ? [out] : 1 });
    return o!;
  }

  unsqueeze(x: string, axes: number[], out?: string): string {
    return this.opset >= 13
      ? this.op('Unsqueeze', [x, this.constInt64(axes)], undefined, out)
      : this.op('Unsqueeze', [x], { axes: attr.ints(axes) }, out);
  }

  squeeze(x: string, axes: number[], out?: string): string {
    return this.opset >= 13
      ? this.op('Squeeze', [x, this.constInt64(axes)], undefined, out)
      : this.op('Squeeze', [x], { axes: attr.ints(axes) }, out);
  }

  reduceSum(x: string, axes: number[], keepdims: boolean, out?: string): string {
    return this.opset >= 13
      ? this.op('ReduceSum', [x, this.constInt64(axes)], { keepdims: attr.int(keepdims ? 1 : 0) }, out)
      : this.op('ReduceSum', [x], { axes: attr.ints(axes), keepdims: attr.int(keepdims ? 1 : 0) }, out);
  }

  /** ReduceMean (and ReduceMax etc.) took axes as an input only from opset 18. */
  reduce(
    opType: 'ReduceMean' | 'ReduceMax' | 'ReduceMin',
    x: string,
    axes: number[],
    keepdims: boolean,
    out?: string,
  ): string {
    return this.opset >= 18
      ? this.op(opType, [x, this.constInt64(axes)], { keepdims: attr.int(keepdims ? 1 : 0) }, out)
      : this.op(opType, [x], { axes: attr.ints(axes), keepdims: attr.int(keepdims ? 1 : 0) }, out);
  }

  cast(x: string, to: number, out?: string): string {
    return this.op('Cast', [x], { to: attr.int(to) }, out);
  }

  /** Appends everything built so far to an existing graph. */
  appendTo(graph: IGraphProto): void {
    graph.node = [...(graph.node ?? []), ...this.nodes];
    graph.initializer = [...(graph.initializer ?? []), ...this.initializers];
    graph.input = [...(graph.input ?? []), ...this.inputs];
    graph.output = [...(graph.output ?? []), ...this.outputs];
  }

  /** A complete graph from what was built. */
  toGraph(name: string): IGraphProto {
    return { name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs };
  }
}
