/** Base class: every error tailguard raises on purpose says what went wrong and where. */
export class TailguardError extends Error {
  override name = 'TailguardError';
}

/** A model directory, hub id or ONNX graph that cannot be used. */
export class ModelLoadError extends TailguardError {
  override name = 'ModelLoadError';
  constructor(
    readonly model: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${model}: ${message}`, options);
  }
}

/** An execution provider that was asked for but cannot run here. */
export class DeviceUnavailableError extends TailguardError {
  override name = 'DeviceUnavailableError';
}

/** A corpus that cannot be opened at all (as opposed to one bad row, which is reported and skipped). */
export class CorpusOpenError extends TailguardError {
  override name = 'CorpusOpenError';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
  }
}

/** An output directory whose state does not allow the requested run (e.g. a resume with other options). */
export class RunStateError extends TailguardError {
  override name = 'RunStateError';
  constructor(
    readonly outDir: string,
    message: string,
  ) {
    super(`${outDir}: ${message}`);
  }
}

/** An id that more than one row carries where rows are joined by id, so the join cannot tell which row is meant. */
export class DuplicateIdError extends TailguardError {
  override name = 'DuplicateIdError';
  constructor(
    readonly file: string,
    readonly id: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** Bad command-line or API options. */
export class UsageError extends TailguardError {
  override name = 'UsageError';
}

/** A run stopped on request (SIGINT/SIGTERM or an AbortSignal) after making its progress durable. */
export class InterruptedError extends TailguardError {
  override name = 'InterruptedError';
  constructor(
    readonly outDir: string,
    readonly rowsDone: number,
  ) {
    super(
      `interrupted after ${rowsDone} input rows; progress is saved in ${outDir}: run the same command again to resume`,
    );
  }
}

/** A sharded score directory read or merged before every shard finished. */
export class ShardsIncompleteError extends TailguardError {
  override name = 'ShardsIncompleteError';
  constructor(
    readonly dir: string,
    readonly notDone: number[],
    readonly count: number,
  ) {
    super(
      `${dir}: shard${notDone.length > 1 ? 's' : ''} ${notDone.length > 20 ? `${notDone.slice(0, 20).join(', ')}, …` : notDone.join(', ')} of ${count} ${notDone.length > 1 ? 'are' : 'is'} not done (${notDone.length} in all): score them first (\`tailguard status\` prints the array to rerun)`,
    );
  }
}

/** A row of an input file that cannot be read where every row must be (a JSON line, a field): names file and line. */
export class InputError extends TailguardError {
  override name = 'InputError';
  constructor(
    readonly file: string,
    readonly line: number | null,
    message: string,
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: ${message}`);
  }
}
