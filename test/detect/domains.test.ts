/**
 * Domain-aware calibration (#6): a ranking of its own (partial pooling) for every domain with enough examples, its
 * own threshold where its humans certify the FPR (else the common one, with a warning), the pooled fallback for thin
 * domains, routing, and the drift warning, on rows whose likelihood signal flips sign by domain.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyDetector, detectorScore } from '../../src/detect/detector.js';
import { calibrateByDomain, routeDetector } from '../../src/detect/domains.js';
import { DriftMeter } from '../../src/detect/drift.js';
import type { ScoreRow } from '../../src/detect/features.js';
import { auroc } from '../../src/detect/metrics.js';
import { domainRows, writeScoreDir } from './fake-scores.js';
import { runCli } from '../helpers/cli.js';

function build() {
  const parts = [
    ['news', 320, 300],
    ['flip', 320, 300],
    ['thin', 29, 30],
    ['midsize', 100, 100],
  ] as const;
  const human: ScoreRow[] = [];
  const synthetic: ScoreRow[] = [];
  const hd: string[] = [];
  const sd: string[] = [];
  parts.forEach(([d, nh, ns], k) => {
    human.push(...domainRows(d, nh, false, 10 + k));
    hd.push(...Array<string>(nh).fill(d));
    synthetic.push(...domainRows(d, ns, true, 20 + k));
    sd.push(...Array<string>(ns).fill(d));
  });
  return { human, synthetic, hd, sd };
}

describe('calibrateByDomain', () => {
  const { human, synthetic, hd, sd } = build();
  const det = calibrateByDomain(human, synthetic, {
    targetFpr: 0.01,
    model: 'fake',
    field: 'domain',
    humanDomains: hd,
    syntheticDomains: sd,
  });

  it('gives every domain with 30 examples of each class a ranking of its own; thinner ones fall back to the pooled one, saying why', () => {
    expect(Object.keys(det.domains!.detectors).sort()).toEqual(['flip', 'midsize', 'news']);
    expect(det.domains!.min_per_class).toBe(30);
    expect(Object.keys(det.domains!.pooled)).toEqual(['thin']);
    expect(det.domains!.pooled.thin).toBe('29 human and 30 machine examples; a ranking of its own needs 30 of each');
    for (const d of ['news', 'flip']) {
      // 320 humans certify a 1% FPR (299 needed): the domain's own threshold, its own out-of-fold FPR within the target.
      const own = det.domains!.detectors[d]!;
      expect(own.threshold_source).toBe('domain');
      expect(own.warning).toBeUndefined();
      expect(own.calibration.n_human).toBe(320);
      expect(own.calibration.n_synthetic).toBe(300);
      expect(own.calibration.stats.threshold_fpr).toBeLessThanOrEqual(0.01);
      expect(own.fpr_estimate!.value).toBe(own.calibration.stats.threshold_fpr);
      expect(own.calibration.stats.tpr_at_1pct_fpr_ci.lo).toBeLessThanOrEqual(own.calibration.stats.tpr_at_1pct_fpr);
      expect(own.calibration.stats.tpr_at_1pct_fpr_ci.hi).toBeGreaterThanOrEqual(own.calibration.stats.tpr_at_1pct_fpr);
    }
    // 100 humans cannot certify 1%: the common threshold, its FPR estimated with an interval, and a warning.
    const mid = det.domains!.detectors.midsize!;
    expect(mid.threshold_source).toBe('common');
    expect(mid.detector.threshold).toBeCloseTo(
      mid.scale!.location + mid.scale!.spread * det.domains!.pooling!.common_threshold,
      10,
    );
    expect(mid.fpr_estimate!.n_human).toBe(100);
    expect(mid.fpr_estimate!.ci.lo).toBeLessThanOrEqual(mid.fpr_estimate!.value);
    expect(mid.fpr_estimate!.ci.hi).toBeGreaterThan(mid.fpr_estimate!.value);
    expect(mid.warning).toMatch(
      /^domain 'midsize': 100 human examples cannot certify a 1% false-positive rate \(need 299\); it uses the common threshold, at which its estimated FPR is /,
    );
    expect(det.domains!.warnings).toEqual([mid.warning]);
  });

  it('per-domain detectors beat the pooled one where the likelihood signal flips sign', () => {
    for (const d of ['news', 'flip']) {
      const h = domainRows(d, 200, false, 90);
      const m = domainRows(d, 200, true, 91);
      const labels = [...h.map(() => 0 as const), ...m.map(() => 1 as const)];
      const own = auroc(
        [...h, ...m].map((r) => detectorScore(det.domains!.detectors[d]!.detector, r)),
        labels,
      );
      const pooled = auroc(
        [...h, ...m].map((r) => detectorScore(det.detector, r)),
        labels,
      );
      expect(own).toBeGreaterThan(0.9);
      expect(own).toBeGreaterThan(pooled);
    }
  });

  it('routes by domain: own detector, pooled for thin domains (seen) and for unseen ones', () => {
    expect(routeDetector(det, 'flip')).toMatchObject({ name: 'domain:flip', seen: true });
    expect(routeDetector(det, 'midsize')).toMatchObject({ name: 'domain:midsize', seen: true });
    expect(routeDetector(det, 'thin')).toMatchObject({ name: 'pooled', seen: true });
    expect(routeDetector(det, 'yelp')).toMatchObject({ name: 'pooled', seen: false });
    expect(routeDetector(det, undefined)).toMatchObject({ name: 'pooled', seen: false });
    const row = domainRows('flip', 1, true, 5)[0]!;
    expect(applyDetector(routeDetector(det, 'flip').spec, row).score).toBe(
      detectorScore(det.domains!.detectors.flip!.detector, row),
    );
  });
});

describe('DriftMeter', () => {
  it('no drift on a sample of the calibration distribution; a 2-sd shift in one signal is flagged', () => {
    const { human, synthetic, hd, sd } = build();
    const det = calibrateByDomain(human, synthetic, {
      targetFpr: 0.05,
      model: 'fake',
      field: 'domain',
      humanDomains: hd,
      syntheticDomains: sd,
    });
    const ref = det.domains!.detectors.news!.reference;
    const same = new DriftMeter(ref);
    [...domainRows('news', 150, false, 70), ...domainRows('news', 140, true, 71)].forEach((r) => same.add(r));
    expect(same.report().drifting).toEqual([]);
    const shifted = new DriftMeter(ref);
    const sdNll = ref.mean_nll!.sd;
    domainRows('news', 200, false, 72).forEach((r) => shifted.add({ ...r, mean_nll: r.mean_nll + 2 * sdNll }));
    const rep = shifted.report();
    expect(rep.drifting).toContain('mean_nll');
    expect(rep.smd.mean_nll).toBeGreaterThan(1.5);
    expect(rep.psi.mean_nll).toBeGreaterThan(0.25);
  });
});

describe('calibrate --domain-field → detect: routing, per-row detector, warnings', () => {
  it('each row names its detector; an unseen domain and a drifting one are warned about, even with --quiet', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-domains-'));
    const { human, synthetic, hd, sd } = build();
    // Score directories whose corpus (named in run.json) carries the domain field.
    const withCorpus = (name: string, rows: ScoreRow[], domains: string[]) => {
      const numbered = rows.map((r, i) => ({ ...r, line: i + 1 }));
      writeFileSync(
        join(dir, `${name}.jsonl`),
        numbered.map((r, i) => JSON.stringify({ id: r.id, domain: domains[i], text: 'x' })).join('\n') + '\n',
      );
      return writeScoreDir(join(dir, name), numbered, { input: join(dir, `${name}.jsonl`) });
    };
    withCorpus('h', human, hd);
    withCorpus('s', synthetic, sd);
    const cal = runCli([
      'calibrate',
      '--human',
      join(dir, 'h'),
      '--synthetic',
      join(dir, 's'),
      '--out',
      join(dir, 'det.json'),
      '--domain-field',
      'domain',
    ]);
    expect(cal.status, cal.stderr).toBe(0);
    expect(cal.stdout).toMatch(
      /rankings of their own \(domain field domain, at least 30 examples of each class\): partial pooling, deviation penalty /,
    );
    expect(cal.stdout).toMatch(/\n  midsize +100\/100 .* common +/);
    expect(cal.stdout).toMatch(
      /\n  thin: pooled detector \(29 human and 30 machine examples; a ranking of its own needs 30 of each\)/,
    );
    // The uncertified threshold is warned about on stderr.
    expect(cal.stderr).toMatch(/WARNING: domain 'midsize': 100 human examples cannot certify a 1% false-positive rate/);

    const input = [
      ...domainRows('news', 40, false, 80),
      ...domainRows('news', 40, true, 81),
      ...domainRows('flip', 40, false, 82).map((r) => ({ ...r, mean_nll: r.mean_nll + 3 })), // drifted
      ...domainRows('yelp', 30, false, 83),
      ...domainRows('midsize', 25, false, 84),
    ];
    const domains = [
      ...Array<string>(80).fill('news'),
      ...Array<string>(40).fill('flip'),
      ...Array<string>(30).fill('yelp'),
      ...Array<string>(25).fill('midsize'),
    ];
    withCorpus('in', input, domains);
    const r = runCli([
      'detect',
      join(dir, 'in'),
      '--detector',
      join(dir, 'det.json'),
      '--out',
      join(dir, 'out'),
      '--quiet',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /WARNING: domain 'yelp' \(30 rows\) was never seen in calibration: scored by the pooled detector/,
    );
    expect(r.stderr).toMatch(
      /WARNING: domain 'flip' \(40 rows\) drifts from what its detector \(domain:flip\) was calibrated on: .*mean_nll/,
    );
    expect(r.stderr).toMatch(
      /WARNING: domain 'midsize' \(25 rows\) uses the common threshold, which its 100 calibration humans cannot certify \(estimated FPR \d+\.\d%, 95% CI \d+\.\d–\d+\.\d%\)/,
    );
    expect(r.stderr).not.toMatch(/domain 'news'/);
    const rows = readFileSync(join(dir, 'out', 'detections.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.slice(0, 80).every((x) => x.detector === 'domain:news' && x.domain === 'news')).toBe(true);
    expect(rows.slice(120, 150).every((x) => x.detector === 'pooled')).toBe(true);
    expect(rows.slice(150).every((x) => x.detector === 'domain:midsize')).toBe(true);
    const summary = JSON.parse(r.stdout);
    expect(summary.domains.yelp).toMatchObject({ rows: 30, detector: 'pooled', seen_in_calibration: false });
    expect(summary.warnings).toHaveLength(3);
  });
});
