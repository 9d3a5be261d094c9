/**
 * Hugging Face tokenizer files for a llama2.c (sentencepiece BPE) vocabulary, in the form transformers'
 * LlamaConverter produces (legacy Llama tokenizer: Prepend("▁") + Replace(" ", "▁") normalizer, no
 * pre-tokenizer, BPE with byte fallback).
 *
 * Merges: for every piece with id > 258 (not special, not a byte fallback) of length >= 2 codepoints, every split
 * into two pieces that are themselves ordinary vocabulary pieces. They are ranked by the merged piece's score,
 * descending (equal scores: lower piece id first, as a stable sort over the vocab does), and within one piece by
 * (left id, right id) like transformers' SentencePieceExtractor. BPE then always applies the best-ranked adjacent
 * pair, leftmost on ties — llama2.c's run.c encode() picks the adjacent pair whose concatenation has the highest
 * score, leftmost on ties; with distinct scores per piece the two agree. buildLlamaTokenizerJson throws
 * if merged pieces share a score, since then the two tie-breaks (rank vs position) could differ.
 */
import type { Llama2cVocab } from './llama2c-format.js';

export const SPIECE_UNDERLINE = '\u2581';
export const N_SPECIAL = 3; // <unk>, <s>, </s>
export const FIRST_ORDINARY_ID = 259; // after 3 specials + 256 byte fallbacks

export interface LlamaSpecialTokens {
  unk: string;
  bos: string;
  eos: string;
}

export const LLAMA_SPECIALS: LlamaSpecialTokens = { unk: '<unk>', bos: '<s>', eos: '</s>' };

function checkLayout(v: Llama2cVocab): void {
  const expectSpecial = ['<unk>', '\n<s>\n', '\n</s>\n'];
  expectSpecial.forEach((s, i) => {
    if (v.pieces[i] !== s)
      throw new Error(`tokenizer id ${i} is ${JSON.stringify(v.pieces[i])}, expected ${JSON.stringify(s)}`);
  });
  for (let b = 0; b < 256; b++) {
    const want = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
    if (v.pieces[b + N_SPECIAL] !== want)
      throw new Error(`tokenizer id ${b + N_SPECIAL} is ${JSON.stringify(v.pieces[b + N_SPECIAL])}, expected ${want}`);
  }
}

/** HF form of a stored piece: specials by name, spaces as ▁. */
export function hfPiece(v: Llama2cVocab, id: number): string {
  if (id === 0) return LLAMA_SPECIALS.unk;
  if (id === 1) return LLAMA_SPECIALS.bos;
  if (id === 2) return LLAMA_SPECIALS.eos;
  return v.pieces[id]!.replaceAll(' ', SPIECE_UNDERLINE);
}

export function buildMerges(v: Llama2cVocab): [string, string][] {
  const ordinary = new Map<string, number>();
  for (let id = FIRST_ORDINARY_ID; id < v.pieces.length; id++) {
    const p = hfPiece(v, id);
    if (ordinary.has(p))
      throw new Error(`duplicate vocabulary piece ${JSON.stringify(p)} (ids ${ordinary.get(p)} and ${id})`);
    ordinary.set(p, id);
  }
  const entries: { left: number; right: number; merged: number }[] = [];
  const scoreOwner = new Map<number, number>();
  for (let id = FIRST_ORDINARY_ID; id < v.pieces.length; id++) {
    const chars = Array.from(hfPiece(v, id));
    if (chars.length < 2) continue;
    const local: { left: number; right: number; merged: number }[] = [];
    for (let k = 1; k < chars.length; k++) {
      const left = ordinary.get(chars.slice(0, k).join(''));
      const right = ordinary.get(chars.slice(k).join(''));
      if (left !== undefined && right !== undefined) local.push({ left, right, merged: id });
    }
    if (local.length === 0) continue;
    const s = v.scores[id]!;
    const prev = scoreOwner.get(s);
    if (prev !== undefined) {
      throw new Error(
        `pieces ${prev} and ${id} share the score ${s}: merge ranks could not reproduce llama2.c's leftmost tie-break`,
      );
    }
    scoreOwner.set(s, id);
    local.sort((a, b) => a.left - b.left || a.right - b.right);
    entries.push(...local);
  }
  // Stable: equal scores keep vocab order (can't happen after the check above, but keep it deterministic).
  entries.sort((a, b) => v.scores[b.merged]! - v.scores[a.merged]! || a.merged - b.merged);
  return entries.map((e) => [hfPiece(v, e.left), hfPiece(v, e.right)]);
}

export function buildLlamaTokenizerJson(v: Llama2cVocab): Record<string, unknown> {
  checkLayout(v);
  const vocab: Record<string, number> = {};
  for (let id = 0; id < v.pieces.length; id++) {
    const p = hfPiece(v, id);
    if (p in vocab) throw new Error(`duplicate vocabulary piece ${JSON.stringify(p)}`);
    vocab[p] = id;
  }
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const bos = LLAMA_SPECIALS.bos;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, LLAMA_SPECIALS.unk), special(1, bos), special(2, LLAMA_SPECIALS.eos)],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: SPIECE_UNDERLINE },
        { type: 'Replace', pattern: { String: ' ' }, content: SPIECE_UNDERLINE },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: bos, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: bos, type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { [bos]: { id: bos, ids: [1], tokens: [bos] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: SPIECE_UNDERLINE }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: LLAMA_SPECIALS.unk,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: buildMerges(v),
    },
  };
}

export function buildLlamaTokenizerConfig(modelMaxLength: number): Record<string, unknown> {
  const dec = (content: string) => ({
    content,
    lstrip: false,
    normalized: false,
    rstrip: false,
    single_word: false,
    special: true,
  });
  return {
    add_bos_token: true,
    add_eos_token: false,
    add_prefix_space: null,
    added_tokens_decoder: { '0': dec(LLAMA_SPECIALS.unk), '1': dec(LLAMA_SPECIALS.bos), '2': dec(LLAMA_SPECIALS.eos) },
    bos_token: LLAMA_SPECIALS.bos,
    clean_up_tokenization_spaces: false,
    eos_token: LLAMA_SPECIALS.eos,
    // legacy: true keeps the Prepend/Replace normalizer (always a dummy prefix, as llama2.c's encode does);
    // transformers.js swaps in a Metaspace pre-tokenizer with prepend_scheme "first" when legacy is false.
    legacy: true,
    model_max_length: modelMaxLength,
    pad_token: null,
    padding_side: 'right',
    sp_model_kwargs: {},
    spaces_between_special_tokens: false,
    tokenizer_class: 'LlamaTokenizer',
    unk_token: LLAMA_SPECIALS.unk,
    use_default_system_prompt: false,
  };
}

export function buildLlamaSpecialTokensMap(): Record<string, unknown> {
  const tok = (content: string) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false });
  return { bos_token: tok(LLAMA_SPECIALS.bos), eos_token: tok(LLAMA_SPECIALS.eos), unk_token: tok(LLAMA_SPECIALS.unk) };
}
