/**
 * Appends tailguard's per-token reductions to a causal LM's ONNX graph, so that logits never leave the
 * runtime. Copying B×T×V floats into JS and reducing them there halves CPU throughput and would be the
 * whole bottleneck on a GPU; after augmentation only a few numbers per token (and one vector per row)
 * cross into JS.
 *
 * Added inputs:
 *   tg_targets    int64 [B,T]  the token observed after each position (anything where not scored)
 *   tg_embed_mask float [B,T]  1 where the position's hidden state counts towards the document embedding
 * Added outputs (all float32):
 *   tg_logp      [B,T]  log p(target)
 *   tg_entropy   [B,T]  H = -Σ p log p   (so E[log p] = -H; not output twice)
 *   tg_var       [B,T]  Var[log p] = Σ p (log p - E[log p])²
 *   tg_rank      [B,T]  1 + #{tokens strictly more probable than the target}
 *   tg_hidden_sum[B,D]  Σ_t mask[t] · h[t], h = the input of the final logits projection
 * The original outputs (logits, present.*) are dropped so the runtime neither copies them out nor
 * keeps what only they need.
 */
import { ModelLoadError } from '../../errors.js';
import { attr, GraphBuilder } from './graph-builder.js';
import { DataType, decodeModel, defaultOpset, encodeModel, type IGraphProto, type INodeProto, type IValueInfoProto } from './proto.js';

export const SCORING_INPUTS = { targets: 'tg_targets', embedMask: 'tg_embed_mask' } as const;
export const SCORING_OUTPUTS = {
  logp: 'tg_logp',
  entropy: 'tg_entropy',
  variance: 'tg_var',
  rank: 'tg_rank',
  hiddenSum: 'tg_hidden_sum',
} as const;

export interface AugmentedModel {
  bytes: Uint8Array;
  /** Name of the value used as final hidden states. */
  hiddenStateName: string;
  /** External data files the graph's initializers live in (handed to the session in memory), relative to the graph. */
  externalDataFiles: string[];
}

function elemTypeOf(graph: IGraphProto, name: string): number | undefined {
  const all: IValueInfoProto[] = [...(graph.output ?? []), ...(graph.valueInfo ?? []), ...(graph.input ?? [])];
  return all.find((v) => v.name === name)?.type?.tensorType?.elemType ?? undefined;
}

