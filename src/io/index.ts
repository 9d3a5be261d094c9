/** Corpus input and run output I/O. */
export type { BadRecord, CorpusOptions, DocRecord, InputRecord } from './records.js';
export {
  detectCorpusFormat,
  openCorpus,
  skipRecords,
  SUPPORTED_CORPUS_FORMATS,
  type CorpusFormat,
  type OpenCorpusOptions,
} from './open-corpus.js';
export { readJsonl, readJsonlStream, STDIN_NAME, type JsonlReadOptions } from './read-jsonl.js';
export { readParquet, type ParquetReadOptions } from './read-parquet.js';
export { countFileLines, fileSplit, listCorpusFiles, resolveInputName } from './corpus-files.js';
export { readFiles, type FilesReadOptions } from './read-files.js';
export type { ReadTally } from './read-jsonl.js';
export { listTextFiles, readTextDir, type TextDirReadOptions } from './read-textdir.js';
export { DEFAULT_MAX_LINE_BYTES } from './line-splitter.js';
export { NpyWriter, NPY_HEADER_BYTES, npyHeader, readNpy } from './npy-writer.js';
export { AppendFile, type AppendFileOpenOptions } from './append-file.js';
export { renameIntoPlace, tempPathFor, writeFileAtomic } from './atomic.js';
export {
  jsonlToParquet,
  type JsonlToParquetOptions,
  type JsonlToParquetResult,
  type ParquetColumnType,
} from './parquet-from-jsonl.js';
