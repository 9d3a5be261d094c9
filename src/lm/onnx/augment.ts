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
 * With an observer model (a second LM of the same tokenizer, merged into the same graph: merge.ts):
 *   tg_xent      [B,T]  -Σ_v p_obs(v) log p(v): the cross-entropy of this model's next-token distribution
 *                       under the observer's, Binoculars' per-token cross-perplexity (Hans et al. 2024); v runs over
 *                       the ids both models have when their (padded) vocabularies differ in size
 * The original outputs (logits, present.*) are dropped so the runtime neither copies them out nor
 * keeps what only they need.
 */
import { ModelLoadError } from '../../errors.js';
import { attr, GraphBuilder } from '../../onnx/graph-builder.js';
import { mergeModelInto } from './merge.js';
import {
  DataType,
  decodeModel,
  defaultOpset,
  encodeModel,
  type IGraphProto,
  type INodeProto,
  type IValueInfoProto,
} from '../../onnx/proto.js';

export const SCORING_INPUTS = { targets: 'tg_targets', embedMask: 'tg_embed_mask' } as const;
export const SCORING_OUTPUTS = {
  logp: 'tg_logp',
  entropy: 'tg_entropy',
  variance: 'tg_var',
  rank: 'tg_rank',
  hiddenSum: 'tg_hidden_sum',
  crossEntropy: 'tg_xent',
} as const;

/** Prefix of every name the observer model's graph brings into a merged graph. */
export const OBSERVER_PREFIX = 'tg_observer/';
const SHARED_INPUTS: ReadonlySet<string> = new Set(['input_ids', 'attention_mask', 'position_ids']);

export interface ObserverGraph {
  bytes: Uint8Array;
  /** For error messages. */
  name: string;
}

/** An external weight file a graph names: the key the graph uses, and the file, relative to that model's graph. */
export interface ExternalDataFile {
  key: string;
  file: string;
  /** Which model's folder `file` is relative to. */
  model: 'main' | 'observer';
}

export interface AugmentedModel {
  bytes: Uint8Array;
  /** Name of the value used as final hidden states. */
  hiddenStateName: string;
  /** External data files the graph's initializers live in (handed to the session in memory). */
  externalDataFiles: ExternalDataFile[];
}

function elemTypeOf(graph: IGraphProto, name: string): number | undefined {
  const all: IValueInfoProto[] = [...(graph.output ?? []), ...(graph.valueInfo ?? []), ...(graph.input ?? [])];
  return all.find((v) => v.name === name)?.type?.tensorType?.elemType ?? undefined;
}

const PASS_THROUGH = new Set(['Cast', 'Identity', 'Reshape', 'Add']);
const PROJECTION = new Set([
  'MatMul',
  'Gemm',
  'MatMulNBits',
  'MatMulInteger',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
]);

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
  throw new ModelLoadError(
    model,
    `cannot find the final projection feeding '${logitsName}' (expected MatMul/Gemm of hidden states and weights)`,
  );
}

function findLogitsOutput(graph: IGraphProto, model: string): string {
  const outs = (graph.output ?? []).map((o) => o.name ?? '');
  const logits = outs.find((n) => n === 'logits') ?? outs.find((n) => /logits/i.test(n));
  if (!logits) throw new ModelLoadError(model, `the ONNX graph has no 'logits' output (outputs: ${outs.join(', ')})`);
  return logits;
}

/** The static size of a logits output's last (vocabulary) axis, when the graph declares one. */
function vocabDim(graph: IGraphProto, logits: string): number | undefined {
  const v = (graph.output ?? []).find((o) => o.name === logits);
  const dims = v?.type?.tensorType?.shape?.dim ?? [];
  const last = dims[dims.length - 1];
  return last?.dimValue !== undefined && last.dimValue !== null && Number(last.dimValue) > 0
    ? Number(last.dimValue)
    : undefined;
}

function externalLocations(graph: IGraphProto): Set<string> {
  const out = new Set<string>();
  for (const t of graph.initializer ?? []) {
    for (const e of t.externalData ?? []) if (e.key === 'location' && e.value) out.add(e.value);
  }
  return out;
}

export function augmentForScoring(onnxBytes: Uint8Array, model: string, observer?: ObserverGraph): AugmentedModel {
  const proto = decodeModel(onnxBytes);
  const graph = proto.graph;
  if (!graph) throw new ModelLoadError(model, 'ONNX file has no graph');
  const externalDataFiles: ExternalDataFile[] = [...externalLocations(graph)].map((f) => ({
    key: f,
    file: f,
    model: 'main',
  }));
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

  if (observer) {
    const other = decodeModel(observer.bytes);
    if (!other.graph) throw new ModelLoadError(observer.name, 'ONNX file has no graph');
    const observerLogits = findLogitsOutput(other.graph, observer.name);
    const observerElem = elemTypeOf(other.graph, observerLogits);
    const mainVocab = vocabDim(graph, logitsName);
    const observerVocab = vocabDim(other.graph, observerLogits);
    for (const f of externalLocations(other.graph))
      externalDataFiles.push({ key: `${OBSERVER_PREFIX}${f}`, file: f, model: 'observer' });
    const names = mergeModelInto(proto, other, {
      prefix: OBSERVER_PREFIX,
      shared: SHARED_INPUTS,
      mainName: model,
      otherName: observer.name,
    });
    const merged = names.get(observerLogits)!;
    let pObserver = b.op('Softmax', [observerElem === undefined || observerElem === F ? merged : b.cast(merged, F)], {
      axis: attr.int(-1),
    });
    let logpCommon = logp;
    if (mainVocab === undefined || mainVocab !== observerVocab) {
      // Models of one tokenizer may pad their embedding tables to different sizes: the ids past the smaller one are
      // no tokens. The sum runs over the common ids, each distribution normalised over its own vocabulary.
      const vocabSize = (x: string): string =>
        b.op('Slice', [b.op('Shape', [x]), b.constInt64([2]), b.constInt64([3])]);
      const end =
        mainVocab !== undefined && observerVocab !== undefined
          ? b.constInt64([Math.min(mainVocab, observerVocab)])
          : b.reduce(
              'ReduceMin',
              b.op('Concat', [vocabSize(logp), vocabSize(pObserver)], { axis: attr.int(0) }),
              [0],
              true,
            );
      const common = (x: string): string => b.op('Slice', [x, b.constInt64([0]), end, b.constInt64([2])]);
      logpCommon = common(logp);
      pObserver = common(pObserver);
    }
    b.op(
      'Neg',
      [b.reduceSum(b.op('Mul', [pObserver, logpCommon]), [2], false)],
      undefined,
      SCORING_OUTPUTS.crossEntropy,
    );
    b.output(SCORING_OUTPUTS.crossEntropy, F, ['batch', 'seq']);
  }

  graph.output = [];
  b.appendTo(graph);
  return { bytes: encodeModel(proto), hiddenStateName: hiddenName, externalDataFiles };
}
