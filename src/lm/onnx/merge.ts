/**
 * Puts a second model's graph beside the first one's, in one graph, so that one session runs both on the same
 * inputs and statistics that need both models' distributions at once (Binoculars' cross-perplexity) are reduced
 * in the runtime, never in JS.
 *
 * Contract: every name the second graph defines (node outputs, initializers, its own inputs, value infos, names
 * inside subgraphs) gets `prefix`; the inputs named in `shared` are the first graph's (added to it when only the
 * second has them). External-data locations of the second graph are prefixed too, so the caller can hand both
 * models' weight files to the runtime under distinct keys. Both graphs must import the same operator-set versions
 * for every domain they share: a node's meaning depends on it. Model-local functions are kept (merged by name).
 */
import { ModelLoadError } from '../../errors.js';
import { onnx, type IGraphProto, type IModelProto, type INodeProto } from '../../onnx/proto.js';

export interface MergeOptions {
  prefix: string;
  /** Graph inputs both models read (input_ids, attention_mask, position_ids). */
  shared: ReadonlySet<string>;
  /** Names for error messages. */
  mainName: string;
  otherName: string;
}

type IFunctionProto = NonNullable<IModelProto['functions']>[number];

/** Renames in the second graph: old name → merged name (shared inputs map to themselves). */
export type NameMap = ReadonlyMap<string, string>;

function definedNames(graph: IGraphProto, into: Set<string>): void {
  for (const t of graph.initializer ?? []) if (t.name) into.add(t.name);
  for (const v of [...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])])
    if (v.name) into.add(v.name);
  for (const n of graph.node ?? []) {
    for (const o of n.output ?? []) if (o) into.add(o);
    for (const a of n.attribute ?? []) {
      if (a.g) definedNames(a.g, into);
      for (const g of a.graphs ?? []) definedNames(g, into);
    }
  }
}

function renameGraph(graph: IGraphProto, rename: (name: string) => string, prefix: string): void {
  for (const t of graph.initializer ?? []) {
    t.name = rename(t.name ?? '');
    for (const e of t.externalData ?? []) if (e.key === 'location' && e.value) e.value = `${prefix}${e.value}`;
  }
  for (const v of [...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])])
    v.name = rename(v.name ?? '');
  for (const n of graph.node ?? []) renameNode(n, rename, prefix);
}

function renameNode(n: INodeProto, rename: (name: string) => string, prefix: string): void {
  n.input = (n.input ?? []).map((i) => (i === '' ? i : rename(i)));
  n.output = (n.output ?? []).map((o) => (o === '' ? o : rename(o)));
  if (n.name) n.name = `${prefix}${n.name}`;
  for (const a of n.attribute ?? []) {
    if (a.g) renameGraph(a.g, rename, prefix);
    for (const g of a.graphs ?? []) renameGraph(g, rename, prefix);
  }
}

function opsetVersions(model: IModelProto): Map<string, number> {
  return new Map(
    (model.opsetImport ?? []).map((o) => [o.domain === 'ai.onnx' ? '' : (o.domain ?? ''), Number(o.version ?? 0)]),
  );
}

/**
 * Adds `other`'s graph to `main`'s (in place) and returns how `other`'s names were renamed. `main`'s outputs are
 * kept; `other`'s outputs are not added (the caller declares what it needs from the returned names).
 */
export function mergeModelInto(main: IModelProto, other: IModelProto, opts: MergeOptions): NameMap {
  const g = main.graph;
  const h = other.graph;
  if (!g || !h) throw new ModelLoadError(g ? opts.otherName : opts.mainName, 'ONNX file has no graph');
  const mainOps = opsetVersions(main);
  for (const [domain, version] of opsetVersions(other)) {
    const mine = mainOps.get(domain);
    if (mine !== undefined && mine !== version) {
      throw new ModelLoadError(
        opts.otherName,
        `imports operator set ${domain || 'ai.onnx'} version ${version}, ${opts.mainName} version ${mine}: two models run in one graph must use the same versions (re-export one of them)`,
      );
    }
    if (mine === undefined) main.opsetImport = [...(main.opsetImport ?? []), { domain, version }];
  }
  if (Number(other.irVersion ?? 0) > Number(main.irVersion ?? 0)) main.irVersion = other.irVersion;
  mergeFunctions(main, other, opts);

  const names = new Set<string>();
  definedNames(h, names);
  const otherInputs = new Set((h.input ?? []).map((i) => i.name ?? ''));
  const map = new Map<string, string>();
  for (const n of names) map.set(n, opts.shared.has(n) && otherInputs.has(n) ? n : `${opts.prefix}${n}`);
  const rename = (n: string): string => map.get(n) ?? n;

  const mainInputs = new Set((g.input ?? []).map((i) => i.name ?? ''));
  const sharedOnlyInOther = (h.input ?? []).filter(
    (i) => opts.shared.has(i.name ?? '') && !mainInputs.has(i.name ?? ''),
  );
  const ownInputs = (h.input ?? []).filter((i) => !opts.shared.has(i.name ?? ''));
  renameGraph(h, rename, opts.prefix);

  g.input = [...(g.input ?? []), ...sharedOnlyInOther, ...ownInputs];
  g.initializer = [...(g.initializer ?? []), ...(h.initializer ?? [])];
  g.node = [...(g.node ?? []), ...(h.node ?? [])];
  g.valueInfo = [...(g.valueInfo ?? []), ...(h.valueInfo ?? [])];
  return map;
}

/**
 * Model-local functions see only their own names (weights reach them as inputs), so `other`'s are added unrenamed;
 * a function both models define under one (domain, name) must be the same function.
 */
function mergeFunctions(main: IModelProto, other: IModelProto, opts: MergeOptions): void {
  const key = (f: IFunctionProto): string => `${f.domain ?? ''}.${f.name ?? ''}`;
  const bytes = (f: IFunctionProto): string => Buffer.from(onnx.FunctionProto.encode(f).finish()).toString('base64');
  const mine = new Map((main.functions ?? []).map((f) => [key(f), f]));
  for (const f of other.functions ?? []) {
    const same = mine.get(key(f));
    if (!same) main.functions = [...(main.functions ?? []), f];
    else if (bytes(same) !== bytes(f)) {
      throw new ModelLoadError(
        opts.otherName,
        `defines the function ${key(f)} unlike ${opts.mainName} does: two models run in one graph cannot both define it`,
      );
    }
  }
}
