/** The options that choose how a corpus is scored, shared by `score`, `detect` and `calibrate`. */
import { Command, Option } from 'commander';
import { DEFAULT_MODEL } from '../lm/model-dir.js';
import type { ScoringSettings } from '../detect/scored-input.js';
import type { ScoreOptions } from '../score/score-corpus.js';
import { countRows, progressSink, type ProgressSink } from './progress.js';

export interface ScoringFlags {
  model: string;
  onnxFile?: string;
  observerModel?: string;
  observerOnnxFile?: string;
  textField: string;
  idField?: string;
  device: 'auto' | 'cpu' | 'cuda' | 'webgpu';
  cacheDir?: string;
  offline?: boolean;
}

export function addScoringOptions(cmd: Command): Command {
  return cmd
    .option('-m, --model <model>', 'model directory, name of a bundled model, or hub id (owner/name)', DEFAULT_MODEL)
    .option('--onnx-file <path>', 'ONNX graph inside the model directory (default: onnx/model.onnx)')
    .option(
      '--observer-model <model>',
      'a second LM with the same tokenizer (directory, bundled name or hub id), run beside --model to add the Binoculars score; scores use the shorter of the two contexts',
    )
    .option('--observer-onnx-file <path>', "ONNX graph inside the observer's directory (default: onnx/model.onnx)")
    .option('--text-field <name>', 'field holding the text', 'text')
    .option('--id-field <name>', 'field holding the document id (default: the line number)')
    .addOption(
      new Option('--device <device>', 'execution provider; auto = CUDA when installed and a GPU is visible, else CPU')
        .choices(['auto', 'cpu', 'cuda', 'webgpu'])
        .default('auto'),
    )
    .option('--cache-dir <dir>', 'hub model cache (default: $TAILGUARD_CACHE or ~/.cache/tailguard/hub)')
    .option('--offline', 'never download models (also: HF_HUB_OFFLINE=1)');
}

export function scoringSettings(flags: ScoringFlags): ScoringSettings {
  return {
    model: flags.model,
    onnxFile: flags.onnxFile,
    observerModel: flags.observerModel,
    observerOnnxFile: flags.observerOnnxFile,
    textField: flags.textField,
    idField: flags.idField,
    device: flags.device,
    cacheDir: flags.cacheDir,
    offline: flags.offline,
  };
}

/** Progress of a scoring run on stderr (a bar on a terminal, a line every 10 s otherwise; nothing with quiet). */
export function scoringProgress(
  input: string,
  quiet: boolean,
  { wholeInput = true } = {},
): Pick<ScoreOptions, 'onStart' | 'onProgress'> & { sink: ProgressSink } {
  const tty = process.stderr.isTTY === true;
  // Counting rows costs a read of the input: only worth it for the bar's ETA (and wrong for one shard of it).
  const sink = progressSink({
    quiet,
    tty,
    totalRows: tty && !quiet && wholeInput ? countRows(input) : Promise.resolve(undefined),
  });
  return {
    sink,
    onStart: ({ device, fallbackReasons, resumedFrom, model, observer }) => {
      for (const r of fallbackReasons) sink.start(`device ${r}; falling back`);
      const observed = observer ? `, observer ${observer.ref} (${observer.dir})` : '';
      sink.start(
        `scoring ${input} with ${model.ref} (${model.dir})${observed} on ${device}` +
          (resumedFrom ? `, resuming after row ${resumedFrom}` : ''),
      );
    },
    onProgress: (p) => sink.update(p),
  };
}