const PASS_THROUGH = new Set(['Cast', 'Identity', 'Reshape', 'Add']);
const PROJECTION = new Set(['MatMul', 'Gemm', 'MatMulNBits', 'MatMulInteger', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat']);

/**
 * The value feeding the final logits projection: walk back from `logits` through casts/reshapes/bias
 * adds to the MatMul/Gemm whose non-constant input is the hidden state.
 */
export function findFinalHiddenState(graph: IGraphProto, logitsName: string, model: string): string {
  const producer = new Map<string, INodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const constants = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  for (const n of graph.node ?? []) if (n.opType === 'Constant') for (const o of n.output ?? []) constants.add(o);
  const isConstantPath = (name: string): boolean => {
    // Weights reach the projection directly or through a Transpose/Cast/DequantizeLinear of a constant.
    let cur = name;
    for (let i = 0; i < 4; i++) {
      if (constants.has(cur)) return true;
      const p = producer.get(cur);
      if (!p || !['Transpose', 'Cast', 'DequantizeLinear', 'Identity'].includes(p.opType ?? '')) return false;
      cur = p.input?.[0] ?? '';
    }
    return false;
  };
  let cur = logitsName;
  for (let depth = 0; depth < 8; depth++) {
    const node = producer.get(cur);
    if (!node) break;
    const inputs = (node.input ?? []).filter((i) => i !== '');
    if (PROJECTION.has(node.opType ?? '')) {
      const hidden = inputs.find((i) => !isConstantPath(i));
      if (hidden) return hidden;
      break;
    }
    if (!PASS_THROUGH.has(node.opType ?? '')) break;
    const next = inputs.find((i) => !isConstantPath(i));
    if (!next) break;
    cur = next;
  }
  throw new ModelLoadError(model, `cannot find the final projection feeding '${logitsName}' (expected MatMul/Gemm of hidden states and weights)`);
}

function findLogitsOutput(graph: IGraphProto, model: string): string {
  const outs = (graph.output ?? []).map((o) => o.name ?? '');
  const logits = outs.find((n) => n === 'logits') ?? outs.find((n) => /logits/i.test(n));
  if (!logits) throw new ModelLoadError(model, `the ONNX graph has no 'logits' output (outputs: ${outs.join(', ')})`);
  return logits;
}

export function augmentForScoring(onnxBytes: Uint8Array, model: string): AugmentedModel {
  const proto = decodeModel(onnxBytes);
  const graph = proto.graph;
  if (!graph) throw new ModelLoadError(model, 'ONNX file has no graph');
  const opset = defaultOpset(proto);
  if (opset < 11) throw new ModelLoadError(model, `opset ${opset} is too old (need 11 or newer)`);
  if ((graph.input ?? []).some((i) => i.name === SCORING_INPUTS.targets)) {
    throw new ModelLoadError(model, 'graph is already augmented (has tg_targets input)');
  }

  const logitsName = findLogitsOutput(graph, model);
  const hiddenName = findFinalHiddenState(graph, logitsName, model);
  const b = new GraphBuilder(opset, 'tg/');
  const F = DataType.FLOAT;

  const asFloat = (name: string): string => {
    const t = elemTypeOf(graph, name);
    return t === undefined || t === F ? name : b.cast(name, F);
  };
  const logits = asFloat(logitsName);
  const hidden = asFloat(hiddenName);

  b.input(SCORING_INPUTS.targets, DataType.INT64, ['batch', 'seq']);
  b.input(SCORING_INPUTS.embedMask, F, ['batch', 'seq']);

  const logp = b.op('LogSoftmax', [logits], { axis: attr.int(-1) });
  const target = b.unsqueeze(SCORING_INPUTS.targets, [2]);
  const logpTarget = b.op('GatherElements', [logp, target], { axis: attr.int(2) }); // [B,T,1]
  b.squeeze(logpTarget, [2], SCORING_OUTPUTS.logp);

  const p = b.op('Exp', [logp]);
  const expectedLogp = b.reduceSum(b.op('Mul', [p, logp]), [2], true); // [B,T,1] = -H
  b.op('Neg', [b.squeeze(expectedLogp, [2])], undefined, SCORING_OUTPUTS.entropy);
  const centred = b.op('Sub', [logp, expectedLogp]);
  b.reduceSum(b.op('Mul', [p, b.op('Mul', [centred, centred])]), [2], false, SCORING_OUTPUTS.variance);

  const moreLikely = b.cast(b.op('Greater', [logp, logpTarget]), F);
  b.op('Add', [b.reduceSum(moreLikely, [2], false), b.constFloat(1)], undefined, SCORING_OUTPUTS.rank);

  const mask = b.unsqueeze(SCORING_INPUTS.embedMask, [2]);
  b.reduceSum(b.op('Mul', [hidden, mask]), [1], false, SCORING_OUTPUTS.hiddenSum);

  for (const name of [SCORING_OUTPUTS.logp, SCORING_OUTPUTS.entropy, SCORING_OUTPUTS.variance, SCORING_OUTPUTS.rank]) {
    b.output(name, F, ['batch', 'seq']);
  }
  b.output(SCORING_OUTPUTS.hiddenSum, F, ['batch', 'hidden']);

  graph.output = [];
  b.appendTo(graph);

  const externalDataFiles = new Set<string>();
  for (const t of graph.initializer ?? []) {
    for (const e of t.externalData ?? []) if (e.key === 'location' && e.value) externalDataFiles.add(e.value);
  }
  return { bytes: encodeModel(proto), hiddenStateName: hiddenName, externalDataFiles: [...externalDataFiles] };
}
