/** Messages that cross between the pipeline and its worker threads (structured-clone friendly). */
import type { TextSignals } from '../signals/text-signals.js';

/** Token ids of a chunk's documents, each starting with the document-start token, concatenated. */
export interface TokenizedChunk {
  ids: Int32Array;
  /** Document d is ids[offsets[d] .. offsets[d+1]). */
  offsets: Int32Array;
}

/** What the tokenizer workers return: the tokens, and the model-free text signals computed beside them. */
export interface PreparedChunk extends TokenizedChunk {
  textSignals: TextSignals[];
  /** Aligned with ids: the byte offset in its text where each token ends; -1 throughout a document whose tokens cannot be placed. */
  tokenEnds: Int32Array;
}

/** Per-token values in `ChunkScores.tokenStats`, in this order (aligned with the chunk's ids; 0 for start tokens). */
export const TOKEN_FIELDS = ['logp', 'entropy', 'variance', 'rank'] as const;

/** Number of per-document sums in `ChunkScores.sums`, in this order. */
export const SUM_FIELDS = ['logp', 'entropy', 'logRank', 'variance', 'crossEntropy'] as const;

export interface ChunkScores {
  /** Tokens scored per document (0 when it failed). */
  tokens: Int32Array;
  /** Whether the graph ran an observer model (the crossEntropy sums are meaningful). */
  observer: boolean;
  /** Per document, SUM_FIELDS.length float64 sums over its scored tokens. */
  sums: Float64Array;
  /** Per document, its L2-normalised mean final hidden state (dim floats). */
  embeddings: Float32Array;
  dim: number;
  /** Per document, why it could not be scored (null when it was). */
  failures: (string | null)[];
  /** TOKEN_FIELDS.length floats per token of the chunk's ids. */
  tokenStats: Float32Array;
}

export interface ScoringConfig {
  onnxPath: string;
  modelDir: string;
  /** A second LM of the same tokenizer, for the Binoculars cross-entropy (absent: none). */
  observer?: { onnxPath: string; modelDir: string };
  devices: ('cpu' | 'cuda' | 'webgpu')[];
  /** Intra-op threads per session (0: onnxruntime decides). */
  threads: number;
  maxBatch: number;
  maxTokens: number;
  /** Window stride for documents longer than the context. */
  stride: number;
  /** Context length actually used (≤ the model's). */
  context: number;
}
