/**
 * Domain-aware calibration. Likelihood signals change sign between domains (a rewrite of a casual review reads as
 * less likely than the review; a continuation of a news story as more likely), so one pooled detector averages
 * them away. `calibrateByDomain` fits the pooled detector on every row and, for each domain with at least
 * `minPerClass` human and machine examples, a detector of its own with its own threshold at the target FPR.
 * A domain whose humans are too few to certify that FPR (metrics.minHumanForFpr) gets no threshold of its own:
 * it stays on the pooled detector, and the file says why. `routeDetector` picks a row's detector.
 */
import { UsageError } from '../errors.js';
import { calibrateDetector, type CalibrateOptions, type DetectorFile, type DetectorSpec, type DomainDetectors } from './detector.js';
import type { ScoreRow } from './features.js';
import { minHumanForFpr } from './metrics.js';

export const DEFAULT_MIN_PER_CLASS = 50;
export const POOLED = 'pooled';

export interface DomainCalibrateOptions extends Omit<CalibrateOptions, 'humanDomains' | 'syntheticDomains'> {
  field: string;
  humanDomains: (string | undefined)[];
  syntheticDomains: (string | undefined)[];
  minPerClass?: number;
}

const MISSING = '(none)';

export function calibrateByDomain(human: ScoreRow[], synthetic: ScoreRow[], opts: DomainCalibrateOptions): DetectorFile {
  const minPerClass = opts.minPerClass ?? DEFAULT_MIN_PER_CLASS;
  if (!(Number.isInteger(minPerClass) && minPerClass >= 2)) throw new UsageError(`--min-per-class must be an integer ≥ 2 (got ${minPerClass})`);
  const hd = opts.humanDomains.map((d) => d ?? MISSING);
  const sd = opts.syntheticDomains.map((d) => d ?? MISSING);
  const pooled = calibrateDetector(human, synthetic, { ...opts, humanDomains: hd, syntheticDomains: sd });
  const domains: DomainDetectors = { field: opts.field, min_per_class: minPerClass, detectors: {}, pooled: {} };
  const need = minHumanForFpr(opts.targetFpr);
  for (const d of [...new Set([...hd, ...sd])].sort()) {
    const h = human.filter((_, i) => hd[i] === d);
    const s = synthetic.filter((_, i) => sd[i] === d);
    if (d === MISSING) {
      domains.pooled[d] = 'rows without a domain value';
    } else if (h.length < minPerClass || s.length < minPerClass) {
      domains.pooled[d] = `${h.length} human and ${s.length} machine examples; a detector of its own needs ${minPerClass} of each`;
    } else if (h.length < need) {
      domains.pooled[d] = `${h.length} human examples cannot certify a ${opts.targetFpr * 100}% false-positive rate (need ${need}); raise --fpr or add human examples`;
    } else {
      const own = calibrateDetector(h, s, { ...opts, humanDomains: undefined, syntheticDomains: undefined });
      domains.detectors[d] = { detector: own.detector, reference: own.reference ?? {}, calibration: own.calibration };
    }
  }
  return { ...pooled, domains };
}

/** The detector for a row of domain `domain` (undefined: the row has none), and its name for the output. */
export function routeDetector(file: DetectorFile, domain: string | undefined): { spec: DetectorSpec; name: string; seen: boolean } {
  const own = domain !== undefined ? file.domains?.detectors[domain] : undefined;
  if (own) return { spec: own.detector, name: `domain:${domain}`, seen: true };
  const seen = domain !== undefined && file.domains !== undefined && (domain in file.domains.pooled);
  return { spec: file.detector, name: POOLED, seen };
}
