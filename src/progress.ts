/**
 * Progress of long library computations (index builds, coverage passes), for a CLI to show on stderr: the stage, how
 * many of its items are done, and how many there are. Called every `PROGRESS_EVERY` items and once at each stage's end.
 */
export type OnProgress = (stage: string, done: number, total: number) => void;

export const PROGRESS_EVERY = 1024;

/** A per-item reporter for one stage: call it with each item's index; it reports every PROGRESS_EVERY items. */
export function stageReporter(onProgress: OnProgress | undefined, stage: string, total: number): (i: number) => void {
  if (!onProgress) return () => undefined;
  onProgress(stage, 0, total);
  return (i) => {
    if ((i + 1) % PROGRESS_EVERY === 0 || i + 1 === total) onProgress(stage, i + 1, total);
  };
}
