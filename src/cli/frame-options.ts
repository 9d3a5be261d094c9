/**
 * How embedding sets are measured, shared by coverage, weights and compare: --metric, and the anchor frame's
 * --no-whiten, --anchor-frame, --frame-method (anchor-frame.ts).
 */
import { Option } from 'commander';
import { DEFAULT_FRAME_METHOD, FRAME_METHODS, type FrameMethod, type FrameRequest } from '../coverage/anchor-frame.js';
import { DISTANCE_METRICS } from '../coverage/vectors.js';

/** --metric (default cosine). */
export function metricOption(): Option {
  return new Option(
    '--metric <metric>',
    'cosine: Euclidean between L2-normalised rows; euclidean: between the rows as given',
  )
    .choices(DISTANCE_METRICS)
    .default('cosine');
}

export interface FrameFlags {
  whiten: boolean;
  anchorFrame?: string;
  frameMethod: FrameMethod;
}

/** The three options, for `.addOption` each; `anchor` names the set the frame is fitted on. */
export function frameOptions(anchor: string): [Option, Option, Option] {
  return [
    new Option(
      '--no-whiten',
      `measure the embeddings as loaded, not in ${anchor}'s frame (what tailguard did before the frame)`,
    ),
    new Option(
      '--anchor-frame <file>',
      `the anchor-frame.json of an earlier run, reused instead of fitting the frame on ${anchor} (later sets measured in the same frame)`,
    ),
    new Option(
      '--frame-method <method>',
      'whiten: ZCA whitening with shrinkage; remove-top: centre and project out the top principal directions',
    )
      .choices(FRAME_METHODS as FrameMethod[])
      .default(DEFAULT_FRAME_METHOD),
  ];
}

export function frameRequest(flags: FrameFlags): FrameRequest {
  return { whiten: flags.whiten, anchorFrame: flags.anchorFrame, frameMethod: flags.frameMethod };
}
